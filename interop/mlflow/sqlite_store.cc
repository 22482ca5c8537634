// The MLflow SQLite store (mlflow.db), read-only through libsqlite3.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "interop/mlflow/mlflow_run.h"
#include "interop/source_files.h"

namespace runlog::interop {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

absl::Status DbError(sqlite3* db, absl::string_view path,
                     absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": ", what, ": ", sqlite3_errmsg(db)));
}

absl::StatusOr<Stmt> Prepare(sqlite3* db, absl::string_view path,
                             const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
    return DbError(db, path, absl::StrCat("cannot query (", sql, ")"));
  }
  return Stmt(s);
}

std::string Text(sqlite3_stmt* s, int col) {
  const unsigned char* t = sqlite3_column_text(s, col);
  return t == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(t),
                                    sqlite3_column_bytes(s, col));
}

// Rows of (key, value) for one run from `table` (params or tags).
absl::Status KeyValues(sqlite3* db, absl::string_view path, const char* sql,
                       const std::string& run,
                       std::vector<std::pair<std::string, std::string>>* out) {
  absl::StatusOr<Stmt> st = Prepare(db, path, sql);
  if (!st.ok()) return st.status();
  sqlite3_bind_text(st->get(), 1, run.c_str(), -1, SQLITE_TRANSIENT);
  int rc;
  while ((rc = sqlite3_step(st->get())) == SQLITE_ROW) {
    out->emplace_back(Text(st->get(), 0), Text(st->get(), 1));
  }
  if (rc != SQLITE_DONE) return DbError(db, path, "reading rows");
  return absl::OkStatus();
}

}  // namespace

absl::Status VisitSqliteStore(const std::string& path, uint64_t* bytes_read,
                              const MlflowRunVisitor& visit) {
  absl::StatusOr<SourceFile> file = StatSourceFile(path, "");
  if (!file.ok()) return file.status();
  sqlite3* raw = nullptr;
  // Read-only and immutable: never a journal, a lock or a write beside a
  // store another program owns.
  const std::string uri = absl::StrCat("file:", path, "?mode=ro&immutable=1");
  if (sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                      nullptr) != SQLITE_OK) {
    Db closer(raw);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not an SQLite database: ",
                     raw ? sqlite3_errmsg(raw) : "out of memory"));
  }
  Db db(raw);
  *bytes_read += file->size;
  absl::StatusOr<Stmt> runs = Prepare(
      db.get(), path,
      "SELECT r.run_uuid, r.experiment_id, COALESCE(e.name, ''), "
      "COALESCE(r.name, ''), COALESCE(r.status, ''), "
      "COALESCE(r.lifecycle_stage, ''), COALESCE(r.end_time, 0), "
      "(SELECT COUNT(*) FROM metrics m WHERE m.run_uuid = r.run_uuid), "
      "(SELECT COALESCE(MAX(timestamp), 0) FROM metrics m "
      " WHERE m.run_uuid = r.run_uuid), "
      "(SELECT COUNT(*) FROM params p WHERE p.run_uuid = r.run_uuid), "
      "(SELECT COUNT(*) FROM tags t WHERE t.run_uuid = r.run_uuid) "
      "FROM runs r LEFT JOIN experiments e "
      "ON e.experiment_id = r.experiment_id ORDER BY r.start_time, r.run_uuid");
  if (!runs.ok()) return runs.status();
  int rc;
  while ((rc = sqlite3_step(runs->get())) == SQLITE_ROW) {
    sqlite3_stmt* s = runs->get();
    MlflowRun run;
    run.id = Text(s, 0);
    run.experiment_id = Text(s, 1);
    run.experiment_name = Text(s, 2);
    run.name = Text(s, 3);
    run.status = Text(s, 4);
    run.lifecycle_stage = Text(s, 5);
    run.fingerprint = FingerprintBytes(
        absl::StrCat(run.status, "|", Text(s, 6), "|", Text(s, 7), "|",
                     Text(s, 8), "|", Text(s, 9), "|", Text(s, 10)));
    absl::Status kv = KeyValues(
        db.get(), path, "SELECT key, value FROM params WHERE run_uuid = ?",
        run.id, &run.params);
    if (kv.ok()) {
      kv = KeyValues(db.get(), path,
                     "SELECT key, value FROM tags WHERE run_uuid = ?", run.id,
                     &run.tags);
    }
    if (!kv.ok()) return kv;
    sqlite3* handle = db.get();
    const std::string id = run.id;
    run.write_metrics = [handle, path, id](RunSink& sink) -> absl::Status {
      absl::StatusOr<Stmt> st = Prepare(
          handle, path,
          "SELECT key, value, timestamp, step, COALESCE(is_nan, 0) "
          "FROM metrics WHERE run_uuid = ? ORDER BY key, timestamp, step");
      if (!st.ok()) return st.status();
      sqlite3_bind_text(st->get(), 1, id.c_str(), -1, SQLITE_TRANSIENT);
      int r;
      while ((r = sqlite3_step(st->get())) == SQLITE_ROW) {
        sqlite3_stmt* m = st->get();
        const std::string key = Text(m, 0);
        // MLflow stores NaN as 0 with is_nan set (SQL has no NaN).
        const double value = sqlite3_column_int(m, 4)
                                 ? std::numeric_limits<double>::quiet_NaN()
                                 : sqlite3_column_double(m, 1);
        absl::Status s = sink.Scalar(key, {}, sqlite3_column_int64(m, 3), value,
                                     sqlite3_column_int64(m, 2) * 1000);
        if (absl::IsInvalidArgument(s)) {
          ++sink.report()
                .skipped[absl::StrCat("metric ", key, ": ", s.message())];
        } else if (!s.ok()) {
          return s;
        }
      }
      if (r != SQLITE_DONE) return DbError(handle, path, "reading metrics");
      return absl::OkStatus();
    };
    absl::Status v = visit(run);
    if (!v.ok()) return v;
  }
  if (rc != SQLITE_DONE) return DbError(db.get(), path, "reading runs");
  return absl::OkStatus();
}

}  // namespace runlog::interop
