// TensorBoard event files written the way TensorBoard's writers (tf.summary
// and PyTorch's SummaryWriter) write scalars, for bench/peer_bench.cc.
//
// Layout: one directory per run, <dir>/<run>/, holding one file
// events.out.tfevents.<time>.bench. Each record is framed as TFRecord:
//   uint64 length (little-endian), uint32 masked CRC32C of those 8 bytes,
//   `length` bytes of data, uint32 masked CRC32C of the data,
// where masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8. The first record
// is the Event {wall_time, file_version: "brain.Event:2"}; every point is an
// Event {wall_time (double), step (int64, omitted when 0 as proto3 does),
// summary {value {tag, simple_value (float)}}}, the encoding of PyTorch's
// add_scalar. Values are thus stored as float32 (lossy for doubles); there
// is no epoch and no params (the hparams plugin is not modelled).
// Records are buffered (64 KiB) and written at EndRun or when the buffer
// fills, like the writers' buffered files. There is no compaction: event
// files are never rewritten.
//
// Reads are TensorBoard's: every record of the run's file is read, its CRCs
// checked and its Event decoded, keeping the values of the asked tag.
// Listing reads every run's file to find the last value of the metric.
//
// The CRC32C (Castagnoli) is computed with the SSE4.2 instruction when the
// CPU has it (TensorFlow does too), else with a table.
//
// Thread-safety: none.
#ifndef RUNLOG_BENCH_PEERS_TENSORBOARD_EVENTS_H_
#define RUNLOG_BENCH_PEERS_TENSORBOARD_EVENTS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/peers/engine.h"
#include "storage/file_system.h"

namespace runlog::bench {

// CRC32C of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0);
// The masked form TFRecord stores.
uint32_t MaskCrc(uint32_t crc);

class TensorBoardEvents final : public Engine {
 public:
  // Writes run directories under `dir` (which must exist).
  static absl::StatusOr<std::unique_ptr<TensorBoardEvents>> Open(
      std::string dir);

  std::string name() const override { return "TensorBoard events"; }
  absl::Status StartRun(const std::string& run_id,
                        const std::vector<Param>& params) override;
  absl::StatusOr<int> Series(absl::string_view name) override;
  absl::Status WritePoint(int series, int64_t step, double value, double epoch,
                          int64_t time_us) override;
  absl::Status EndRun() override;
  // Nothing to do: TensorBoard never rewrites event files.
  absl::Status Compact() override { return absl::OkStatus(); }
  // DataLoss naming the file and offset for a bad length, CRC or Event.
  absl::Status ReadSeries(const std::string& run_id, absl::string_view name,
                          SeriesPoints* out) override;
  absl::Status ListRuns(absl::string_view metric,
                        std::vector<RunListing>* out) override;

 private:
  explicit TensorBoardEvents(std::string dir) : Engine(std::move(dir)) {}
  void AppendRecord(absl::string_view data);
  absl::Status FlushBuffer();
  // Decodes every scalar of `tag` in the event file `path`, in file order.
  absl::Status Scan(const std::string& path, absl::string_view tag,
                    SeriesPoints* out);

  std::vector<std::string> runs_;
  std::unique_ptr<storage::WritableFile> file_;
  std::vector<std::string> tags_;
  std::string buffer_;
  std::string event_;  // scratch for one encoded Event
};

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_PEERS_TENSORBOARD_EVENTS_H_
