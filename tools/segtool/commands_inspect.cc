// ls and show: what is in a repository and in one run, read from listings
// and summaries only (no points are decoded for committed runs).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/run_id.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/run_table.h"
#include "tools/segtool/text_table.h"
#include "tracking/query/fields.h"
#include "tracking/query/query.h"
#include "tracking/value_json.h"

namespace runlog::segtool {
namespace {

// Params as an indented tree: maps open a level, everything else (lists
// included) is printed as compact JSON after its key.
void PrintParams(const Value& v, int depth, std::ostream& out) {
  for (const auto& [key, child] : v.as_map()) {
    out << std::string(2 * depth, ' ') << SingleLine(key) << ':';
    if (child.is_map() && !child.as_map().empty()) {
      out << '\n';
      PrintParams(child, depth + 1, out);
    } else {
      out << ' ' << SingleLine(ToJson(child)) << '\n';
    }
  }
}

void PrintSeriesTable(const std::vector<SeriesSummary>& series,
                      std::ostream& out) {
  TextTable t({"SERIES", "CONTEXT", "KIND", "COUNT", "FIRST STEP", "LAST STEP",
               "MIN", "MAX", "LAST"});
  for (size_t c = 3; c < 9; ++c) t.SetAlign(c, TextTable::Align::kRight);
  for (const SeriesSummary& s : series) {
    const bool scalar = s.kind == SeriesKind::kScalar;
    t.AddRow({SingleLine(s.key.name), SingleLine(ContextString(s.key.context)),
              std::string(SeriesKindName(s.kind)), absl::StrCat(s.count),
              s.count ? absl::StrCat(s.first_step) : "-",
              s.count ? absl::StrCat(s.last_step) : "-",
              scalar ? FormatShort(s.min) : "-",
              scalar ? FormatShort(s.max) : "-",
              scalar ? FormatShort(s.last) : "-"});
  }
  t.Print(out);
}

}  // namespace

namespace {

// "FIELD[:desc|:asc]" as an order_by key; InvalidArgument naming --sort.
absl::StatusOr<std::string> SortKey(const std::string& arg) {
  const size_t colon = arg.rfind(':');
  if (colon != std::string::npos) {
    const std::string dir = absl::AsciiStrToLower(arg.substr(colon + 1));
    if (dir == "desc" || dir == "asc") {
      return absl::StrCat(arg.substr(0, colon), " ", dir);
    }
    if (arg.find_first_of("[{'\"`", 0) == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--sort ", QuoteArg(arg),
                       ": the direction after ':' "
                       "is desc or asc"));
    }
  }
  return arg;
}

}  // namespace

