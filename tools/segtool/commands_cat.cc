// cat: the points of one series, as aligned text, CSV or JSON.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/text_table.h"
#include "tracking/query/suggest.h"
#include "tracking/value_json.h"

namespace runlog::segtool {
namespace {

// One point's value in the three output shapes.
struct Cell {
  std::string text;  // for tables
  std::string csv;   // unquoted CSV field text
  Value json;
};

Cell ScalarCell(double v) { return {FormatExact(v), FormatExact(v), Value(v)}; }
Cell TextCell(const std::string& s) { return {SingleLine(s), s, Value(s)}; }
Cell HistogramCell(const Histogram& h) {
  Value v = HistogramValue(h);
  return {DescribeHistogram(h), ToJson(v), std::move(v)};
}
Cell BlobCell(const Blob& b) {
  return {DescribeBlob(b), DescribeBlob(b), BlobValue(b)};
}

template <typename T, typename ToCell>
void PrintColumns(const CatArgs& args, const std::string& run_id,
                  const SeriesColumns<T>& cols, SeriesKind kind, ToCell to_cell,
                  std::ostream& out) {
  switch (args.format) {
    case CatFormat::kText: {
      TextTable t({"STEP", "EPOCH", "TIME", "VALUE"});
      t.SetAlign(0, TextTable::Align::kRight);
      t.SetAlign(1, TextTable::Align::kRight);
      if (kind == SeriesKind::kScalar) t.SetAlign(3, TextTable::Align::kRight);
      for (size_t i = 0; i < cols.size(); ++i) {
        t.AddRow({absl::StrCat(cols.steps[i]), FormatEpoch(cols.epochs[i]),
                  FormatTimeMicros(cols.times_us[i]),
                  to_cell(cols.values[i]).text});
      }
      t.Print(out);
      break;
    }
    case CatFormat::kCsv:
      out << "step,epoch,time,value\n";
      for (size_t i = 0; i < cols.size(); ++i) {
        const double e = cols.epochs[i];
        out << cols.steps[i] << ',' << (std::isnan(e) ? "" : FormatExact(e))
            << ',' << FormatTimeMicros(cols.times_us[i]) << ','
            << CsvField(to_cell(cols.values[i]).csv) << '\n';
      }
      break;
    case CatFormat::kJson: {
      Value::List points;
      points.reserve(cols.size());
      for (size_t i = 0; i < cols.size(); ++i) {
        Value::Map p;
        p["step"] = Value(cols.steps[i]);
        p["epoch"] =
            std::isnan(cols.epochs[i]) ? Value() : Value(cols.epochs[i]);
        p["time"] = Value(FormatTimeMicros(cols.times_us[i]));
        p["value"] = to_cell(cols.values[i]).json;
        points.push_back(Value(std::move(p)));
      }
      Value::Map doc;
      doc["run"] = Value(run_id);
      doc["series"] = Value(args.series.name);
      doc["context"] = ContextValue(args.series.context);
      doc["kind"] = Value(SeriesKindName(kind));
      doc["points"] = Value(std::move(points));
      out << ToJson(Value(std::move(doc))) << '\n';
      break;
    }
  }
}

// NotFound naming the series and, to help with a forgotten --context, the
// contexts under which the run does have that name.
absl::Status NoSuchSeries(const RunView& view, const SeriesKey& key) {
  std::vector<std::string> same_name;
  for (const SeriesSummary& s : view.series()) {
    if (s.key.name == key.name) same_name.push_back(s.key.ToString());
  }
  std::string msg =
      absl::StrCat("run ", view.id(), " has no series ", key.ToString());
  if (!same_name.empty()) {
    absl::StrAppend(&msg, " (it has ", absl::StrJoin(same_name, ", "), ")");
    return absl::NotFoundError(msg);
  }
  std::vector<std::string> names;
  for (const SeriesSummary& s : view.series()) names.push_back(s.key.name);
  const std::string pick = query::ClosestMatch(key.name, names);
  if (!pick.empty()) absl::StrAppend(&msg, " (did you mean '", pick, "'?)");
  return absl::NotFoundError(msg);
}

}  // namespace

int Cat(const CatArgs& given, const Env& env, std::ostream& out,
        std::ostream& err) {
  CatArgs args = given;
  if (!CheckArgs(args.repo, {args.run}, err)) return kExitUsage;
  if (args.max_points && *args.max_points < 2) {
    err << "segtool: --max-points " << *args.max_points
        << ": must be at least 2\n";
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  if (!ResolveRun(**repo, &args.run, err)) return kExitProblem;
  absl::StatusOr<std::unique_ptr<RunView>> view = (*repo)->OpenRun(args.run);
  if (!view.ok()) {
    PrintRunError(err, args.run, view.status());
    return kExitProblem;
  }
  const RunView& v = **view;
  auto it = std::find_if(
      v.series().begin(), v.series().end(),
      [&](const SeriesSummary& s) { return s.key == args.series; });
  if (it == v.series().end()) {
    PrintRunError(err, args.run, NoSuchSeries(v, args.series));
    return kExitProblem;
  }
  const SeriesKind kind = it->kind;
  if (args.max_points && kind != SeriesKind::kScalar) {
    err << "segtool: --max-points applies to scalar series only; "
        << QuoteArg(args.series.ToString()) << " holds " << SeriesKindName(kind)
        << " values\n";
    return kExitUsage;
  }
  absl::Status status;
  switch (kind) {
    case SeriesKind::kScalar: {
      absl::StatusOr<ScalarColumns> c =
          args.max_points
              ? (*view)->ReadScalarsDownsampled(
                    args.series, static_cast<size_t>(*args.max_points),
                    args.steps)
              : (*view)->ReadScalars(args.series, args.steps);
      status = c.status();
      if (c.ok()) PrintColumns(args, v.id(), *c, kind, ScalarCell, out);
      break;
    }
    case SeriesKind::kText: {
      absl::StatusOr<TextColumns> c =
          (*view)->ReadTexts(args.series, args.steps);
      status = c.status();
      if (c.ok()) PrintColumns(args, v.id(), *c, kind, TextCell, out);
      break;
    }
    case SeriesKind::kHistogram: {
      absl::StatusOr<HistogramColumns> c =
          (*view)->ReadHistograms(args.series, args.steps);
      status = c.status();
      if (c.ok()) PrintColumns(args, v.id(), *c, kind, HistogramCell, out);
      break;
    }
    case SeriesKind::kBlob: {
      absl::StatusOr<BlobColumns> c =
          (*view)->ReadBlobs(args.series, args.steps);
      status = c.status();
      if (c.ok()) PrintColumns(args, v.id(), *c, kind, BlobCell, out);
      break;
    }
  }
  if (!status.ok()) {
    PrintRunError(err, args.run, status);
    return kExitProblem;
  }
  return kExitOk;
}

}  // namespace runlog::segtool
