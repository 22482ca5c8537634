// One MLflow run as the two store readers (file_store.h, sqlite_store.h)
// hand it to the importer: metadata read up front, metrics streamed into a
// sink by `write_metrics`.
#ifndef RUNLOG_INTEROP_MLFLOW_MLFLOW_RUN_H_
#define RUNLOG_INTEROP_MLFLOW_MLFLOW_RUN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "interop/import_session.h"

namespace runlog::interop {

struct MlflowRun {
  std::string id;
  std::string experiment_id;
  std::string experiment_name;
  std::string name;
  std::string status;  // "FINISHED", "FAILED", "KILLED", "RUNNING", ...
  std::string lifecycle_stage;
  std::string fingerprint;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> tags;
  std::function<absl::Status(RunSink&)> write_metrics;
};

// Lists the runs of a store; an unreadable run is returned with an empty
// `write_metrics` and its error in `*errors` (by run id).
using MlflowRunVisitor = std::function<absl::Status(MlflowRun&)>;

// mlflow/file_store.cc: an mlruns/ directory.
absl::Status VisitFileStore(const std::string& root, uint64_t* bytes_read,
                            std::vector<std::string>* notes,
                            const MlflowRunVisitor& visit);
// mlflow/sqlite_store.cc: an mlflow.db file.
absl::Status VisitSqliteStore(const std::string& path, uint64_t* bytes_read,
                              const MlflowRunVisitor& visit);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_MLFLOW_MLFLOW_RUN_H_
