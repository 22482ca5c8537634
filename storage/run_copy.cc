#include "storage/run_copy.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/checksum.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/owner_liveness.h"
#include "storage/run_id.h"
#include "storage/segment.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

constexpr size_t kCopyBlock = size_t{1} << 20;
// A compaction of the source replaces its files under the copy; each time
// that happens the copy starts again from the new manifest.
constexpr int kAttempts = 4;

// Copies `length` bytes of `src` into the new file `dst`, checking them
// against `checksum` as they are read, then syncs `dst` and reads it back.
absl::Status CopyFile(FileSystem& from_fs, const std::string& src,
                      FileSystem& to_fs, const std::string& dst,
                      uint64_t length, uint64_t checksum) {
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> in,
                          from_fs.NewRandomAccessFile(src));
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out,
                          to_fs.NewWritableFile(dst));
  std::string scratch(kCopyBlock, '\0');
  StreamingChecksum sum;
  uint64_t offset = 0;
  while (offset < length) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kCopyBlock, length - offset));
    RUNLOG_ASSIGN_OR_RETURN(absl::string_view got,
                            in->Read(offset, n, scratch.data()));
    if (got.empty()) {
      return absl::DataLossError(absl::StrCat(src, ": offset ", offset,
                                              ": file ends before the ", length,
                                              " bytes its manifest names"));
    }
    sum.Update(got);
    RUNLOG_RETURN_IF_ERROR(out->Append(got));
    offset += got.size();
  }
  if (sum.Digest() != checksum) {
    return absl::DataLossError(
        absl::StrCat(src, ": offset 0: checksum mismatch with its manifest (",
                     length, " bytes)"));
  }
  RUNLOG_RETURN_IF_ERROR(out->Sync());
  RUNLOG_RETURN_IF_ERROR(out->Close());
  // Read back what the destination now holds.
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> back,
                          to_fs.NewRandomAccessFile(dst));
  RUNLOG_ASSIGN_OR_RETURN(uint64_t size, back->Size());
  StreamingChecksum again;
  for (uint64_t at = 0; at < size;) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kCopyBlock, size - at));
    RUNLOG_ASSIGN_OR_RETURN(absl::string_view got,
                            back->Read(at, n, scratch.data()));
    if (got.empty()) break;
    again.Update(got);
    at += got.size();
  }
  if (size != length || again.Digest() != checksum) {
    return absl::DataLossError(
        absl::StrCat(dst, ": the copy reads back ", size,
                     " bytes that do not match the source's manifest"));
  }
  return absl::OkStatus();
}

// Removes the copied files (not OWNER) from `staging`, for a new attempt.
absl::Status ClearStaging(FileSystem& fs, const std::string& staging) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(staging));
  for (const std::string& name : names) {
    if (name == format::kOwnerFileName) continue;
    RUNLOG_RETURN_IF_ERROR(fs.RemoveFile(JoinPath(staging, name)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RunCopyReport> CopyCommittedRun(RunStore& from, RunStore& to,
                                               absl::string_view id) {
  RUNLOG_RETURN_IF_ERROR(ValidateRunId(id));
  RUNLOG_ASSIGN_OR_RETURN(RunEntry entry, from.GetRun(id));
  if (entry.state != RunState::kCommitted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", id, " is not committed (", RunStateName(entry.state),
        entry.detail.empty() ? "" : ": ", entry.detail,
        "); only committed runs are copied"));
  }
  if (!entry.manifest_error.ok()) return entry.manifest_error;
  FileSystem& from_fs = *from.fs();
  FileSystem& to_fs = *to.fs();
  const std::string dest = to.RunDir(id);
  if (absl::StatusOr<FileInfo> there = to_fs.Stat(dest); there.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(
        "run ", id, " already exists in ", to.root(), " (", dest, ")"));
  } else if (!absl::IsNotFound(there.status())) {
    return there.status();
  }
  const std::string runs = JoinPath(to.root(), format::kRunsDirName);
  const std::string staging =
      JoinPath(runs, absl::StrCat(format::kCreatingPrefix, id));
  if (absl::Status made = to_fs.CreateDir(staging); !made.ok()) {
    if (absl::IsAlreadyExists(made)) {
      return absl::AlreadyExistsError(
          absl::StrCat("run ", id, " is being copied into ", to.root(),
                       " by another process (", staging, " exists)"));
    }
    return made;
  }
  RunCopyReport report;
  report.run_id = std::string(id);
  absl::Status s = [&]() -> absl::Status {
    // Recovery judges the unfinished copy by this OWNER: kept while this
    // process lives, removed once it is gone.
    RUNLOG_RETURN_IF_ERROR(WriteNewFileSynced(
        to_fs, JoinPath(staging, format::kOwnerFileName),
        EncodeOwner(CurrentOwner(*to.probe(), to.clock()->Now()))));
    const std::string src_dir = from.RunDir(id);
    for (int attempt = 1;; ++attempt) {
      ManifestSource source;
      RUNLOG_ASSIGN_OR_RETURN(CommitManifest manifest,
                              ReadCommitManifest(from_fs, src_dir, &source));
      report.bytes = 0;
      report.files = 0;
      absl::Status copied = absl::OkStatus();
      for (const SegmentInfo& seg : manifest.segments) {
        const std::string name = FileNameOf(seg);
        copied = CopyFile(from_fs, JoinPath(src_dir, name), to_fs,
                          JoinPath(staging, name), seg.length, seg.checksum);
        if (!copied.ok()) break;
        report.bytes += seg.length;
        ++report.files;
      }
      if (absl::IsNotFound(copied) && attempt < kAttempts) {
        // Compacted (or repaired) meanwhile: copy the new form.
        RUNLOG_RETURN_IF_ERROR(ClearStaging(to_fs, staging));
        continue;
      }
      RUNLOG_RETURN_IF_ERROR(copied);
      // A rebuilt manifest (COMMIT torn by a power loss) is written whole.
      const uint32_t generation = source.from_record ? 1 : source.generation;
      RUNLOG_RETURN_IF_ERROR(WriteCommitManifest(to_fs, staging, manifest,
                                                 /*sync=*/true, generation));
      RUNLOG_ASSIGN_OR_RETURN(std::string bytes,
                              EncodeCommitManifest(manifest));
      report.bytes += bytes.size();
      ++report.files;
      break;
    }
    // The commit point: runs/<id> appears whole. A directory is renamed only
    // onto a name that does not exist, so a run made meanwhile is kept.
    if (absl::Status moved = to_fs.Rename(staging, dest); !moved.ok()) {
      if (to_fs.Stat(dest).ok()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "run ", id, " already exists in ", to.root(), " (", dest, ")"));
      }
      return moved;
    }
    return to_fs.SyncDir(runs);
  }();
  if (!s.ok()) {
    // Best effort; after a crash or a failed rename recovery removes it.
    RemoveDirectoryTree(to_fs, staging).IgnoreError();
    return s;
  }
  return report;
}

}  // namespace runlog::storage
