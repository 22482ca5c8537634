// Rebuilds what a run's records say: metadata, params, tags, series and
// their summaries, and, for one target series, its points.
//
// Chunks are applied in write order (storage::RunReader yields them so).
// With want_summaries false, points of other series are skipped by length
// without decoding, which is what reading one series of a committed run
// needs (its summaries come from COMMIT).
//
// Damaged records are DataLoss naming the segment, chunk offset and record
// offset. Unknown record types >= kFirstIgnorableRecordType are skipped;
// other unknown types are Unimplemented (written by a newer version).
#ifndef RUNLOG_TRACKING_CODEC_RUN_LOG_DECODER_H_
#define RUNLOG_TRACKING_CODEC_RUN_LOG_DECODER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/file_system.h"
#include "storage/segment_reader.h"
#include "tracking/run_summary.h"
#include "tracking/series.h"

namespace runlog {

class RunLogDecoder {
 public:
  struct Target {
    SeriesKey key;
    StepRange range;
  };

  RunLogDecoder(std::optional<Target> target, bool want_summaries);

  // The points of every series, for compaction and salvage; kept alongside
  // the summaries, indexed like summary().series.
  struct SeriesPoints {
    ScalarColumns scalars;
    TextColumns texts;
    HistogramColumns histograms;
    BlobColumns blobs;
  };
  // Without `want_summaries` the series summaries hold each series' key and
  // kind but no point statistics (compaction keeps the manifest's).
  static RunLogDecoder CollectingAll(bool want_summaries = true);
  std::vector<SeriesPoints>& all_points() { return all_; }
  // CollectingAll only: the indices into all_points() of the series that
  // received points since the last call, each once, in no particular order;
  // clears the list. A caller that drains points as they come (streaming
  // compaction) looks only at these.
  std::vector<size_t> TakeTouched();

  // `location` names the segment file for messages.
  absl::Status Apply(const storage::Chunk& chunk, absl::string_view location);

  // Metadata, params, tags; series summaries if want_summaries.
  RunSummary& summary() { return summary_; }

  bool target_found() const { return target_id_.has_value(); }
  SeriesKind target_kind() const { return target_kind_; }
  ScalarColumns& scalars() { return scalars_; }
  TextColumns& texts() { return texts_; }
  HistogramColumns& histograms() { return histograms_; }
  BlobColumns& blobs() { return blobs_; }

 private:
  struct SeriesInfo {
    SeriesKind kind;
    size_t summary_index;  // into summary_.series
  };
  absl::Status ApplyRecord(uint8_t type, absl::string_view body,
                           const std::string& where);
  absl::Status ApplyPoints(uint8_t type, absl::string_view body,
                           const std::string& where);
  absl::Status ApplyBlob(absl::string_view payload, const std::string& where);

  std::optional<Target> target_;
  bool want_summaries_;
  bool collect_all_ = false;
  std::vector<SeriesPoints> all_;
  std::vector<size_t> touched_;
  std::vector<bool> is_touched_;  // per series of all_
  void Touch(size_t index) {
    if (is_touched_[index]) return;
    is_touched_[index] = true;
    touched_.push_back(index);
  }
  RunSummary summary_;
  std::map<uint32_t, SeriesInfo> series_;
  std::optional<uint32_t> target_id_;
  SeriesKind target_kind_ = SeriesKind::kScalar;
  ScalarColumns scalars_;
  TextColumns texts_;
  HistogramColumns histograms_;
  BlobColumns blobs_;
  // Scratch columns reused across records.
  std::vector<int64_t> steps_;
  std::vector<int64_t> times_;
  std::vector<double> epochs_;
  std::vector<double> values_;
};

// Applies every chunk of the run in `dir` to `decoder`, in write order
// (storage::RunReader: a committed log run exactly as its manifest says, an
// uncommitted one up to its torn tail). When `file` is not null it holds the
// segment file last read, so a caller can name where damage was found.
// When `tail` is not null and the run was read as uncommitted, it receives
// what the read left out (storage::RunReader::ignored_tail_bytes() and
// tail_damage()).
struct LogTail {
  bool uncommitted = false;
  uint64_t dropped_bytes = 0;
  absl::Status damage;  // OK, or DataLoss: not a torn write
  std::string damage_file;
};
// When `after_chunk` is set it runs after each chunk is applied; its error
// stops the read and is returned.
absl::Status DecodeRunLog(
    storage::FileSystem* fs, const std::string& dir, const std::string& run_id,
    RunLogDecoder* decoder, std::string* file = nullptr,
    LogTail* tail = nullptr,
    const std::function<absl::Status()>& after_chunk = nullptr);

}  // namespace runlog

#endif  // RUNLOG_TRACKING_CODEC_RUN_LOG_DECODER_H_
