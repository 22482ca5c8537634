// SQLite used the way MLflow's SQLAlchemy tracking store uses it (schema of
// MLflow 2.x after its migrations), for bench/peer_bench.cc.
//
// Layout: one database file <dir>/mlflow.db for every run, WAL journal mode,
// SQLite's default synchronous setting (FULL: the WAL is synced at each
// commit), as MLflow leaves it. Tables as MLflow creates them:
//   runs(run_uuid PK, name, status, start_time, end_time, lifecycle_stage,
//        artifact_uri, experiment_id, ...)
//   params(key, value TEXT, run_uuid, PK(key, run_uuid))
//   metrics(key, value FLOAT, timestamp BIGINT, run_uuid, step BIGINT,
//           is_nan BOOLEAN, PK(key, timestamp, step, run_uuid, value, is_nan))
//   latest_metrics(key, value, timestamp, step, is_nan, run_uuid,
//                  PK(key, run_uuid))
//   index_{params,metrics,latest_metrics,tags}_run_uuid on run_uuid (the
//   bd07f7e963c5 migration), tags and experiments.
// Points are buffered and written like log_batch: transactions of 1,000
// metrics, each an INSERT into metrics and an upsert of latest_metrics that
// keeps the greatest (step, timestamp, value), as MLflow's
// _update_latest_metrics_if_necessary does. NaN is stored as value 0 with
// is_nan 1. Statements are prepared once (MLflow goes through SQLAlchemy's
// ORM, which costs far more per row than this).
//
// Reads are MLflow's get_metric_history (by run_uuid and key, ordered by
// step here); listing is search_runs: the runs of the experiment, their
// params and their latest metrics.
//
// Thread-safety: none.
#ifndef RUNLOG_BENCH_PEERS_MLFLOW_SQLITE_H_
#define RUNLOG_BENCH_PEERS_MLFLOW_SQLITE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/peers/engine.h"

struct sqlite3;
struct sqlite3_stmt;

namespace runlog::bench {

class MlflowSqlite final : public Engine {
 public:
  // Creates <dir>/mlflow.db with MLflow's schema (`dir` must exist).
  static absl::StatusOr<std::unique_ptr<MlflowSqlite>> Open(std::string dir);
  // Opens <dir>/mlflow.db made earlier by Open (the schema is not made).
  static absl::StatusOr<std::unique_ptr<MlflowSqlite>> OpenExisting(
      std::string dir);
  ~MlflowSqlite() override;

  std::string name() const override { return "SQLite as MLflow"; }
  absl::Status StartRun(const std::string& run_id,
                        const std::vector<Param>& params) override;
  absl::StatusOr<int> Series(absl::string_view name) override;
  absl::Status WritePoint(int series, int64_t step, double value, double epoch,
                          int64_t time_us) override;
  absl::Status EndRun() override;
  // wal_checkpoint(TRUNCATE), then VACUUM.
  absl::Status Compact() override;
  absl::Status ReadSeries(const std::string& run_id, absl::string_view name,
                          SeriesPoints* out) override;
  absl::Status ListRuns(absl::string_view metric,
                        std::vector<RunListing>* out) override;

  // The database, for benchmarks that fill it in bulk and run MLflow's
  // other queries on it (bench/query_peer_bench.cc: search_runs). Owned by
  // this object.
  sqlite3* db() const { return db_; }

 private:
  struct Pending {
    int series;
    int64_t step;
    double value;
    int64_t timestamp_ms;
  };
  explicit MlflowSqlite(std::string dir) : Engine(std::move(dir)) {}
  static absl::StatusOr<std::unique_ptr<MlflowSqlite>> OpenDb(std::string dir,
                                                              bool make_schema);
  absl::Status Exec(const char* sql);
  absl::Status Prepare(const char* sql, sqlite3_stmt** stmt);
  absl::Status Check(int rc, absl::string_view what);
  absl::Status FlushBatch();
  void FinalizeAll();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_metric_ = nullptr;
  sqlite3_stmt* upsert_latest_ = nullptr;
  std::string run_uuid_;
  std::vector<std::string> names_;
  std::vector<Pending> pending_;
};

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_PEERS_MLFLOW_SQLITE_H_
