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

int64_t CountPoints(const std::vector<RunLogDecoder::SeriesPoints>& all) {
  int64_t n = 0;
  for (const RunLogDecoder::SeriesPoints& p : all) {
    n += static_cast<int64_t>(p.scalars.size() + p.texts.size() +
                              p.histograms.size() + p.blobs.size());
  }
  return n;
}

// Steps 2-5 of the protocol in compaction.h for a claimed run. `make` turns
// the decoded run and the new column file into the manifest to commit.
template <typename MakeManifest>
absl::StatusOr<int64_t> Rewrite(RunStore& store, const std::string& dir,
                                absl::string_view id,
                                const std::vector<SegmentInfo>& old_segments,
                                MakeManifest make) {
  FileSystem& fs = *store.fs();
  RunLogDecoder decoder = RunLogDecoder::CollectingAll();
  RUNLOG_RETURN_IF_ERROR(
      DecodeRunLog(store.fs(), dir, std::string(id), &decoder));
  RUNLOG_ASSIGN_OR_RETURN(const uint32_t number,
                          NextFileNumber(fs, dir, old_segments));
  absl::StatusOr<SegmentInfo> info =
      WriteCompactedRun(&fs, dir, id, number, decoder.summary().series,
                        decoder.all_points(), /*sync=*/true);
  const std::string out_path = JoinPath(dir, storage::ColumnFileName(number));
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
  return CountPoints(decoder.all_points());
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
      Rewrite(store, dir, id, old.segments,
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
    return Rewrite(store, dir, id, old,
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
