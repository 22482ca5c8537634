// Reads every chunk of one run, across its segments, in write order.
//
// A committed run (COMMIT present) is read exactly as its manifest says:
// the listed segments, each checked for length and checksum
// (TailPolicy::kExactManifest), so any damage is DataLoss naming the file and
// byte offset. An uncommitted run (live, or left by a crash) is read from its
// segment files in number order with TailPolicy::kTornTailIsEnd: every
// complete chunk is returned, a torn or damaged tail is the end of data.
//
// A compacted run (a column file in its manifest) is not a log: Next()
// returns FailedPrecondition when it reaches the column file.
//
// The reader opens one segment at a time. Thread-safety: none.
#ifndef RUNLOG_STORAGE_RUN_READER_H_
#define RUNLOG_STORAGE_RUN_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/commit_manifest.h"
#include "storage/file_system.h"
#include "storage/segment.h"
#include "storage/segment_reader.h"

namespace runlog::storage {

class RunReader {
 public:
  // NotFound if `run_dir` does not exist; DataLoss if COMMIT is damaged.
  static absl::StatusOr<std::unique_ptr<RunReader>> Open(FileSystem* fs,
                                                         std::string run_dir,
                                                         std::string run_id);

  RunReader(const RunReader&) = delete;
  RunReader& operator=(const RunReader&) = delete;

  bool committed() const { return manifest_.has_value(); }
  const std::optional<CommitManifest>& manifest() const { return manifest_; }

  // Returns true and fills `chunk` (its payload valid until the next call),
  // or false at the end of the run's data. NotFound if the run was deleted
  // while being read.
  absl::StatusOr<bool> Next(Chunk* chunk);

  // Segment number of the chunk last returned.
  uint32_t current_segment() const { return current_number_; }
  // Sum of ignored torn-tail bytes over the segments read so far (live runs),
  // whole later segments left unread after a torn one included.
  uint64_t ignored_tail_bytes() const { return ignored_tail_bytes_; }
  // Live runs, once Next() returned false: OK if everything ignored can be
  // a torn write at the end of the last segment; otherwise DataLoss naming
  // the file and offset (a complete chunk that fails its checks, or a torn
  // chunk followed by further segments).
  const absl::Status& tail_damage() const { return tail_damage_; }
  // The segment file tail_damage() is about (empty while it is OK).
  const std::string& tail_damage_file() const { return tail_damage_file_; }

 private:
  RunReader(FileSystem* fs, std::string run_dir, std::string run_id,
            std::optional<CommitManifest> manifest,
            std::vector<SegmentInfo> plan);
  absl::Status OpenNextSegment();

  FileSystem* fs_;
  std::string run_dir_;
  std::string run_id_;
  std::optional<CommitManifest> manifest_;
  std::vector<SegmentInfo> plan_;  // lengths/checksums valid when committed
  size_t next_index_ = 0;
  uint32_t current_number_ = 0;
  std::unique_ptr<SegmentReader> current_;
  uint64_t ignored_tail_bytes_ = 0;
  absl::Status tail_damage_;
  std::string tail_damage_file_;
  bool stopped_ = false;  // a live segment ended torn: later ones are not read
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_READER_H_