int Ls(const LsArgs& args, const Env& env, std::ostream& out,
       std::ostream& err) {
  if (!CheckArgs(args.repo, {}, err)) return kExitUsage;
  RunFilter filter;
  filter.experiment = args.experiment;
  filter.tag = args.tag;
  filter.where = args.where;
  filter.offset = args.offset;
  filter.limit = args.limit;
  for (const std::string& s : args.sort) {
    absl::StatusOr<std::string> key = SortKey(s);
    if (!key.ok()) {
      PrintError(err, key.status());
      return kExitUsage;
    }
    filter.order_by.push_back(*std::move(key));
  }
  std::optional<std::vector<query::Field>> columns;
  if (args.columns) {
    absl::StatusOr<std::vector<query::Field>> c = ParseColumns(*args.columns);
    if (!c.ok()) {
      PrintError(err, c.status());
      return kExitUsage;
    }
    columns = *std::move(c);
  }
  // Measuring sizes stats every file of every run; only when a column, the
  // filter or a sort key reads attributes.size.
  absl::StatusOr<query::RunQuery> q =
      query::RunQuery::Compile(filter.where, filter.order_by);
  if (!q.ok()) {
    PrintError(err, q.status());
    return kExitUsage;
  }
  filter.disk_usage = q->uses_size();
  if (columns) {
    for (const query::Field& f : *columns) {
      if (query::IsSizeField(f)) filter.disk_usage = true;
    }
  }
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  absl::StatusOr<std::vector<RunRecord>> listed = (*repo)->ListRuns(filter);
  if (!listed.ok()) {
    PrintError(err, listed.status());
    return absl::IsInvalidArgument(listed.status()) ? kExitUsage : kExitProblem;
  }
  std::vector<RunRecord> shown;
  for (RunRecord& r : *listed) {
    if (args.state && RunStateName(r.state) != *args.state) continue;
    if (args.status && StatusText(r) != *args.status) continue;
    shown.push_back(std::move(r));
  }
  const absl::Time now = env.clock ? env.clock->Now() : absl::Now();
  const bool explicit_columns = columns.has_value();
  if (!columns) columns = DefaultColumns(shown);

  if (args.json) {
    Value::List list;
    for (const RunRecord& r : shown) {
      Value v = RunRecordValue(r, false);
      if (!r.bytes_on_disk) v.mutable_map()->erase("bytes_on_disk");
      Value::Map cols;
      for (const query::Field& f : *columns) {
        cols[f.text] = query::FieldValue(f, r, now).value_or(Value());
      }
      (*v.mutable_map())["columns"] = Value(std::move(cols));
      list.push_back(std::move(v));
    }
    out << ToJson(Value(std::move(list)), /*pretty=*/true) << '\n';
  } else if (args.csv) {
    std::vector<std::string> header = {"id"};
    if (!explicit_columns) {
      for (const char* h :
           {"state", "status", "experiment", "name", "created"}) {
        header.push_back(h);
      }
    }
    for (const query::Field& f : *columns) header.push_back(CsvField(f.text));
    out << absl::StrJoin(header, ",") << '\n';
    for (const RunRecord& r : shown) {
      std::vector<std::string> row = {r.id};
      if (!explicit_columns) {
        row.push_back(std::string(RunStateName(r.state)));
        row.push_back(StatusText(r));
        row.push_back(CsvField(r.summary.experiment));
        row.push_back(CsvField(r.summary.name));
        row.push_back(FormatTimeJson(r.summary.created));
      }
      for (const query::Field& f : *columns) {
        row.push_back(CsvCell(query::FieldValue(f, r, now)));
      }
      out << absl::StrJoin(row, ",") << '\n';
    }
  } else {
    std::vector<std::string> fixed;
    if (explicit_columns) {
      fixed = {"ID"};
    } else {
      fixed = {"ID", "STATE", "STATUS", "EXPERIMENT", "NAME", "CREATED"};
    }
    std::vector<std::vector<std::string>> cells(shown.size());
    for (size_t i = 0; i < shown.size(); ++i) {
      const RunRecord& r = shown[i];
      cells[i].push_back(r.id);
      if (!explicit_columns) {
        cells[i].push_back(std::string(RunStateName(r.state)));
        cells[i].push_back(StatusText(r));
        cells[i].push_back(SingleLine(r.summary.experiment));
        cells[i].push_back(SingleLine(r.summary.name));
        cells[i].push_back(FormatTimeSeconds(r.summary.created));
      }
    }
    // Width of the fixed part, then as many extra columns as fit.
    auto width_of = [&](size_t col, const std::string& header) {
      size_t w = DisplayWidth(header);
      for (const auto& row : cells) w = std::max(w, DisplayWidth(row[col]));
      return w;
    };
    size_t used = 0;
    for (size_t c = 0; c < fixed.size(); ++c) {
      used += (c ? 2 : 0) + width_of(c, fixed[c]);
    }
    std::vector<std::string> headers = fixed;
    size_t dropped = 0;
    for (const query::Field& f : *columns) {
      const size_t col = headers.size();
      for (size_t i = 0; i < shown.size(); ++i) {
        cells[i].push_back(CellText(query::FieldValue(f, shown[i], now)));
      }
      const size_t w = 2 + width_of(col, f.text);
      if (!explicit_columns && env.terminal_width > 0 &&
          used + w > env.terminal_width) {
        for (auto& row : cells) row.pop_back();
        ++dropped;
        continue;
      }
      used += w;
      headers.push_back(f.text);
    }
    TextTable t(headers);
    // Numbers line up on the right; text stays on the left.
    for (size_t c = fixed.size(); c < headers.size(); ++c) {
      bool numeric = true;
      for (const auto& row : cells) {
        double unused;
        if (row[c] != "-" && !absl::SimpleAtod(row[c], &unused)) {
          numeric = false;
        }
      }
      if (numeric) t.SetAlign(c, TextTable::Align::kRight);
    }
    for (auto& row : cells) t.AddRow(std::move(row));
    t.Print(out);
    if (dropped > 0) {
      err << "segtool: " << dropped << " more column"
          << (dropped == 1 ? "" : "s") << " did not fit in "
          << env.terminal_width
          << " characters; name them with --columns, or use --json or --csv\n";
    }
  }
  // Listing goes on past a damaged run, but the damage is a problem found.
  int code = kExitOk;
  for (const RunRecord& r : shown) {
    if (!r.error.ok()) {
      PrintRunError(err, r.id, r.error);
      code = kExitProblem;
    }
  }
  return code;
}

