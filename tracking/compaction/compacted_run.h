// The compacted form of a run: one column file (storage/column_file.h) whose
// blocks each hold up to kCompactedBlockPoints points of one series, and
// whose footer indexes every series with a summary per block (step range,
// count, min, max, last, and the min and max points), so a reader fetches
// only the blocks a step range touches and a downsampled read answers whole
// buckets from the summaries. Byte layout: docs/format.md ("Compacted runs").
//
// Thread-safety: none.
#ifndef RUNLOG_TRACKING_COMPACTION_COMPACTED_RUN_H_
#define RUNLOG_TRACKING_COMPACTION_COMPACTED_RUN_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/column_file.h"
#include "storage/file_system.h"
#include "storage/segment.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/downsample.h"
#include "tracking/series.h"

namespace runlog {

// Points per block; equal to kDownsampleAlign so wide downsampling buckets
// hold whole blocks.
inline constexpr size_t kCompactedBlockPoints = kDownsampleAlign;

// One point, as block summaries keep the extremes.
struct PointRecord {
  int64_t step = 0;
  double value = 0;
  double epoch = 0;
  int64_t time_us = 0;
};

struct BlockSummary {
  storage::BlockHandle handle;
  uint32_t count = 0;
  int64_t min_step = 0;  // steps need not ascend: the range a block covers
  int64_t max_step = 0;
  // Scalar blocks only. has_extremes is false when every value is NaN.
  bool has_extremes = false;
  uint32_t min_index = 0;  // first point holding the minimum
  uint32_t max_index = 0;  // first point holding the maximum
  PointRecord min_point;
  PointRecord max_point;
  double last = 0;
};

struct CompactedSeries {
  SeriesKey key;
  SeriesKind kind = SeriesKind::kScalar;
  std::vector<BlockSummary> blocks;
  int64_t count() const;
};

struct CompactedFooter {
  std::vector<CompactedSeries> series;
};

std::string EncodeCompactedFooter(const CompactedFooter& footer);
// DataLoss naming `where` for damage; bounded by the footer's size.
absl::StatusOr<CompactedFooter> DecodeCompactedFooter(absl::string_view bytes,
                                                      absl::string_view where);

// Writes every series of `points` (as collected by
// RunLogDecoder::CollectingAll(), described by `series`) into a new column
// file `dir`/ColumnFileName(number), fsynced when `sync`. Returns its
// manifest entry. The caller makes the directory entry durable.
absl::StatusOr<storage::SegmentInfo> WriteCompactedRun(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    uint32_t number, const std::vector<SeriesSummary>& series,
    const std::vector<RunLogDecoder::SeriesPoints>& points, bool sync);

class CompactedRunReader {
 public:
  // Opens the column file `info` of run `run_id` in `dir` and decodes its
  // footer. NotFound if the file is missing; DataLoss for damage.
  static absl::StatusOr<std::unique_ptr<CompactedRunReader>> Open(
      storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
      const storage::SegmentInfo& info);

  const CompactedFooter& footer() const { return footer_; }
  // nullptr if the run has no such series.
  const CompactedSeries* Find(const SeriesKey& key) const;

  // The points in `range`, in write order: only blocks whose step range
  // meets `range` are read. DataLoss naming the file and block offset.
  absl::StatusOr<ScalarColumns> ReadScalars(const CompactedSeries& s,
                                            StepRange range);
  // The same into `out`, which is cleared first and keeps its capacity, so
  // repeated reads reuse its memory.
  absl::Status ReadScalarsInto(const CompactedSeries& s, StepRange range,
                               ScalarColumns* out);
  absl::StatusOr<TextColumns> ReadTexts(const CompactedSeries& s,
                                        StepRange range);
  absl::StatusOr<HistogramColumns> ReadHistograms(const CompactedSeries& s,
                                                  StepRange range);
  absl::StatusOr<BlobColumns> ReadBlobs(const CompactedSeries& s,
                                        StepRange range);
  // Exactly Downsample(ReadScalars(s, range), max_points), computed from
  // block summaries wherever a bucket holds whole blocks.
  absl::StatusOr<ScalarColumns> ReadScalarsDownsampled(const CompactedSeries& s,
                                                       size_t max_points,
                                                       StepRange range);

  // Reads and decodes every block and checks the whole-file checksum; each
  // damaged place is appended to `problems` (a status naming file and
  // offset). Returns the number of points read.
  int64_t Verify(const storage::SegmentInfo& info,
                 std::vector<absl::Status>* problems);

 private:
  CompactedRunReader(std::unique_ptr<storage::ColumnFileReader> file,
                     CompactedFooter footer);
  absl::Status DecodeScalarBlockAt(const BlockSummary& b, ScalarColumns* out);
  template <typename T>
  absl::Status DecodeGenericBlockAt(const BlockSummary& b, SeriesKind kind,
                                    SeriesColumns<T>* out);
  // Appends the points of block `b` of a series of `kind` to `out`: the one
  // decoder entry of every read and of Verify (scalar or generic by type).
  template <typename T>
  absl::Status DecodeBlockAt(const BlockSummary& b, SeriesKind kind,
                             SeriesColumns<T>* out);
  template <typename T>
  absl::StatusOr<SeriesColumns<T>> ReadGeneric(const CompactedSeries& s,
                                               StepRange range);

  std::unique_ptr<storage::ColumnFileReader> file_;
  CompactedFooter footer_;
  std::map<SeriesKey, size_t> index_;
  std::string scratch_;
};

}  // namespace runlog

#endif  // RUNLOG_TRACKING_COMPACTION_COMPACTED_RUN_H_
