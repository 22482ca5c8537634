// Imports a Hugging Face Trainer `trainer_state.json`: every numeric field
// (integer or float, not boolean) of a `log_history` entry other than `step`
// and `epoch` is a scalar point of the series named by the field, at the
// entry's `step` (else its index), with the entry's numeric `epoch`. The
// file's other top-level fields (global_step, best_metric, max_steps,
// train_batch_size, ...) become the param map `trainer_state`. One run per
// file, named by the file, experiment `hf-trainer-state`; source key
// "hf-trainer-state:" + absolute path, fingerprint its size and time. The
// file has no wall times: points get the import's.
//
// Entries that are not objects, and non-numeric fields, are skipped and
// counted; a file that is not JSON fails its run.
#ifndef RUNLOG_INTEROP_HF_TRAINER_STATE_IMPORTER_H_
#define RUNLOG_INTEROP_HF_TRAINER_STATE_IMPORTER_H_

#include <string>

#include "absl/status/status.h"
#include "interop/import_session.h"

namespace runlog::interop {

inline constexpr char kTrainerStateFormat[] = "hf-trainer-state";

// Returns an error only when the file cannot be read.
absl::Status ImportTrainerState(const std::string& file,
                                ImportSession* session);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_HF_TRAINER_STATE_IMPORTER_H_
