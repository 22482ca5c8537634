#include "tracking/compaction/compaction.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/owner_liveness.h"
#include "storage/segment.h"
#include "storage/status_macros.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/compaction/compacted_run.h"
#include "tracking/run_summary.h"

namespace runlog {
namespace {

using storage::FileSystem;
using storage::JoinPath;
using storage::RunEntry;
using storage::RunState;
using storage::RunStore;
using storage::SegmentInfo;

std::string CompactingPath(const std::string& dir) {
  return JoinPath(dir, storage::format::kCompactingFileName);
}

// Takes the run for this process by creating COMPACTING exclusively. A
// COMPACTING left by a dead process is replaced (its outputs stay garbage
// for recovery; new files get higher numbers); one whose owner may be alive
// is FailedPrecondition.
absl::Status Claim(RunStore& store, const std::string& dir,
                   absl::string_view id) {
  FileSystem& fs = *store.fs();
  const std::string path = CompactingPath(dir);
  const std::string owner = storage::EncodeOwner(
      storage::CurrentOwner(*store.probe(), store.clock()->Now()));
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<std::unique_ptr<storage::WritableFile>> file =
        fs.NewWritableFile(path);
    if (file.ok()) {
      absl::Status s = (*file)->Append(owner);
      absl::Status c = (*file)->Close();
      if (s.ok()) s = c;
      if (!s.ok()) fs.RemoveFile(path).IgnoreError();
      return s;
    }
    if (!absl::IsAlreadyExists(file.status())) return file.status();
    const std::optional<storage::LivenessVerdict> verdict =
        store.JudgeOwnerFile(path);
    if (!verdict) continue;  // finished meanwhile: try again
    if (verdict->state != RunState::kAbandoned) {
      return absl::FailedPreconditionError(
          absl::StrCat("run ", id, " is being compacted (", path, ": ",
                       verdict->reason, ")"));
    }
    absl::Status s = fs.RemoveFile(path);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("run ", id, ": another process keeps claiming ", path));
}

// The number above every segment or column file in `dir` and `m`, so the
// new file's name has never been used (invariant 1).
absl::StatusOr<uint32_t> NextFileNumber(FileSystem& fs, const std::string& dir,
                                        const std::vector<SegmentInfo>& m) {
  uint32_t top = 0;
  for (const SegmentInfo& s : m) top = std::max(top, s.number);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  for (const std::string& name : names) {
    std::optional<uint32_t> n = storage::ParseSegmentFileName(name);
    if (!n) n = storage::ParseColumnFileName(name);
    if (n) top = std::max(top, *n);
  }
  if (top == UINT32_MAX) {
    return absl::ResourceExhaustedError(
        absl::StrCat(dir, ": no segment number left"));
  }
  return top + 1;
}

absl::StatusOr<uint64_t> DirBytes(FileSystem& fs, const std::string& dir) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  uint64_t total = 0;
  for (const std::string& name : names) {
    absl::StatusOr<storage::FileInfo> info = fs.Stat(JoinPath(dir, name));
    if (info.ok()) total += info->size;
  }
  return total;
}

// Streams a run's log into a column file: points are decoded chunk by
// chunk, and each series' points go out as blocks as soon as a block is
// full, so memory is bounded by kBufferBudget (plus the writer's footer and
// views) instead of the run's size.
class StreamingCompactor {
 public:
  // Buffered points (capacity, 32 B a scalar point) above this are written
  // out as short blocks and their memory released.
  static constexpr size_t kBufferBudget = 32u << 20;

  StreamingCompactor(RunLogDecoder* decoder, CompactedRunWriter* writer)
      : decoder_(decoder), writer_(writer) {}

  // After each chunk: new series are defined, full blocks written.
  absl::Status AfterChunk() {
    std::vector<RunLogDecoder::SeriesPoints>& all = decoder_->all_points();
    const std::vector<SeriesSummary>& series = decoder_->summary().series;
    while (writer_->series_count() < all.size()) {
      const SeriesSummary& s = series[writer_->series_count()];
      writer_->AddSeries(s.key, s.kind);
      held_.push_back(0);
    }
    for (size_t i : decoder_->TakeTouched()) {
      RUNLOG_RETURN_IF_ERROR(Drain(i, /*all=*/false));
    }
    if (buffered_ > kBufferBudget) {
      for (size_t i = 0; i < all.size(); ++i) {
        if (held_[i] > 0) RUNLOG_RETURN_IF_ERROR(Drain(i, /*all=*/true));
      }
    }
    return absl::OkStatus();
  }

  // Everything still buffered, then the footer.
  absl::StatusOr<storage::SegmentInfo> Finish(bool sync) {
    RUNLOG_RETURN_IF_ERROR(AfterChunk());
    for (size_t i = 0; i < held_.size(); ++i) {
      RUNLOG_RETURN_IF_ERROR(Drain(i, /*all=*/true));
    }
    return writer_->Finish(sync);
  }

