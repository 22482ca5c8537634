// The commit marker of a run (COMMIT): every segment with its exact length and
// checksum, the run status, end time, failure reason, and an opaque summary
// payload from the tracking layer. Its presence is what "committed" means
// (invariant 2). Byte layout: format.h and docs/format.md.
#ifndef RUNLOG_STORAGE_COMMIT_MANIFEST_H_
#define RUNLOG_STORAGE_COMMIT_MANIFEST_H_

#include <cstdint>
#include <optional>
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

// "COMMIT" for generation 1, "COMMIT.<n>" for n >= 2 (format.h).
std::string CommitFileName(uint32_t generation);
// Inverse of CommitFileName; nullopt for any other name, "COMMIT.tmp" and
// non-canonical spellings ("COMMIT.02", "COMMIT.1") included.
std::optional<uint32_t> ParseCommitFileName(absl::string_view name);
// The highest manifest generation among `names` (a run directory's
// listing); 0 if there is none.
uint32_t HighestCommitGeneration(const std::vector<std::string>& names);

// Durable commit protocol, steps after the segments are synced (invariant 3):
// write COMMIT.tmp -> fsync it -> rename to CommitFileName(generation) ->
// fsync `run_dir`. With `sync` false (SyncPolicy::kNever) both fsyncs are
// skipped. A first commit writes generation 1; compaction writes the next
// generation, under a name that did not exist, so no other client's open
// manifest is ever replaced. On any error the caller must treat the run as
// failed and never retry an fsync.
absl::Status WriteCommitManifest(FileSystem& fs, const std::string& run_dir,
                                 const CommitManifest& m, bool sync = true,
                                 uint32_t generation = 1);

// Where ReadCommitManifest() found the manifest.
struct ManifestSource {
  uint32_t generation = 0;
  // COMMIT (generation 1) was damaged — its bytes are not synced at commit,
  // so a power loss may leave it empty or torn — and the manifest was rebuilt
  // from the commit record at the end of the run's last segment (format.h,
  // kChunkCommit). `commit_damage` is what was wrong with COMMIT.
  bool from_record = false;
  absl::Status commit_damage;
};

// Reads the highest-generation manifest of `run_dir` (`source`, if not
// null, says which). A manifest that vanishes or goes stale between the
// listing and the read (ENOENT, ESTALE: another client compacted or cleaned
// the run) is "changed, look again": the directory is listed again, a
// bounded number of times. A generation-1 COMMIT that a power loss left
// torn (empty, cut short, or with zeroed pages; its bytes are not synced at
// commit) is rebuilt from the commit record when the last segment ends in a
// valid one; any other damage is DataLoss. NotFound if
// the run has no manifest (or its directory is gone); DataLoss if the
// highest one is damaged (and cannot be rebuilt); Unavailable if it kept
// changing or the file system kept failing.
absl::StatusOr<CommitManifest> ReadCommitManifest(
    FileSystem& fs, const std::string& run_dir,
    ManifestSource* source = nullptr);

// The manifest the commit record at the end of `run_dir`'s highest-numbered
// log segment describes, completed with that segment's full length and
// checksum. NotFound if there is no segment or it does not end in a commit
// record; DataLoss naming the file and offset if the record does not match
// the bytes it describes.
absl::StatusOr<CommitManifest> ManifestFromCommitRecord(
    FileSystem& fs, const std::string& run_dir);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_COMMIT_MANIFEST_H_
