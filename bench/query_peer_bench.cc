// Finding runs (issue 13), side by side in one Google Benchmark run:
//   runlog: the query language over 10,000 committed runs of 20 params and
//     5 series each, (a) parse and evaluate a 5-clause query over records
//     already listed, (b) Repo::ListRuns with the query end to end (read
//     the run catalog, describe every run, evaluate, return full records);
//   SQLite as MLflow: the same runs in MLflow's schema (runs, params,
//     latest_metrics, tags with MLflow's indexes) and the same search as
//     MLflow's SqlAlchemyStore runs it: one join per clause on a subquery
//     of params or latest_metrics, ordered by start_time, then the params,
//     latest metrics and tags of the runs found (MLflow's selectin loads),
//     materialized into maps as runlog's records are.
// The repository and database are built once under $RUNLOG_QUERY_BENCH_DIR
// (default /tmp/runlog-query-bench) and reused by later runs.
//
//   cmake --build build/release --target query_comparison
//   build/release/bench/query_comparison --benchmark_repetitions=3
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "bench/peers/mlflow_sqlite.h"
#include "benchmark/benchmark.h"
#include "tracking/query/query.h"
#include "tracking/repo.h"

namespace runlog::bench {
namespace {

constexpr int kRuns = 10000;
constexpr int kPoints = 10;
constexpr const char* kSeries[] = {"loss", "acc", "val_loss", "val_acc", "lr"};
constexpr const char* kModels[] = {"resnet", "vit", "mlp", "bert", "gpt"};
constexpr const char* kOptimizers[] = {"adam", "sgd", "adamw"};

// runlog's filter and what an MLflow user writes for it (MLflow params are
// strings; the runlog one compares batch_size, an int, with '64' the same).
constexpr char kWhere[] =
    "params.model = 'resnet' and params.optimizer = 'adam' and "
    "params.batch_size = '64' and metrics.acc > 0.5 and metrics.loss < 0.8";

struct RunData {
  std::string model, optimizer;
  int batch_size;
  double lr;
  std::vector<std::pair<std::string, std::string>> extra;  // 16 more params
  std::vector<std::vector<double>> series;                 // kSeries order
};

RunData MakeRunData(int i, std::mt19937& rng) {
  RunData d;
  d.model = kModels[i % 5];
  d.optimizer = kOptimizers[(i / 5) % 3];
  d.batch_size = 32 << (i % 4);
  d.lr = 1e-4 * (1 + i % 10);
  for (int k = 4; k < 20; ++k) {
    d.extra.emplace_back(absl::StrCat("p", k),
                         absl::StrCat("v", (i * 7 + k) % 13));
  }
  std::uniform_real_distribution<double> u(0, 1);
  for (size_t s = 0; s < std::size(kSeries); ++s) {
    std::vector<double> v;
    for (int p = 0; p < kPoints; ++p) v.push_back(u(rng));
    d.series.push_back(std::move(v));
  }
  return d;
}

struct Corpus {
  std::string dir;
  std::unique_ptr<Repo> repo;
  std::unique_ptr<MlflowSqlite> mlflow;
};

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

void CheckSql(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    std::fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
    std::exit(1);
  }
}

void Build(Corpus& c) {
  std::mt19937 rng(42);
  sqlite3* db = c.mlflow->db();
  CheckSql(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr), db, "begin");
  sqlite3_stmt *run_stmt, *param_stmt, *metric_stmt;
  CheckSql(sqlite3_prepare_v2(
               db,
               "INSERT INTO runs (run_uuid, name, status, start_time, "
               "end_time, lifecycle_stage, experiment_id) VALUES (?, ?, "
               "'FINISHED', ?, ?, 'active', 0)",
               -1, &run_stmt, nullptr),
           db, "prepare runs");
  CheckSql(sqlite3_prepare_v2(
               db, "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
               -1, &param_stmt, nullptr),
           db, "prepare params");
  CheckSql(sqlite3_prepare_v2(
               db,
               "INSERT INTO latest_metrics (key, value, timestamp, step, "
               "is_nan, run_uuid) VALUES (?, ?, ?, ?, 0, ?)",
               -1, &metric_stmt, nullptr),
           db, "prepare latest_metrics");
  for (int i = 0; i < kRuns; ++i) {
    const RunData d = MakeRunData(i, rng);
    Value params = Value::EmptyMap();
    Check(SetPath(params, "model", d.model), "param");
    Check(SetPath(params, "optimizer", d.optimizer), "param");
    Check(SetPath(params, "batch_size", d.batch_size), "param");
    Check(SetPath(params, "lr", d.lr), "param");
    for (const auto& [k, v] : d.extra) Check(SetPath(params, k, v), "param");
    RunOptions o;
    o.experiment = "sweep";
    o.name = absl::StrCat("run-", i);
    o.params = params;
    o.sync_policy = storage::SyncPolicy::kNever;
    auto run = c.repo->CreateRun(o);
    Check(run.status(), "create run");
    for (size_t s = 0; s < std::size(kSeries); ++s) {
      for (int p = 0; p < kPoints; ++p) {
        Check((*run)->Track(kSeries[s], d.series[s][p], p), "track");
      }
    }
    Check((*run)->Commit(), "commit");
    const std::string id = (*run)->id();
    const int64_t start_ms = 1'700'000'000'000 + i;
    sqlite3_reset(run_stmt);
    sqlite3_bind_text(run_stmt, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(run_stmt, 2, o.name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(run_stmt, 3, start_ms);
    sqlite3_bind_int64(run_stmt, 4, start_ms + 1000);
    CheckSql(sqlite3_step(run_stmt), db, "insert run");
    std::vector<std::pair<std::string, std::string>> all = {
        {"model", d.model},
        {"optimizer", d.optimizer},
        {"batch_size", absl::StrCat(d.batch_size)},
        {"lr", absl::StrCat(d.lr)}};
    all.insert(all.end(), d.extra.begin(), d.extra.end());
    for (const auto& [k, v] : all) {
      sqlite3_reset(param_stmt);
      sqlite3_bind_text(param_stmt, 1, k.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(param_stmt, 2, v.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(param_stmt, 3, id.c_str(), -1, SQLITE_TRANSIENT);
      CheckSql(sqlite3_step(param_stmt), db, "insert param");
    }
    for (size_t s = 0; s < std::size(kSeries); ++s) {
      sqlite3_reset(metric_stmt);
      sqlite3_bind_text(metric_stmt, 1, kSeries[s], -1, SQLITE_STATIC);
      sqlite3_bind_double(metric_stmt, 2, d.series[s].back());
      sqlite3_bind_int64(metric_stmt, 3, start_ms + 900);
      sqlite3_bind_int64(metric_stmt, 4, kPoints - 1);
      sqlite3_bind_text(metric_stmt, 5, id.c_str(), -1, SQLITE_TRANSIENT);
      CheckSql(sqlite3_step(metric_stmt), db, "insert metric");
    }
  }
  sqlite3_finalize(run_stmt);
  sqlite3_finalize(param_stmt);
  sqlite3_finalize(metric_stmt);
  CheckSql(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
  CheckSql(sqlite3_exec(db, "ANALYZE", nullptr, nullptr, nullptr), db,
           "analyze");
}

Corpus& GetCorpus() {
  static Corpus* c = [] {
    auto* c = new Corpus;
    const char* env = std::getenv("RUNLOG_QUERY_BENCH_DIR");
    c->dir = env ? env : "/tmp/runlog-query-bench";
    const std::string done = c->dir + "/BUILT";
    struct stat st;
    const bool built = stat(done.c_str(), &st) == 0;
    if (!built) {
      std::system(absl::StrCat("rm -rf '", c->dir, "' && mkdir -p '", c->dir,
                               "/mlflow'")
                      .c_str());
    }
    auto repo = Repo::Open(c->dir + "/runlog");
    Check(repo.status(), "open repo");
    c->repo = *std::move(repo);
    if (built) {
      auto m = MlflowSqlite::OpenExisting(c->dir + "/mlflow");
      Check(m.status(), "open mlflow db");
      c->mlflow = *std::move(m);
    } else {
      auto m = MlflowSqlite::Open(c->dir + "/mlflow");
      Check(m.status(), "create mlflow db");
      c->mlflow = *std::move(m);
      std::fprintf(stderr, "building %d runs under %s ...\n", kRuns,
                   c->dir.c_str());
      Build(*c);
      std::FILE* f = std::fopen(done.c_str(), "w");
      if (f) std::fclose(f);
    }
    return c;
  }();
  return *c;
}

// ---- runlog ----

void BM_RunlogParseAndEvaluate(benchmark::State& state) {
  Corpus& c = GetCorpus();
  auto records = c.repo->ListRuns();
  Check(records.status(), "list");
  const absl::Time now = absl::Now();
  size_t matched = 0;
  for (auto _ : state) {
    auto q = query::RunQuery::Compile(kWhere, {});
    Check(q.status(), "compile");
    matched = 0;
    for (const RunRecord& r : *records) matched += q->Matches(r, now);
    benchmark::DoNotOptimize(matched);
  }
  state.counters["runs"] = static_cast<double>(records->size());
  state.counters["matched"] = static_cast<double>(matched);
}
BENCHMARK(BM_RunlogParseAndEvaluate)->Unit(benchmark::kMillisecond);

void BM_RunlogListRunsWhere(benchmark::State& state) {
  Corpus& c = GetCorpus();
  RunFilter filter;
  filter.where = kWhere;
  filter.order_by = {"created DESC"};
  size_t matched = 0;
  for (auto _ : state) {
    auto runs = c.repo->ListRuns(filter);
    Check(runs.status(), "list");
    matched = runs->size();
    benchmark::DoNotOptimize(runs->data());
  }
  state.counters["matched"] = static_cast<double>(matched);
}
BENCHMARK(BM_RunlogListRunsWhere)->Unit(benchmark::kMillisecond);

// ---- SQLite as MLflow ----

// What MLflow's SqlAlchemyStore._search_runs sends for kWhere (one join
// per clause on a subquery; experiment and lifecycle filters; its default
// order; max_results 1000), with the values bound.
constexpr char kMlflowSearch[] =
    "SELECT runs.run_uuid, runs.name, runs.status, runs.start_time, "
    "runs.end_time FROM runs "
    "JOIN (SELECT params.run_uuid AS run_uuid FROM params WHERE params.key = "
    "'model' AND params.value = 'resnet') AS anon_1 ON runs.run_uuid = "
    "anon_1.run_uuid "
    "JOIN (SELECT params.run_uuid AS run_uuid FROM params WHERE params.key = "
    "'optimizer' AND params.value = 'adam') AS anon_2 ON runs.run_uuid = "
    "anon_2.run_uuid "
    "JOIN (SELECT params.run_uuid AS run_uuid FROM params WHERE params.key = "
    "'batch_size' AND params.value = '64') AS anon_3 ON runs.run_uuid = "
    "anon_3.run_uuid "
    "JOIN (SELECT latest_metrics.run_uuid AS run_uuid FROM latest_metrics "
    "WHERE latest_metrics.key = 'acc' AND latest_metrics.value > 0.5) AS "
    "anon_4 ON runs.run_uuid = anon_4.run_uuid "
    "JOIN (SELECT latest_metrics.run_uuid AS run_uuid FROM latest_metrics "
    "WHERE latest_metrics.key = 'loss' AND latest_metrics.value < 0.8) AS "
    "anon_5 ON runs.run_uuid = anon_5.run_uuid "
    "WHERE runs.experiment_id IN (0) AND runs.lifecycle_stage IN ('active') "
    "ORDER BY runs.start_time DESC, runs.run_uuid LIMIT 1000 OFFSET 0";

struct MlflowRun {
  std::string id, name, status;
  int64_t start = 0, end = 0;
  std::map<std::string, std::string> params, tags;
  std::map<std::string, double> metrics;
};

void BM_SqliteAsMlflowSearch(benchmark::State& state) {
  Corpus& c = GetCorpus();
  sqlite3* db = c.mlflow->db();
  size_t matched = 0;
  for (auto _ : state) {
    std::vector<MlflowRun> runs;
    std::map<std::string, size_t> index;
    sqlite3_stmt* stmt;
    CheckSql(sqlite3_prepare_v2(db, kMlflowSearch, -1, &stmt, nullptr), db,
             "prepare search");
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      MlflowRun r;
      r.id = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      r.name = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
      r.status = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 2));
      r.start = sqlite3_column_int64(stmt, 3);
      r.end = sqlite3_column_int64(stmt, 4);
      index[r.id] = runs.size();
      runs.push_back(std::move(r));
    }
    sqlite3_finalize(stmt);
    // The selectin loads of latest_metrics, params and tags.
    std::vector<std::string> quoted;
    for (const MlflowRun& r : runs) quoted.push_back("'" + r.id + "'");
    const std::string in = absl::StrJoin(quoted, ", ");
    for (const char* table : {"latest_metrics", "params", "tags"}) {
      const std::string sql = absl::StrCat(
          "SELECT ", table, ".run_uuid, ", table, ".key, ", table,
          ".value FROM ", table, " WHERE ", table, ".run_uuid IN (", in, ")");
      CheckSql(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), db,
               "prepare load");
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        MlflowRun& r = runs[index[reinterpret_cast<const char*>(
            sqlite3_column_text(stmt, 0))]];
        const std::string key =
            reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1));
        if (table[0] == 'l') {
          r.metrics[key] = sqlite3_column_double(stmt, 2);
        } else {
          const unsigned char* v = sqlite3_column_text(stmt, 2);
          (table[0] == 'p' ? r.params : r.tags)[key] =
              v ? reinterpret_cast<const char*>(v) : "";
        }
      }
      sqlite3_finalize(stmt);
    }
    matched = runs.size();
    benchmark::DoNotOptimize(runs.data());
  }
  state.counters["matched"] = static_cast<double>(matched);
}
BENCHMARK(BM_SqliteAsMlflowSearch)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace runlog::bench

BENCHMARK_MAIN();