  int64_t points() const { return points_; }

 private:
  template <typename T>
  static size_t HeldBytes(const SeriesColumns<T>& c) {
    return c.steps.capacity() * (24 + sizeof(T));
  }
  // Drops the points before `from`; releases the memory when none is left.
  template <typename T>
  static void DropFront(SeriesColumns<T>* c, size_t from, bool release) {
    if (from == c->size() && release) {
      *c = SeriesColumns<T>();
      return;
    }
    auto cut = [from](auto& v) { v.erase(v.begin(), v.begin() + from); };
    cut(c->steps);
    cut(c->values);
    cut(c->epochs);
    cut(c->times_us);
  }

  // Writes series i's full blocks (all: every point) and drops them.
  absl::Status Drain(size_t i, bool all) {
    RunLogDecoder::SeriesPoints& p = decoder_->all_points()[i];
    size_t written = 0;
    size_t held = 0;
    // What was written leaves the buffer; the rest is what it holds.
    auto settle = [&](auto& c) {
      DropFront(&c, written, all);
      held = HeldBytes(c);
    };
    switch (decoder_->summary().series[i].kind) {
      case SeriesKind::kScalar: {
        ScalarColumns& c = p.scalars;
        while (c.size() - written >= kCompactedBlockPoints ||
               (all && written < c.size())) {
          const size_t end =
              std::min(c.size(), written + kCompactedBlockPoints);
          RUNLOG_RETURN_IF_ERROR(writer_->AddScalarBlock(i, c, written, end));
          written = end;
        }
        settle(c);
        break;
      }
      case SeriesKind::kText: {
        RUNLOG_ASSIGN_OR_RETURN(written, writer_->AddTexts(i, p.texts, 0, all));
        settle(p.texts);
        break;
      }
      case SeriesKind::kHistogram: {
        RUNLOG_ASSIGN_OR_RETURN(
            written, writer_->AddHistograms(i, p.histograms, 0, all));
        settle(p.histograms);
        break;
      }
      case SeriesKind::kBlob: {
        RUNLOG_ASSIGN_OR_RETURN(written, writer_->AddBlobs(i, p.blobs, 0, all));
        settle(p.blobs);
        break;
      }
    }
    points_ += static_cast<int64_t>(written);
    buffered_ = buffered_ - held_[i] + held;
    held_[i] = held;
    return absl::OkStatus();
  }

  RunLogDecoder* decoder_;
  CompactedRunWriter* writer_;
  std::vector<size_t> held_;  // bytes buffered per series (an estimate)
  size_t buffered_ = 0;
  int64_t points_ = 0;
};

// Steps 2-5 of the protocol in compaction.h for a claimed run. `make` turns
// the decoded run and the new column file into the manifest to commit;
// `want_summaries` when it needs the decoder's point statistics.
template <typename MakeManifest>
absl::StatusOr<int64_t> Rewrite(RunStore& store, const std::string& dir,
                                absl::string_view id,
                                const std::vector<SegmentInfo>& old_segments,
                                bool want_summaries, MakeManifest make) {
  FileSystem& fs = *store.fs();
  RUNLOG_ASSIGN_OR_RETURN(const uint32_t number,
                          NextFileNumber(fs, dir, old_segments));
  const std::string out_path = JoinPath(dir, storage::ColumnFileName(number));
  RunLogDecoder decoder = RunLogDecoder::CollectingAll(want_summaries);
  int64_t points = 0;
  absl::StatusOr<SegmentInfo> info = [&]() -> absl::StatusOr<SegmentInfo> {
    RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<CompactedRunWriter> writer,
                            CompactedRunWriter::Create(&fs, dir, id, number));
    StreamingCompactor compactor(&decoder, writer.get());
    // Damage found part way leaves a partial file that no COMMIT names:
    // removed below, as is any other failure's.
    RUNLOG_RETURN_IF_ERROR(
        DecodeRunLog(store.fs(), dir, std::string(id), &decoder, nullptr,
                     nullptr, [&compactor] { return compactor.AfterChunk(); }));
    absl::StatusOr<SegmentInfo> done = compactor.Finish(/*sync=*/true);
    points = compactor.points();
    return done;
  }();
  absl::Status s = info.status();
  // The new file's directory entry must be durable before a COMMIT names it.
  if (s.ok()) s = fs.SyncDir(dir);
  if (!s.ok()) {
    // The old COMMIT (or none) still stands; the new file is garbage.
    // Removing it now is a courtesy: recovery would remove it too.
    fs.RemoveFile(out_path).IgnoreError();
    return s;
  }
  // From here the new file stays even on failure: once the rename inside
  // WriteCommitManifest has happened, COMMIT names it, and whether it did
  // cannot be told from the error. Recovery removes it if unreferenced.
  const storage::CommitManifest manifest = make(decoder, *info);
  // The new manifest takes a name that does not exist yet, so no reader on
  // another client ever has the manifest it opened replaced under it.
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  const uint32_t generation = storage::HighestCommitGeneration(names) + 1;
  absl::Status committed = storage::WriteCommitManifest(
      fs, dir, manifest, /*sync=*/true, generation);
  if (absl::IsNotFound(committed)) {
    // A recovery that checked for COMPACTING an instant before this
    // compaction claimed the run takes our COMMIT.tmp for a dead writer's
    // leftover and removes it; the rename then finds nothing. Nothing was
    // renamed, so writing the manifest once more is safe (a deleted run
    // fails again, at the create).
    committed = storage::WriteCommitManifest(fs, dir, manifest, /*sync=*/true,
                                             generation);
  }
  RUNLOG_RETURN_IF_ERROR(committed);
  // The new COMMIT is durable: the old segments are garbage from here on.
  for (const SegmentInfo& old : old_segments) {
    absl::Status r = fs.RemoveFile(JoinPath(dir, storage::FileNameOf(old)));
    if (!r.ok() && !absl::IsNotFound(r)) return r;
  }
  return points;
}

