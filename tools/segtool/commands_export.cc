// export: every point of the chosen runs as CSV or JSON Lines, written one
// run at a time so memory stays bounded by the largest run.
#include <cmath>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "interop/csv/context_text.h"
#include "storage/file_system.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/progress_bar.h"
#include "tracking/value_json.h"

namespace runlog::segtool {
namespace {

constexpr char kCsvHeader[] = "run,series,context,kind,step,epoch,time,value\n";

struct PointValue {
  std::string csv;
  Value json;
};

PointValue ToPoint(double v) { return {FormatExact(v), Value(v)}; }
PointValue ToPoint(const std::string& s) { return {s, Value(s)}; }
PointValue ToPoint(const Histogram& h) {
  Value v = HistogramValue(h);
  return {ToJson(v), std::move(v)};
}
PointValue ToPoint(const Blob& b) { return {DescribeBlob(b), BlobValue(b)}; }

template <typename T>
void WritePoints(ExportFormat format, const std::string& run,
                 const SeriesSummary& series, const SeriesColumns<T>& cols,
                 std::ostream& out) {
  // Escaped (interop/csv/context_text.h) so `segtool import csv` splits it
  // back whatever the keys and values hold.
  const std::string context = interop::FormatContextText(series.key.context);
  const absl::string_view kind = SeriesKindName(series.kind);
  for (size_t i = 0; i < cols.size(); ++i) {
    PointValue v = ToPoint(cols.values[i]);
    const double epoch = cols.epochs[i];
    if (format == ExportFormat::kCsv) {
      out << run << ',' << CsvField(series.key.name) << ',' << CsvField(context)
          << ',' << kind << ',' << cols.steps[i] << ','
          << (std::isnan(epoch) ? "" : FormatExact(epoch)) << ','
          << FormatTimeMicros(cols.times_us[i]) << ',' << CsvField(v.csv)
          << '\n';
    } else {
      Value::Map p;
      p["type"] = Value("point");
      p["run"] = Value(run);
      p["series"] = Value(series.key.name);
      p["context"] = ContextValue(series.key.context);
      p["kind"] = Value(kind);
      p["step"] = Value(cols.steps[i]);
      p["epoch"] = std::isnan(epoch) ? Value() : Value(epoch);
      p["time"] = Value(FormatTimeMicros(cols.times_us[i]));
      p["value"] = std::move(v.json);
      out << ToJson(Value(std::move(p))) << '\n';
    }
  }
}

// Writes one run: its metadata line (JSONL) and every point of every series.
absl::Status ExportRun(Repo& repo, const std::string& id, ExportFormat format,
                       std::ostream& out) {
  absl::StatusOr<std::unique_ptr<RunView>> view = repo.OpenRun(id);
  if (!view.ok()) return view.status();
  if (!(*view)->record().error.ok()) return (*view)->record().error;
  if (format == ExportFormat::kJsonl) {
    Value meta = RunRecordValue((*view)->record(), /*full=*/false);
    meta.mutable_map()->emplace("type", Value("run"));
    meta.mutable_map()->emplace("params", (*view)->record().summary.params);
    out << ToJson(meta) << '\n';
  }
  // One pass over the run's files for all its series (RunView::ReadAll),
  // in the order of series(): one read per series would rescan the run for
  // each.
  return (*view)->ReadAll([&](const SeriesSummary& s, SeriesPoints&& points) {
    switch (s.kind) {
      case SeriesKind::kScalar:
        WritePoints(format, id, s, points.scalars, out);
        break;
      case SeriesKind::kText:
        WritePoints(format, id, s, points.texts, out);
        break;
      case SeriesKind::kHistogram:
        WritePoints(format, id, s, points.histograms, out);
        break;
      case SeriesKind::kBlob:
        WritePoints(format, id, s, points.blobs, out);
        break;
    }
    return absl::OkStatus();
  });
}

}  // namespace

int Export(const ExportArgs& args, const Env& env, std::ostream& out,
           std::ostream& err) {
  if (!CheckArgs(args.repo, args.runs, err)) return kExitUsage;
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  // An unknown or ambiguous id among good ones fails the export before a
  // byte is written: no output file, no partial stream.
  if (failed) return kExitProblem;

  // With --output, bytes go to a temporary sibling renamed over the target
  // at the end: readers never see a half-written export.
  storage::FileSystem* fs = env.fs ? env.fs : storage::FileSystem::Default();
  std::unique_ptr<storage::WritableFile> file;
  std::string tmp;
  if (!args.output.empty()) {
    absl::BitGen gen;
    tmp = absl::StrCat(args.output, ".tmp.", absl::Uniform<uint32_t>(gen));
    absl::StatusOr<std::unique_ptr<storage::WritableFile>> f =
        fs->NewWritableFile(tmp);
    if (!f.ok()) {
      err << "segtool: --output " << QuoteArg(args.output) << ": "
          << SingleLine(f.status().message()) << '\n';
      return kExitProblem;
    }
    file = *std::move(f);
  }
  auto emit = [&](const std::string& bytes) -> absl::Status {
    if (file) return file->Append(bytes);
    out << bytes;
    return absl::OkStatus();
  };
  auto abandon_output = [&](const absl::Status& s) {
    err << "segtool: --output " << QuoteArg(args.output) << ": "
        << SingleLine(s.message()) << '\n';
    file.reset();
    fs->RemoveFile(tmp).IgnoreError();
    return kExitProblem;
  };

  if (args.format == ExportFormat::kCsv) {
    if (absl::Status s = emit(kCsvHeader); !s.ok()) return abandon_output(s);
  }
  ProgressBar progress(err, env.progress, "export", ids.size(), "runs",
                       env.clock);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    progress.Update(i);
    std::ostringstream buffer;
    absl::Status s = ExportRun(*repo, id, args.format, buffer);
    if (!s.ok()) {
      // The run's partial output is dropped: an export holds whole runs.
      progress.Clear();
      PrintRunError(err, id, s);
      failed = true;
      continue;
    }
    if (absl::Status w = emit(buffer.str()); !w.ok()) return abandon_output(w);
  }
  progress.Clear();
  if (file && failed) {
    // A run that could not be read whole (already reported) fails the
    // export: no file that silently lacks it.
    file.reset();
    fs->RemoveFile(tmp).IgnoreError();
    return kExitProblem;
  }
  if (file) {
    absl::Status s = file->Close();
    if (s.ok()) s = fs->Rename(tmp, args.output);
    if (!s.ok()) return abandon_output(s);
  }
  return failed ? kExitProblem : kExitOk;
}

}  // namespace runlog::segtool
