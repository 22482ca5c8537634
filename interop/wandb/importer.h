// Imports W&B offline runs: every file named run-*.wandb under the given
// directory (wandb/offline-run-*/run-*.wandb, wandb/run-*/run-*.wandb) is one
// run. Records (interop/proto/wandb.proto, parsed with libprotobuf) map so:
//   run      experiment = project, name = display name (else the run id),
//            description = notes, tags; its config as below
//   config   every item's JSON value set as the param at its key (nested_key
//            gives the path); removals are reported, params cannot shrink
//   history  each row's numeric values (bools as 0/1) are scalar points and
//            its strings text points, at the row's step (HistoryStep, else
//            _step) and wall time (_timestamp); keys nested_key-joined by
//            "/"; _step and _timestamp themselves are not series; media and
//            other JSON objects are skipped by their _type (the files they
//            name live beside the .wandb file and are not imported)
//   summary  the last value of every key, in the param map `wandb_summary`
//   stats    system metrics, scalar series "system/<key>" numbered by sample
//   output   console lines, text series "output/stdout" and "output/stderr"
//   exit     exit code 0 commits as finished; another fails the run with
//            "wandb exit code N"; no exit record at all fails it with "wandb:
//            no exit record (the process died, or is still running)"
// Other records (files, artifacts, telemetry, metric definitions,
// requests...) are counted as skipped. Source key "wandb:" + run id (the file
// path when the run record is missing); fingerprint: size and mtime.
//
// Damage as log_reader.h; a record that is not a protobuf Record is DataLoss
// (skipped with skip_damaged).
#ifndef RUNLOG_INTEROP_WANDB_IMPORTER_H_
#define RUNLOG_INTEROP_WANDB_IMPORTER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "interop/import_session.h"

namespace runlog::interop {

inline constexpr char kWandbFormat[] = "wandb";

absl::Status ImportWandb(const std::string& dir, ImportSession* session);

class RunSink;
// One .wandb file's bytes into `sink`, `path` naming it in messages
// (ImportWandb's inner step; also the fuzz target's entry).
absl::Status ImportWandbBytes(absl::string_view bytes, absl::string_view path,
                              bool skip_damaged, RunSink& sink);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_WANDB_IMPORTER_H_
