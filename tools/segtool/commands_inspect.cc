// ls and show: what is in a repository and in one run, read from listings
// and summaries only (no points are decoded for committed runs).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/run_id.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/text_table.h"
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

int Ls(const LsArgs& args, const Env& env, std::ostream& out,
       std::ostream& err) {
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  RunFilter filter;
  filter.experiment = args.experiment;
  filter.tag = args.tag;
  filter.disk_usage = true;
  absl::StatusOr<std::vector<RunRecord>> runs = (*repo)->ListRuns(filter);
  if (!runs.ok()) {
    PrintError(err, runs.status());
    return kExitProblem;
  }
  std::vector<const RunRecord*> shown;
  for (const RunRecord& r : *runs) {
    if (args.state && RunStateName(r.state) != *args.state) continue;
    if (args.status && StatusText(r) != *args.status) continue;
    shown.push_back(&r);
  }
  if (args.json) {
    Value::List list;
    for (const RunRecord* r : shown) list.push_back(RunRecordValue(*r, false));
    out << ToJson(Value(std::move(list)), /*pretty=*/true) << '\n';
  } else {
    TextTable t({"ID", "STATE", "STATUS", "EXPERIMENT", "NAME", "CREATED",
                 "SERIES", "POINTS", "SIZE"});
    for (size_t c = 6; c < 9; ++c) t.SetAlign(c, TextTable::Align::kRight);
    for (const RunRecord* r : shown) {
      t.AddRow({r->id, std::string(RunStateName(r->state)), StatusText(*r),
                SingleLine(r->summary.experiment), SingleLine(r->summary.name),
                FormatTimeSeconds(r->summary.created),
                absl::StrCat(r->summary.series.size()),
                absl::StrCat(PointCount(*r)),
                FormatBytes(r->bytes_on_disk.value_or(0))});
    }
    t.Print(out);
  }
  // Listing goes on past a damaged run, but the damage is a problem found.
  int code = kExitOk;
  for (const RunRecord* r : shown) {
    if (!r->error.ok()) {
      PrintRunError(err, r->id, r->error);
      code = kExitProblem;
    }
  }
  return code;
}

int Show(const ShowArgs& args, const Env& env, std::ostream& out,
         std::ostream& err) {
  if (absl::Status s = storage::ValidateRunId(args.run); !s.ok()) {
    PrintRunError(err, args.run, s);
    return kExitProblem;
  }
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
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
