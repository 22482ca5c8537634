#include "bench/peers/mlflow_sqlite.h"

#include <sqlite3.h>

#include <cmath>
#include <functional>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/file_system.h"
#include "storage/status_macros.h"

namespace runlog::bench {
namespace {

constexpr size_t kBatchSize = 1000;  // log_batch's limit on metrics

// The schema of an MLflow 2.x SQLite tracking store (the tables and indexes
// runs, params and metrics touch; model registry and trace tables left out).
constexpr const char* kSchema[] = {
    "PRAGMA journal_mode=WAL",
    "CREATE TABLE experiments (experiment_id INTEGER NOT NULL, name "
    "VARCHAR(256) NOT NULL, artifact_location VARCHAR(256), lifecycle_stage "
    "VARCHAR(32), creation_time BIGINT, last_update_time BIGINT, CONSTRAINT "
    "experiment_pk PRIMARY KEY (experiment_id), UNIQUE (name))",
    "CREATE TABLE runs (run_uuid VARCHAR(32) NOT NULL, name VARCHAR(250), "
    "source_type VARCHAR(20), source_name VARCHAR(500), entry_point_name "
    "VARCHAR(50), user_id VARCHAR(256), status VARCHAR(9), start_time BIGINT, "
    "end_time BIGINT, deleted_time BIGINT, source_version VARCHAR(50), "
    "lifecycle_stage VARCHAR(20), artifact_uri VARCHAR(200), experiment_id "
    "INTEGER, CONSTRAINT run_pk PRIMARY KEY (run_uuid), FOREIGN "
    "KEY(experiment_id) REFERENCES experiments (experiment_id))",
    "CREATE TABLE params (key VARCHAR(250) NOT NULL, value VARCHAR(8000) NOT "
    "NULL, run_uuid VARCHAR(32) NOT NULL, CONSTRAINT param_pk PRIMARY KEY "
    "(key, run_uuid), FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid))",
    "CREATE TABLE tags (key VARCHAR(250) NOT NULL, value VARCHAR(8000), "
    "run_uuid VARCHAR(32) NOT NULL, CONSTRAINT tag_pk PRIMARY KEY (key, "
    "run_uuid), FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid))",
    "CREATE TABLE metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT NULL, "
    "timestamp BIGINT NOT NULL, run_uuid VARCHAR(32) NOT NULL, step BIGINT "
    "DEFAULT '0' NOT NULL, is_nan BOOLEAN DEFAULT '0' NOT NULL, CONSTRAINT "
    "metric_pk PRIMARY KEY (key, timestamp, step, run_uuid, value, is_nan), "
    "FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid))",
    "CREATE TABLE latest_metrics (key VARCHAR(250) NOT NULL, value FLOAT NOT "
    "NULL, timestamp BIGINT, step BIGINT NOT NULL, is_nan BOOLEAN NOT NULL, "
    "run_uuid VARCHAR(32) NOT NULL, CONSTRAINT latest_metric_pk PRIMARY KEY "
    "(key, run_uuid), FOREIGN KEY(run_uuid) REFERENCES runs (run_uuid))",
    "CREATE INDEX index_params_run_uuid ON params (run_uuid)",
    "CREATE INDEX index_metrics_run_uuid ON metrics (run_uuid)",
    "CREATE INDEX index_latest_metrics_run_uuid ON latest_metrics (run_uuid)",
    "CREATE INDEX index_tags_run_uuid ON tags (run_uuid)",
    "INSERT INTO experiments VALUES (0, 'Default', 'mlruns/0', 'active', 0, "
    "0)",
};

constexpr char kInsertMetric[] =
    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
    "VALUES (?, ?, ?, ?, ?, ?)";
// Keeps the greatest (step, timestamp, value) per key and run.
constexpr char kUpsertLatest[] =
    "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, "
    "run_uuid) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key, run_uuid) DO "
    "UPDATE SET value = excluded.value, timestamp = excluded.timestamp, "
    "step = excluded.step, is_nan = excluded.is_nan WHERE (excluded.step, "
    "excluded.timestamp, excluded.value) > (latest_metrics.step, "
    "latest_metrics.timestamp, latest_metrics.value)";

// MLflow's run ids are uuid4 hex strings; derive one from the bench's id.
std::string RunUuid(const std::string& run_id) {
  const size_t h = std::hash<std::string>()(run_id);
  const size_t g = std::hash<std::string>()(run_id + "#");
  return absl::StrFormat("%016x%016x", static_cast<uint64_t>(h),
                         static_cast<uint64_t>(g));
}

std::string Text(sqlite3_stmt* stmt, int column) {
  const unsigned char* p = sqlite3_column_text(stmt, column);
  return p == nullptr
             ? std::string()
             : std::string(
                   reinterpret_cast<const char*>(p),
                   static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

// Finalizes a statement when it goes out of scope.
struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtCloser>;

}  // namespace

absl::StatusOr<std::unique_ptr<MlflowSqlite>> MlflowSqlite::Open(
    std::string dir) {
  return OpenDb(std::move(dir), /*make_schema=*/true);
}

absl::StatusOr<std::unique_ptr<MlflowSqlite>> MlflowSqlite::OpenExisting(
    std::string dir) {
  return OpenDb(std::move(dir), /*make_schema=*/false);
}

absl::StatusOr<std::unique_ptr<MlflowSqlite>> MlflowSqlite::OpenDb(
    std::string dir, bool make_schema) {
  std::unique_ptr<MlflowSqlite> e(new MlflowSqlite(std::move(dir)));
  const std::string path = storage::JoinPath(e->dir(), "mlflow.db");
  RUNLOG_RETURN_IF_ERROR(e->Check(
      sqlite3_open_v2(path.c_str(), &e->db_,
                      make_schema ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                  : SQLITE_OPEN_READWRITE,
                      nullptr),
      absl::StrCat("open ", path)));
  if (make_schema) {
    for (const char* sql : kSchema) RUNLOG_RETURN_IF_ERROR(e->Exec(sql));
  }
  RUNLOG_RETURN_IF_ERROR(e->Prepare(kInsertMetric, &e->insert_metric_));
  RUNLOG_RETURN_IF_ERROR(e->Prepare(kUpsertLatest, &e->upsert_latest_));
  return e;
}

MlflowSqlite::~MlflowSqlite() {
  FinalizeAll();
  if (db_ != nullptr) sqlite3_close(db_);
}

void MlflowSqlite::FinalizeAll() {
  sqlite3_finalize(insert_metric_);
  sqlite3_finalize(upsert_latest_);
  insert_metric_ = nullptr;
  upsert_latest_ = nullptr;
}

absl::Status MlflowSqlite::Check(int rc, absl::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) {
    return absl::OkStatus();
  }
  return absl::InternalError(
      absl::StrCat(dir(), "/mlflow.db: ", what, ": ",
                   db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
}

absl::Status MlflowSqlite::Exec(const char* sql) {
  return Check(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), sql);
}

absl::Status MlflowSqlite::Prepare(const char* sql, sqlite3_stmt** stmt) {
  return Check(sqlite3_prepare_v2(db_, sql, -1, stmt, nullptr), sql);
}

absl::Status MlflowSqlite::StartRun(const std::string& run_id,
                                    const std::vector<Param>& params) {
  if (!run_uuid_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("run ", run_uuid_, " is still open"));
  }
  run_uuid_ = RunUuid(run_id);
  names_.clear();
  // create_run, then log_batch(params=...) in its own transaction.
  StmtPtr run;
  {
    sqlite3_stmt* s = nullptr;
    RUNLOG_RETURN_IF_ERROR(Prepare(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, "
        "entry_point_name, user_id, status, start_time, end_time, "
        "source_version, lifecycle_stage, artifact_uri, experiment_id) VALUES "
        "(?, ?, 'LOCAL', '', '', 'bench', 'RUNNING', 0, NULL, '', 'active', "
        "?, 0)",
        &s));
    run.reset(s);
  }
  const std::string artifact_uri = absl::StrCat("mlruns/0/", run_uuid_);
  sqlite3_bind_text(run.get(), 1, run_uuid_.data(),
                    static_cast<int>(run_uuid_.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(run.get(), 2, run_id.data(),
                    static_cast<int>(run_id.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(run.get(), 3, artifact_uri.data(),
                    static_cast<int>(artifact_uri.size()), SQLITE_TRANSIENT);
  RUNLOG_RETURN_IF_ERROR(Check(sqlite3_step(run.get()), "create run"));
  if (params.empty()) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(Exec("BEGIN"));
  StmtPtr insert;
  {
    sqlite3_stmt* s = nullptr;
    RUNLOG_RETURN_IF_ERROR(Prepare(
        "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", &s));
    insert.reset(s);
  }
  for (const auto& [key, value] : params) {
    const std::string text = absl::StrCat(value);  // MLflow params are text
    sqlite3_reset(insert.get());
    sqlite3_bind_text(insert.get(), 1, key.data(), static_cast<int>(key.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(insert.get(), 2, text.data(),
                      static_cast<int>(text.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(insert.get(), 3, run_uuid_.data(),
                      static_cast<int>(run_uuid_.size()), SQLITE_TRANSIENT);
    RUNLOG_RETURN_IF_ERROR(Check(sqlite3_step(insert.get()), "log param"));
  }
  return Exec("COMMIT");
}

absl::StatusOr<int> MlflowSqlite::Series(absl::string_view name) {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  names_.emplace_back(name);
  return static_cast<int>(names_.size() - 1);
}

absl::Status MlflowSqlite::WritePoint(int series, int64_t step, double value,
                                      double /*epoch: MLflow has none*/,
                                      int64_t time_us) {
  pending_.push_back(Pending{series, step, value, time_us / 1000});
  if (pending_.size() >= kBatchSize) return FlushBatch();
  return absl::OkStatus();
}

absl::Status MlflowSqlite::FlushBatch() {
  if (pending_.empty()) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(Exec("BEGIN"));
  for (sqlite3_stmt* stmt : {insert_metric_, upsert_latest_}) {
    for (const Pending& p : pending_) {
      const std::string& key = names_[static_cast<size_t>(p.series)];
      const bool is_nan = std::isnan(p.value);
      const double value = is_nan ? 0.0 : p.value;
      sqlite3_reset(stmt);
      sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()),
                        SQLITE_STATIC);
      sqlite3_bind_double(stmt, 2, value);
      sqlite3_bind_int64(stmt, 3, p.timestamp_ms);
      if (stmt == insert_metric_) {
        sqlite3_bind_text(stmt, 4, run_uuid_.data(),
                          static_cast<int>(run_uuid_.size()), SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, p.step);
        sqlite3_bind_int(stmt, 6, is_nan ? 1 : 0);
      } else {
        sqlite3_bind_int64(stmt, 4, p.step);
        sqlite3_bind_int(stmt, 5, is_nan ? 1 : 0);
        sqlite3_bind_text(stmt, 6, run_uuid_.data(),
                          static_cast<int>(run_uuid_.size()), SQLITE_STATIC);
      }
      const int rc = sqlite3_step(stmt);
      // A point equal in every column to one logged before is a duplicate
      // MLflow drops too (it retries the batch row by row).
      if (rc != SQLITE_CONSTRAINT) {
        RUNLOG_RETURN_IF_ERROR(Check(rc, "log metric"));
      }
    }
  }
  pending_.clear();
  return Exec("COMMIT");
}

absl::Status MlflowSqlite::EndRun() {
  RUNLOG_RETURN_IF_ERROR(FlushBatch());
  StmtPtr end;
  {
    sqlite3_stmt* s = nullptr;
    RUNLOG_RETURN_IF_ERROR(Prepare(
        "UPDATE runs SET status = 'FINISHED', end_time = 1 WHERE run_uuid = ?",
        &s));
    end.reset(s);
  }
  sqlite3_bind_text(end.get(), 1, run_uuid_.data(),
                    static_cast<int>(run_uuid_.size()), SQLITE_STATIC);
  RUNLOG_RETURN_IF_ERROR(Check(sqlite3_step(end.get()), "end run"));
  run_uuid_.clear();
  return absl::OkStatus();
}

absl::Status MlflowSqlite::Compact() {
  RUNLOG_RETURN_IF_ERROR(Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  RUNLOG_RETURN_IF_ERROR(Exec("VACUUM"));
  return Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

absl::Status MlflowSqlite::ReadSeries(const std::string& run_id,
                                      absl::string_view name,
                                      SeriesPoints* out) {
  out->steps.clear();
  out->values.clear();
  StmtPtr q;
  {
    sqlite3_stmt* s = nullptr;
    RUNLOG_RETURN_IF_ERROR(
        Prepare("SELECT step, value, is_nan FROM metrics WHERE run_uuid = ? "
                "AND key = ? ORDER BY step, timestamp, value",
                &s));
    q.reset(s);
  }
  const std::string uuid = RunUuid(run_id);
  sqlite3_bind_text(q.get(), 1, uuid.data(), static_cast<int>(uuid.size()),
                    SQLITE_STATIC);
  sqlite3_bind_text(q.get(), 2, name.data(), static_cast<int>(name.size()),
                    SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    out->steps.push_back(sqlite3_column_int64(q.get(), 0));
    out->values.push_back(sqlite3_column_int(q.get(), 2) != 0
                              ? std::nan("")
                              : sqlite3_column_double(q.get(), 1));
  }
  return Check(rc, "get_metric_history");
}

absl::Status MlflowSqlite::ListRuns(absl::string_view metric,
                                    std::vector<RunListing>* out) {
  out->clear();
  // A cold start: a new connection, as a fresh `mlflow ui` or client has.
  FinalizeAll();
  sqlite3_close(db_);
  db_ = nullptr;
  const std::string path = storage::JoinPath(dir(), "mlflow.db");
  RUNLOG_RETURN_IF_ERROR(
      Check(sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr),
            absl::StrCat("open ", path)));
  std::map<std::string, size_t> by_uuid;
  struct Query {
    const char* sql;
    int kind;  // 0 runs, 1 params, 2 latest metrics
  };
  const Query queries[] = {
      {"SELECT run_uuid, name FROM runs WHERE experiment_id = 0 AND "
       "lifecycle_stage = 'active' ORDER BY start_time DESC, run_uuid",
       0},
      {"SELECT p.run_uuid, p.key, p.value FROM params p JOIN runs r ON "
       "r.run_uuid = p.run_uuid WHERE r.experiment_id = 0 AND "
       "r.lifecycle_stage = 'active'",
       1},
      {"SELECT m.run_uuid, m.key, m.value, m.is_nan FROM latest_metrics m "
       "JOIN runs r ON r.run_uuid = m.run_uuid WHERE r.experiment_id = 0 AND "
       "r.lifecycle_stage = 'active'",
       2},
  };
  for (const Query& query : queries) {
    StmtPtr q;
    {
      sqlite3_stmt* s = nullptr;
      RUNLOG_RETURN_IF_ERROR(Prepare(query.sql, &s));
      q.reset(s);
    }
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      const std::string uuid = Text(q.get(), 0);
      if (query.kind == 0) {
        by_uuid[uuid] = out->size();
        out->push_back(RunListing{Text(q.get(), 1)});
        continue;
      }
      auto it = by_uuid.find(uuid);
      if (it == by_uuid.end()) continue;
      RunListing& run = (*out)[it->second];
      const std::string key = Text(q.get(), 1);
      if (query.kind == 1) {
        run.params.emplace_back(key,
                                std::strtod(Text(q.get(), 2).c_str(), nullptr));
      } else if (key == metric) {
        run.last = sqlite3_column_int(q.get(), 3) != 0
                       ? std::nan("")
                       : sqlite3_column_double(q.get(), 2);
        run.has_last = true;
      }
    }
    RUNLOG_RETURN_IF_ERROR(Check(rc, query.sql));
  }
  RUNLOG_RETURN_IF_ERROR(Prepare(kInsertMetric, &insert_metric_));
  return Prepare(kUpsertLatest, &upsert_latest_);
}

}  // namespace runlog::bench
