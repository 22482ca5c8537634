// RocksDB used the way Aim (3.x) stores runs, for bench/peer_bench.cc.
//
// Layout (every key is a path of elements, each ending in 0xFE; strings are
// their bytes, integers a 0x01 tag and 8 big-endian bytes; values are a type
// tag then 8 little-endian bytes — float 0x03, int 0x02 — or 0x00 for None.
// This is modelled on aim.storage.encoding, not copied byte for byte: the
// sizes per key and value are the same order, 9-byte numbers):
//   <dir>/seqs/chunks/<run>   one database per run for the series, Aim's v2
//       sequence layout: seqs·v2·<ctx id>·<name>·{val,step,epoch,time}·
//       <step hash>, the step hash being a 64-bit mix of the step (so a
//       re-tracked step overwrites, and keys are not in step order).
//   <dir>/meta/chunks/<run>   the run's metadata: meta·attrs·hparams·<p>
//       per param, meta·contexts·<ctx id> once per context, and per tracked
//       point meta·traces·<ctx id>·<name>·{last,last_step,min,max}.
//   <dir>/meta/index          at the end of a run its metadata is copied
//       here under meta·chunks·<run> (Aim's finalize into the repo index),
//       which is what listing reads.
// Each tracked point is one WriteBatch on the series database (4 puts) and
// one on the metadata database (4 puts), as Aim's tracker commits them;
// default WriteOptions (WAL on, no fsync). Options as Aim sets them for the
// issue: create_if_missing, 1 MB write buffer, compression left at RocksDB's
// default.
//
// Reads are Aim's: iterate the step and value columns of a series (both in
// step-hash order, so they zip), then sort by step.
//
// Thread-safety: none.
#ifndef RUNLOG_BENCH_PEERS_AIM_ROCKSDB_H_
#define RUNLOG_BENCH_PEERS_AIM_ROCKSDB_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bench/peers/engine.h"

namespace rocksdb {
class DB;
}

namespace runlog::bench {

class AimRocksDb final : public Engine {
 public:
  // Creates the layout under `dir` (which must exist).
  static absl::StatusOr<std::unique_ptr<AimRocksDb>> Open(std::string dir);
  ~AimRocksDb() override;

  std::string name() const override { return "RocksDB as Aim"; }
  absl::Status StartRun(const std::string& run_id,
                        const std::vector<Param>& params) override;
  absl::StatusOr<int> Series(absl::string_view name) override;
  absl::Status WritePoint(int series, int64_t step, double value, double epoch,
                          int64_t time_us) override;
  absl::Status EndRun() override;
  // CompactRange over every run database and the index.
  absl::Status Compact() override;
  absl::Status ReadSeries(const std::string& run_id, absl::string_view name,
                          SeriesPoints* out) override;
  absl::Status ListRuns(absl::string_view metric,
                        std::vector<RunListing>* out) override;

 private:
  struct TraceState {
    std::string name;
    bool any = false;
    double min = 0;
    double max = 0;
  };
  // Out of line: the members' destructors need rocksdb::DB complete.
  explicit AimRocksDb(std::string dir);
  absl::Status CloseReaders();

  std::vector<std::string> runs_;
  std::string run_;
  std::unique_ptr<rocksdb::DB> seqs_;
  std::unique_ptr<rocksdb::DB> meta_;
  std::unique_ptr<rocksdb::DB> index_;
  std::vector<TraceState> traces_;
  std::map<std::string, std::unique_ptr<rocksdb::DB>> readers_;
};

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_PEERS_AIM_ROCKSDB_H_
