#include "interop/tensorboard/importer.h"

#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "interop/source_files.h"
#include "interop/tensorboard/event_decoder.h"
#include "interop/tensorboard/tfrecord_reader.h"

namespace runlog::interop {
namespace {

int64_t WallTimeMicros(double wall_time) {
  if (!std::isfinite(wall_time) || wall_time <= 0 || wall_time > 1e11) {
    return kNoTime;
  }
  return std::llround(wall_time * 1e6);
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Writes one decoded event; InvalidArgument from the sink (a value over
// runlog's limits, a tag changing kind) becomes a skip.
absl::Status WriteEvent(TbEvent& event, RunSink& sink) {
  const int64_t time = WallTimeMicros(event.wall_time);
  for (const std::string& why : event.skipped) ++sink.report().skipped[why];
  if (!event.hparams.is_null()) {
    absl::Status s = sink.Param("hparams", event.hparams);
    if (absl::IsInvalidArgument(s)) {
      ++sink.report().skipped[absl::StrCat("hparams: ", s.message())];
    } else if (!s.ok()) {
      return s;
    }
  }
  static const Context kNoContext;
  for (const TbScalar& p : event.scalars) {
    absl::Status s = sink.Scalar(p.tag, kNoContext, event.step, p.value, time);
    if (absl::IsInvalidArgument(s)) {
      ++sink.report()
            .skipped[absl::StrCat("point of ", p.tag, ": ", s.message())];
    } else if (!s.ok()) {
      return s;
    }
  }
  for (TbPoint& p : event.points) {
    absl::Status s;
    switch (p.kind) {
      case TbPoint::Kind::kHistogram:
        s = sink.Hist(p.tag, p.context, event.step, std::move(p.histogram),
                      time);
        break;
      case TbPoint::Kind::kText:
        s = sink.Text(p.tag, p.context, event.step, p.text, time);
        break;
      case TbPoint::Kind::kBlob:
        s = sink.BlobPoint(p.tag, p.context, event.step, p.blob, time);
        break;
    }
    if (absl::IsInvalidArgument(s)) {
      ++sink.report()
            .skipped[absl::StrCat("point of ", p.tag, ": ", s.message())];
    } else if (!s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ImportRunDir(const std::vector<const SourceFile*>& files,
                          RunSink& sink, ImportReport& report,
                          bool skip_damaged) {
  EventDecoder decoder;
  for (const SourceFile* f : files) {
    absl::StatusOr<std::string> bytes = ReadSourceFile(f->path);
    if (!bytes.ok()) return bytes.status();
    report.bytes_read += bytes->size();
    absl::Status s = ImportEventFileBytes(*bytes, f->path, f->relative,
                                          skip_damaged, decoder, sink);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ImportEventFileBytes(absl::string_view bytes,
                                  absl::string_view path,
                                  absl::string_view label, bool skip_damaged,
                                  EventDecoder& decoder, RunSink& sink) {
  TbEvent event;
  TFRecordScan scan;
  absl::Status s = ScanTFRecords(
      bytes, path, skip_damaged,
      [&](absl::string_view record, uint64_t offset) -> absl::Status {
        absl::Status d = decoder.Decode(record, path, offset, &event);
        if (!d.ok()) {
          if (!skip_damaged) return d;
          ++sink.report().skipped["record that is not an Event"];
          return absl::OkStatus();
        }
        return WriteEvent(event, sink);
      },
      &scan);
  if (!s.ok()) return s;
  if (scan.torn_at) {
    sink.report().warnings.push_back(
        absl::StrCat(label, ": torn record at offset ", *scan.torn_at, " (",
                     bytes.size() - *scan.torn_at,
                     " bytes); imported the records before it"));
  }
  for (const std::string& d : scan.damage) {
    sink.report().warnings.push_back(
        absl::StrCat(label, ": skipped damage: ", d));
  }
  return absl::OkStatus();
}

absl::Status ImportTensorBoard(const std::string& logdir,
                               ImportSession* session) {
  ImportReport& report = session->report();
  report.source = logdir;
  absl::StatusOr<std::string> root = CanonicalPath(logdir);
  if (!root.ok()) return root.status();
  absl::StatusOr<SourceWalk> walk = WalkSource(*root);
  if (!walk.ok()) return walk.status();
  for (const std::string& s : walk->skipped) report.notes.push_back(s);

  // Run directories (relative; "" is the logdir) and their event files, in
  // name order.
  std::map<std::string, std::vector<const SourceFile*>> runs;
  for (const SourceFile& f : walk->files) {
    const size_t slash = f.relative.find_last_of('/');
    const std::string name =
        slash == std::string::npos ? f.relative : f.relative.substr(slash + 1);
    if (!absl::StrContains(name, "tfevents")) continue;
    runs[slash == std::string::npos ? "" : f.relative.substr(0, slash)]
        .push_back(&f);
  }
  if (runs.empty()) {
    report.notes.push_back("no event files (names containing 'tfevents')");
  }
  size_t index = 0;
  for (const auto& [rel, files] : runs) {
    const std::string dir = rel.empty() ? *root : absl::StrCat(*root, "/", rel);
    SourceRun source;
    source.key = absl::StrCat("tensorboard:", dir);
    std::vector<SourceFile> listed;
    for (const SourceFile* f : files) listed.push_back(*f);
    source.fingerprint = FingerprintFiles(listed);
    source.experiment = kTensorBoardFormat;
    source.name = rel.empty() ? BaseName(*root) : rel;
    source.tags = {"imported"};
    if (session->options().progress) {
      session->options().progress(index, runs.size(), source.name);
    }
    ++index;
    absl::StatusOr<std::unique_ptr<RunSink>> sink = session->Begin(source);
    if (!sink.ok()) return sink.status();
    if (*sink == nullptr) continue;
    absl::Status s =
        ImportRunDir(files, **sink, report, session->options().skip_damaged);
    if (!s.ok()) {
      session->Abandon(*std::move(sink), s);
      continue;
    }
    session->End(*std::move(sink)).IgnoreError();  // recorded in the report
  }
  return absl::OkStatus();
}

}  // namespace runlog::interop