// Live (uncommitted) runs have no manifest: their segments are the .seg
// files in the directory.
absl::StatusOr<std::vector<SegmentInfo>> LogSegmentsIn(FileSystem& fs,
                                                       const std::string& dir) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  std::vector<SegmentInfo> out;
  for (const std::string& name : names) {
    if (std::optional<uint32_t> n = storage::ParseSegmentFileName(name)) {
      SegmentInfo info;
      info.number = *n;
      out.push_back(info);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<CompactionReport> CompactRun(RunStore& store,
                                            absl::string_view id) {
  RUNLOG_ASSIGN_OR_RETURN(RunEntry entry, store.GetRun(id));
  if (entry.state != RunState::kCommitted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", id, " is not committed (", storage::RunStateName(entry.state),
        "): only committed runs are compacted"));
  }
  if (!entry.manifest) return entry.manifest_error;
  const storage::CommitManifest& old = *entry.manifest;
  CompactionReport report;
  report.run_id = std::string(id);
  report.bytes_before = entry.bytes_on_disk;
  const bool compacted = std::any_of(
      old.segments.begin(), old.segments.end(), [](const SegmentInfo& s) {
        return s.kind == storage::format::SegmentKind::kColumn;
      });
  if (compacted) {
    report.already_compacted = true;
    report.bytes_after = entry.bytes_on_disk;
    absl::StatusOr<RunSummary> summary =
        DecodeRunSummary(old.summary, "COMMIT");
    if (summary.ok()) {
      for (const SeriesSummary& s : summary->series) report.points += s.count;
    }
    return report;
  }
  const std::string dir = store.RunDir(id);
  RUNLOG_RETURN_IF_ERROR(Claim(store, dir, id));
  absl::StatusOr<int64_t> points =
      Rewrite(store, dir, id, old.segments, /*want_summaries=*/false,
              [&](RunLogDecoder&, const SegmentInfo& info) {
                storage::CommitManifest m = old;
                m.segments = {info};
                return m;
              });
  // Released whatever happened: leftovers are garbage recovery removes.
  store.fs()->RemoveFile(CompactingPath(dir)).IgnoreError();
  RUNLOG_RETURN_IF_ERROR(points.status());
  report.points = *points;
  RUNLOG_ASSIGN_OR_RETURN(report.bytes_after, DirBytes(*store.fs(), dir));
  return report;
}

absl::Status SalvageRun(RunStore& store, absl::string_view id,
                        absl::string_view reason) {
  RUNLOG_ASSIGN_OR_RETURN(RunEntry entry, store.GetRun(id));
  if (entry.state != RunState::kAbandoned) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", id, " is ", storage::RunStateName(entry.state),
                     ": only abandoned runs are salvaged"));
  }
  const std::string dir = store.RunDir(id);
  RUNLOG_RETURN_IF_ERROR(Claim(store, dir, id));
  absl::Status s = [&]() -> absl::Status {
    RUNLOG_ASSIGN_OR_RETURN(std::vector<SegmentInfo> old,
                            LogSegmentsIn(*store.fs(), dir));
    return Rewrite(store, dir, id, old, /*want_summaries=*/true,
                   [&](RunLogDecoder& decoder, const SegmentInfo& info) {
                     storage::CommitManifest m;
                     m.run_id = std::string(id);
                     m.status = storage::format::RunStatus::kCrashed;
                     m.end_time = entry.last_write;
                     m.reason = std::string(
                         reason.substr(0, storage::format::kMaxFailureReason));
                     m.summary = EncodeRunSummary(decoder.summary());
                     m.segments = {info};
                     return m;
                   })
        .status();
  }();
  store.fs()->RemoveFile(CompactingPath(dir)).IgnoreError();
  return s;
}

}  // namespace runlog
