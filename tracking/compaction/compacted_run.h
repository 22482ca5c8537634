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

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/column_file.h"
#include "storage/file_system.h"
#include "storage/segment.h"
#include "tracking/codec/block_codec.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/downsample.h"
#include "tracking/series.h"

namespace runlog {

// Points per block; equal to kDownsampleAlign so wide downsampling buckets
// hold whole blocks.
inline constexpr size_t kCompactedBlockPoints = kDownsampleAlign;
// Points per sub-block of a view chunk; equal to kDownsampleFineAlign so
// buckets narrower than a block hold whole sub-blocks.
inline constexpr size_t kViewSubBlockPoints = kDownsampleFineAlign;
static_assert(kCompactedBlockPoints % kViewSubBlockPoints == 0);
// A scalar series gets a view chunk when it has more than one block and at
// most this many sub-blocks with a non-NaN value (two points each, one
// scalar block): series of up to 16.7 M points. Longer series answer views
// up to 2 * blocks points from block summaries and decode for finer ones.
inline constexpr size_t kMaxViewSubBlocks = 32768;

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
  // Scalar blocks only. extremes_stored is false when the footer leaves
  // them out (version 2, a series of one block): a reader decodes the block
  // to learn them. Otherwise has_extremes is false when every value is NaN.
  bool extremes_stored = true;
  bool has_extremes = false;
  uint32_t min_index = 0;  // first point holding the minimum
  uint32_t max_index = 0;  // first point holding the maximum
  PointRecord min_point;
  PointRecord max_point;
};

struct CompactedSeries {
  SeriesKey key;
  SeriesKind kind = SeriesKind::kScalar;
  std::vector<BlockSummary> blocks;
  // The series' view chunk (footer version 2, scalar series only).
  bool has_view = false;
  storage::BlockHandle view;
  int64_t count() const;
};

// A view chunk decoded: per sub-block of kViewSubBlockPoints points (each
// block's sub-blocks in turn, a block's last one possibly shorter), the
// first minimum and first maximum as in BlockSummary.
struct SeriesView {
  static constexpr uint16_t kNone = 0xffff;  // a sub-block of NaNs only
  std::vector<uint16_t> min_index;           // within the sub-block, or kNone
  std::vector<uint16_t> max_index;
  // Per sub-block, where its two points start in `points` (min point, then
  // max point); meaningless for kNone.
  std::vector<uint32_t> point_at;
  ScalarColumns points;
  std::vector<size_t> first_sub_block;  // per block of the series
};

// The payload of a view chunk (docs/format.md) and back; DecodeSeriesView
// checks it against the series' blocks. DataLoss naming `where`.
absl::StatusOr<std::string> EncodeSeriesView(const SeriesView& view);
absl::StatusOr<SeriesView> DecodeSeriesView(absl::string_view payload,
                                            const CompactedSeries& series,
                                            absl::string_view where);

struct CompactedFooter {
  std::vector<CompactedSeries> series;
};

std::string EncodeCompactedFooter(const CompactedFooter& footer);
// DataLoss naming `where` for damage; bounded by the footer's size.
absl::StatusOr<CompactedFooter> DecodeCompactedFooter(absl::string_view bytes,
                                                      absl::string_view where);

// Writes a column file block by block as points arrive, the blocks of
// different series interleaved in any order: memory is the caller's buffers
// plus, per series, its block summaries (about 100 B a block) and its view
// (32 B per 256 points, dropped past kMaxViewSubBlocks). Each series' blocks
// must come in its point order. The first I/O error poisons the writer;
// an unfinished file is garbage the caller removes.
class CompactedRunWriter {
 public:
  // Creates `dir`/ColumnFileName(number); AlreadyExists if present.
  static absl::StatusOr<std::unique_ptr<CompactedRunWriter>> Create(
      storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
      uint32_t number);
  ~CompactedRunWriter();

  // Series are numbered from 0 in the order they are added; the footer
  // lists them so.
  size_t AddSeries(const SeriesKey& key, SeriesKind kind);
  size_t series_count() const { return series_.size(); }

  // Writes c[begin, end) as the next block of scalar series `series`:
  // 1 <= end - begin <= kCompactedBlockPoints, else InvalidArgument.
  absl::Status AddScalarBlock(size_t series, const ScalarColumns& c,
                              size_t begin, size_t end);
  // Writes the points of c from `begin` on as the next blocks of a series of
  // that kind (up to kCompactedBlockPoints points or 4 MiB of values each).
  // With `all` false a last block that could still grow is left unwritten.
  // Returns the index after the last point written.
  absl::StatusOr<size_t> AddTexts(size_t series, const TextColumns& c,
                                  size_t begin, bool all);
  absl::StatusOr<size_t> AddHistograms(size_t series, const HistogramColumns& c,
                                       size_t begin, bool all);
  absl::StatusOr<size_t> AddBlobs(size_t series, const BlobColumns& c,
                                  size_t begin, bool all);

