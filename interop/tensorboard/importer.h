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
#include "absl/strings/string_view.h"
#include "interop/import_session.h"

namespace runlog::interop {

inline constexpr char kTensorBoardFormat[] = "tensorboard";

absl::Status ImportTensorBoard(const std::string& logdir,
                               ImportSession* session);

class EventDecoder;
class RunSink;
// One event file's bytes into `sink`: its torn tail and skipped damage become
// warnings naming `label`; `path` names the file in errors. `decoder` keeps
// the tags' plugins across the files of one run. (ImportTensorBoard's inner
// loop; also the fuzz target's entry.)
absl::Status ImportEventFileBytes(absl::string_view bytes,
                                  absl::string_view path,
                                  absl::string_view label, bool skip_damaged,
                                  EventDecoder& decoder, RunSink& sink);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_TENSORBOARD_IMPORTER_H_
