// Imports MLflow runs from a file store (an mlruns/ directory:
// <experiment id>/meta.yaml, <experiment id>/<run id>/meta.yaml, params/,
// tags/, metrics/<key> with lines "timestamp value step") or an SQLite store
// (mlflow.db: tables experiments, runs, params, tags, metrics), told apart by
// the path: a regular file is an SQLite database.
//
// Mapping: one runlog run per MLflow run, in the experiment of the MLflow
// experiment's name, named by run_name (or the mlflow.runName tag, or the run
// id); description from the mlflow.note.content tag. Params keep their
// (string) values under their own keys (dots and slashes kept in the key);
// tags go into the param map `mlflow_tags`. Each metric key is a scalar
// series with its steps, values and timestamps (ms, as wall time). Runs in
// MLflow's trash (lifecycle_stage deleted) are skipped.
//
// Status mapping (MLflow → runlog):
//   FINISHED            finished (Commit)
//   FAILED              failed, reason "mlflow status FAILED"
//   KILLED              failed, reason "mlflow status KILLED"
//   RUNNING, SCHEDULED  failed, reason "mlflow status RUNNING: the run never
//                       ended in MLflow (its process died, or it is still
//                       running; --update imports it again once it ends)"
// Source key: "mlflow:" + the run id; fingerprint: the run directory's file
// sizes and times (file store) or its status, end time and row counts
// (SQLite).
//
// Lines of a metric file that do not parse are skipped and counted; an
// unreadable run fails (in the report) and the others still import.
#ifndef RUNLOG_INTEROP_MLFLOW_IMPORTER_H_
#define RUNLOG_INTEROP_MLFLOW_IMPORTER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "interop/import_session.h"

namespace runlog::interop {

inline constexpr char kMlflowFormat[] = "mlflow";

// `experiment_ids`: only runs of these MLflow experiments (empty: all).
absl::Status ImportMlflow(const std::string& source,
                          const std::vector<std::string>& experiment_ids,
                          ImportSession* session);

// The runlog end state of an MLflow status name: nullopt for finished, else
// the failure reason.
std::optional<std::string> MlflowFailure(absl::string_view status);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_MLFLOW_IMPORTER_H_
