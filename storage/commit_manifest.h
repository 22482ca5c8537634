// The commit marker of a run (COMMIT): every segment with its exact length and
// checksum, the run status, end time, failure reason, and an opaque summary
// payload from the tracking layer. Its presence is what "committed" means
// (invariant 2). Byte layout: format.h and docs/format.md.
#ifndef RUNLOG_STORAGE_COMMIT_MANIFEST_H_
#define RUNLOG_STORAGE_COMMIT_MANIFEST_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/segment.h"

namespace runlog::storage {

struct CommitManifest {
  std::string run_id;
  format::RunStatus status = format::RunStatus::kFinished;
  absl::Time end_time = absl::UnixEpoch();  // stored with µs precision
  std::vector<SegmentInfo> segments;        // ascending segment numbers
  std::string reason;                       // why it failed; may be empty
  std::string summary;                      // opaque to storage
};

// Serializes `m`. InvalidArgument if a field is over its format limit, the run
// id is not valid, or segment numbers are not strictly ascending.
absl::StatusOr<std::string> EncodeCommitManifest(const CommitManifest& m);

// Parses COMMIT bytes; `path` is only for messages. DataLoss naming the path
// and byte offset for any damage (checksum, truncation, bad lengths, unknown
// status); Unimplemented for a newer format version.
absl::StatusOr<CommitManifest> DecodeCommitManifest(absl::string_view bytes,
                                                    absl::string_view path);

// Durable commit protocol, steps after the segments are synced (invariant 3):
// write COMMIT.tmp -> fsync it -> rename to COMMIT -> fsync `run_dir`.
// With `sync` false (SyncPolicy::kNever) both fsyncs are skipped.
// Replaces an existing COMMIT atomically (used by compaction). On any error the
// caller must treat the run as failed and never retry an fsync.
absl::Status WriteCommitManifest(FileSystem& fs, const std::string& run_dir,
                                 const CommitManifest& m, bool sync = true);

// Reads `run_dir`/COMMIT. NotFound if absent; DataLoss if damaged.
absl::StatusOr<CommitManifest> ReadCommitManifest(FileSystem& fs,
                                                  const std::string& run_dir);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_COMMIT_MANIFEST_H_
