// export: every point of the chosen runs as CSV or JSON Lines, written one
// run at a time so memory stays bounded by the largest run.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "interop/csv/context_text.h"
#include "storage/file_system.h"
#include "storage/status_macros.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/output_buffer.h"
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

// Output goes out in pieces of about this size, so an export to a file
// holds one piece, not a whole run; small enough to stay in the core's cache
// between the rows written into it and the write(2) that copies it out.
constexpr size_t kChunkBytes = 128 << 10;

// WriteJsonDouble that keeps the text of the last double it wrote: epochs
// hold one value for thousands of points, and schedules (learning rates)
// repeat values too, so most of them are not formatted again.
class RepeatedDoubleFormatter {
 public:
  // Writes v's text at p (room for kMaxJsonDoubleText bytes); returns its end.
  char* Write(double v, char* p) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    if (have_ && bits == bits_) {
      // A copy of constant size (an inline move): p has room for all of it.
      std::memcpy(p, text_, kMaxJsonDoubleText);
      return p + size_;
    }
    char* end = WriteJsonDouble(v, p);
    size_ = static_cast<size_t>(end - p);
    // All of p's room, a constant size (an inline move, not a call): the
    // bytes past the text are never read back as text.
    std::memcpy(text_, p, kMaxJsonDoubleText);
    bits_ = bits;
    have_ = true;
    return end;
  }

 private:
  bool have_ = false;
  uint64_t bits_ = 0;
  size_t size_ = 0;
  char text_[kMaxJsonDoubleText];
};

template <typename T>
absl::Status WritePoints(ExportFormat format, const std::string& run,
                         const SeriesSummary& series,
                         const SeriesColumns<T>& cols, OutputBuffer* buf) {
  // Escaped (interop/csv/context_text.h) so `segtool import csv` splits it
  // back whatever the keys and values hold.
  const std::string context = interop::FormatContextText(series.key.context);
  const absl::string_view kind = SeriesKindName(series.kind);
  if constexpr (std::is_same_v<T, double>) {
    if (format == ExportFormat::kCsv) {
      // The hot path of a large export: the row's first four fields once per
      // series, numbers appended in place (the same text as FormatExact and
      // FormatTimeMicros, which the other kinds use).
      const std::string prefix =
          absl::StrCat(run, ",", CsvField(series.key.name), ",",
                       CsvField(context), ",", kind, ",");
      TimeMicrosFormatter times;
      RepeatedDoubleFormatter epochs, values;
      // Short prefixes are copied as a constant 64 bytes (an inline move).
      constexpr size_t kPrefixCopy = 64;
      char padded[kPrefixCopy] = {};
      const bool short_prefix = prefix.size() <= kPrefixCopy;
      if (short_prefix) std::memcpy(padded, prefix.data(), prefix.size());
      const size_t max_row =
          std::max(prefix.size(), kPrefixCopy) + 24 + kMaxJsonDoubleText +
          TimeMicrosFormatter::kMaxText + kMaxJsonDoubleText + 4;
      // Rows are written through a raw pointer straight into the buffer,
      // with one room check a row instead of one per field.
      const size_t room = std::max(max_row, size_t{16} << 10);
      char* p = nullptr;
      char* end = nullptr;
      auto grow = [&]() -> absl::Status {
        if (p != nullptr) buf->Commit(p);
        RUNLOG_ASSIGN_OR_RETURN(p, buf->Room(room));
        end = p + room;
        return absl::OkStatus();
      };
      RUNLOG_RETURN_IF_ERROR(grow());
      for (size_t i = 0; i < cols.size(); ++i) {
        if (static_cast<size_t>(end - p) < max_row) {
          RUNLOG_RETURN_IF_ERROR(grow());
        }
        if (short_prefix) {
          std::memcpy(p, padded, kPrefixCopy);
        } else {
          std::memcpy(p, prefix.data(), prefix.size());
        }
        p += prefix.size();
        p = std::to_chars(p, p + 24, cols.steps[i]).ptr;
        *p++ = ',';
        if (!std::isnan(cols.epochs[i])) p = epochs.Write(cols.epochs[i], p);
        *p++ = ',';
        p = times.Write(cols.times_us[i], p);
        *p++ = ',';
        p = values.Write(cols.values[i], p);
        *p++ = '\n';
      }
      buf->Commit(p);
      return absl::OkStatus();
    }
  }
  for (size_t i = 0; i < cols.size(); ++i) {
    PointValue v = ToPoint(cols.values[i]);
    const double epoch = cols.epochs[i];
    if (format == ExportFormat::kCsv) {
      RUNLOG_RETURN_IF_ERROR(buf->Append(absl::StrCat(
          run, ",", CsvField(series.key.name), ",", CsvField(context), ",",
          kind, ",", cols.steps[i], ",",
          std::isnan(epoch) ? "" : FormatExact(epoch), ",",
          FormatTimeMicros(cols.times_us[i]), ",", CsvField(v.csv), "\n")));
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
      RUNLOG_RETURN_IF_ERROR(
          buf->Append(absl::StrCat(ToJson(Value(std::move(p))), "\n")));
    }
  }
  return absl::OkStatus();
}

// Writes one run: its metadata line (JSONL) and every point of every series,
// into *buf.
absl::Status ExportRun(Repo& repo, const std::string& id, ExportFormat format,
                       OutputBuffer* buf) {
  absl::StatusOr<std::unique_ptr<RunView>> view = repo.OpenRun(id);
  if (!view.ok()) return view.status();
  if (!(*view)->record().error.ok()) return (*view)->record().error;
  if (format == ExportFormat::kJsonl) {
    Value meta = RunRecordValue((*view)->record(), /*full=*/false);
    meta.mutable_map()->emplace("type", Value("run"));
    meta.mutable_map()->emplace("params", (*view)->record().summary.params);
    RUNLOG_RETURN_IF_ERROR(buf->Append(absl::StrCat(ToJson(meta), "\n")));
  }
  // One pass over the run's files for all its series, in the order of
  // series(), a block at a time where the run is compacted: one read per
  // series would rescan the run for each, and whole series would pass
  // through memory twice.
  return (*view)->ReadAllPieces(
      [&](const SeriesSummary& s, const SeriesPoints& points, bool) {
        switch (s.kind) {
          case SeriesKind::kScalar:
            return WritePoints(format, id, s, points.scalars, buf);
          case SeriesKind::kText:
            return WritePoints(format, id, s, points.texts, buf);
          case SeriesKind::kHistogram:
            return WritePoints(format, id, s, points.histograms, buf);
          case SeriesKind::kBlob:
            break;
        }
        return WritePoints(format, id, s, points.blobs, buf);
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
    // To a file, bytes go out as they come: a run that fails fails the
    // whole export and its file is removed. To standard output a run is held
    // whole and written only once read whole, so the stream holds whole runs.
    std::string whole_run;
    absl::Status write_error;
    OutputBuffer buf(kChunkBytes, [&](absl::string_view bytes) {
      if (file) {
        write_error = file->Append(bytes);
      } else {
        whole_run.append(bytes.data(), bytes.size());
      }
      return write_error;
    });
    absl::Status s = ExportRun(*repo, id, args.format, &buf);
    if (s.ok()) s = buf.FlushAll();
    if (!write_error.ok()) return abandon_output(write_error);
    if (!s.ok()) {
      // The run's partial output is dropped: an export holds whole runs.
      progress.Clear();
      PrintRunError(err, id, s);
      failed = true;
      continue;
    }
    if (!file) out << whole_run;
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
