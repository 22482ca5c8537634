// Imports a TensorBoard logdir: every directory holding event files (names
// containing "tfevents", TensorBoard's own rule) is one run, named by its
// path under the logdir (the logdir's own name for files directly in it).
// Its event files are read in name order (TensorBoard's order, which starts
// with the writer's start time); points keep their step and wall time.
// What each event maps to is event_decoder.h's; a run's source key is
// "tensorboard:" + its directory's absolute path, its fingerprint covers the
// names, sizes and modification times of its event files.
//
// Damage: a torn last record imports up to the tear with a warning; a CRC
// mismatch elsewhere fails that run (DataLoss naming file and offset, in the
// report) unless ImportOptions::skip_damaged. Other runs still import.
//
// Returns an error only when the logdir cannot be walked; per-run failures
// are in session->report().
#ifndef RUNLOG_INTEROP_TENSORBOARD_IMPORTER_H_
#define RUNLOG_INTEROP_TENSORBOARD_IMPORTER_H_

#include <string>

#include "absl/status/status.h"
#include "interop/import_session.h"

namespace runlog::interop {

inline constexpr char kTensorBoardFormat[] = "tensorboard";

absl::Status ImportTensorBoard(const std::string& logdir,
                               ImportSession* session);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_TENSORBOARD_IMPORTER_H_