int Show(const ShowArgs& given, const Env& env, std::ostream& out,
         std::ostream& err) {
  ShowArgs args = given;
  if (!CheckArgs(args.repo, {args.run}, err)) return kExitUsage;
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  if (!ResolveRun(**repo, &args.run, err)) return kExitProblem;
  absl::StatusOr<RunRecord> rec = (*repo)->GetRun(args.run);
  if (!rec.ok()) {
    PrintRunError(err, args.run, rec.status());
    return kExitProblem;
  }
  const RunRecord& r = *rec;
  // A run whose COMMIT cannot be read has nothing trustworthy to show.
  if (!r.error.ok() && r.state == storage::RunState::kCommitted) {
    PrintRunError(err, r.id, r.error);
    return kExitProblem;
  }
  if (args.json) {
    out << ToJson(RunRecordValue(r, /*full=*/true), /*pretty=*/true) << '\n';
  } else {
    const RunSummary& sum = r.summary;
    TextTable meta({"run", r.id});
    meta.AddRow({"experiment", SingleLine(sum.experiment)});
    meta.AddRow({"name", SingleLine(sum.name)});
    if (!sum.description.empty()) {
      meta.AddRow({"description", SingleLine(sum.description)});
    }
    meta.AddRow({"state", std::string(RunStateName(r.state))});
    meta.AddRow({"status", StatusText(r)});
    if (!r.failure_reason.empty()) {
      meta.AddRow({"failure", SingleLine(r.failure_reason)});
    }
    if (!r.detail.empty()) meta.AddRow({"detail", SingleLine(r.detail)});
    meta.AddRow({"created", FormatTimeSeconds(sum.created)});
    meta.AddRow({"ended", FormatTimeSeconds(r.ended)});
    const uint64_t size = r.bytes_on_disk.value_or(0);
    meta.AddRow(
        {"size", absl::StrCat(FormatBytes(size), " (", size, " bytes)")});
    meta.AddRow({"tags", sum.tags.empty()
                             ? "-"
                             : SingleLine(absl::StrJoin(sum.tags, ", "))});
    meta.Print(out);
    out << '\n';
    if (sum.params.is_map() && !sum.params.as_map().empty()) {
      out << "params:\n";
      PrintParams(sum.params, 1, out);
    } else {
      out << "params: none\n";
    }
    out << '\n';
    if (sum.series.empty()) {
      out << "series: none\n";
    } else {
      PrintSeriesTable(sum.series, out);
    }
  }
  if (!r.error.ok()) {
    PrintRunError(err, r.id, r.error);
    return kExitProblem;
  }
  return kExitOk;
}

}  // namespace runlog::segtool