  // Bytes held for the footer and views so far (an estimate, for budgets).
  size_t MetadataBytes() const;

  // Writes the views and the footer and closes the file, fsynced when
  // `sync`; returns its manifest entry. The caller makes the directory entry
  // durable.
  absl::StatusOr<storage::SegmentInfo> Finish(bool sync);

 private:
  struct Pending {
    CompactedSeries series;
    SeriesView view;
    bool view_ok = true;
    EncoderHints hints;  // what the series' earlier blocks taught the codec
  };
  explicit CompactedRunWriter(std::unique_ptr<storage::ColumnFileWriter> file);
  template <typename T>
  absl::StatusOr<size_t> AddGeneric(size_t series, const SeriesColumns<T>& c,
                                    size_t begin, bool all);

  std::unique_ptr<storage::ColumnFileWriter> file_;
  std::vector<Pending> series_;
  std::string payload_;
};

// Writes every series of `points` (as collected by
// RunLogDecoder::CollectingAll(), described by `series`) into a new column
// file `dir`/ColumnFileName(number), fsynced when `sync`. Returns its
// manifest entry. The caller makes the directory entry durable.
absl::StatusOr<storage::SegmentInfo> WriteCompactedRun(
    storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
    uint32_t number, const std::vector<SeriesSummary>& series,
    const std::vector<RunLogDecoder::SeriesPoints>& points, bool sync);

// A decoded footer with its series looked up by key; immutable, so readers
// of the same file may share it.
struct CompactedIndex {
  CompactedFooter footer;
  std::map<SeriesKey, size_t> by_key;
};

class CompactedRunReader {
 public:
  // Opens the column file `info` of run `run_id` in `dir` and decodes its
  // footer, or takes `known`, the index() of an earlier reader of the same
  // `info` (a caller that reads one run repeatedly saves the decode, which
  // dominates a view of a long series). NotFound if the file is missing;
  // DataLoss for damage.
  static absl::StatusOr<std::unique_ptr<CompactedRunReader>> Open(
      storage::FileSystem* fs, const std::string& dir, absl::string_view run_id,
      const storage::SegmentInfo& info,
      std::shared_ptr<const CompactedIndex> known = nullptr);

  const CompactedFooter& footer() const { return index_->footer; }
  const std::shared_ptr<const CompactedIndex>& index() const { return index_; }
  // nullptr if the run has no such series.
  const CompactedSeries* Find(const SeriesKey& key) const;

  // The points in `range`, in write order: only blocks whose step range
  // meets `range` are read. DataLoss naming the file and block offset.
  absl::StatusOr<ScalarColumns> ReadScalars(const CompactedSeries& s,
                                            StepRange range);
  // The same into `out`, whose old contents are replaced; each block is
  // decoded straight into its columns, so a reused `out` is neither
  // zero-filled nor copied into. Only the columns in `columns` are filled
  // (the others are left empty and their streams are not decoded). On error
  // `out` holds no meaningful points.
  absl::Status ReadScalarsInto(const CompactedSeries& s, StepRange range,
                               ScalarColumns* out,
                               ColumnSet columns = ColumnSet::kAll);
  // Every point of scalar series `s` but its first `skip`, one block at a
  // time: each block is decoded into `block` (replaced, its capacity
  // reused) and handed to `fn` with `last` set for the series' final block;
  // blocks wholly among the skipped points are not read. `fn`'s error stops
  // the read and is returned as is; DataLoss naming the file and block
  // offset for damage. A series without points makes no call.
  absl::Status ForEachScalarBlock(
      const CompactedSeries& s, size_t skip, ScalarColumns* block,
      absl::FunctionRef<absl::Status(const ScalarColumns& block, bool last)>
          fn);
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
                     std::shared_ptr<const CompactedIndex> index);
  // Decodes scalar block `b` into out's columns in `columns` at [at, at +
  // b.count) (sized by the caller): the one reader of scalar blocks, which
  // checks the chunk type and the footer's count. DataLoss naming the file
  // and block offset.
  absl::Status DecodeScalarBlockInPlace(const BlockSummary& b, size_t at,
                                        ColumnSet columns, ScalarColumns* out);
  // Appends block `b`'s points to `out` (restored to its size on error).
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
  std::shared_ptr<const CompactedIndex> index_;
  // The view of `s`, read and decoded on first use (one series cached).
  absl::StatusOr<const SeriesView*> ViewOf(const CompactedSeries& s);

  std::string scratch_;
  ScalarColumns partial_;  // a block the read's range cuts
  const CompactedSeries* view_series_ = nullptr;
  SeriesView view_;
};

}  // namespace runlog

#endif  // RUNLOG_TRACKING_COMPACTION_COMPACTED_RUN_H_
