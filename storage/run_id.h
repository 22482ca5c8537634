// Run ids: the name of a run's directory under runs/. An id is 1 to 32
// characters of [0-9a-z] (format.h), so it is always a safe single path
// component: no '/', no "..", no case-folding collisions on case-insensitive
// file systems.
#ifndef RUNLOG_STORAGE_RUN_ID_H_
#define RUNLOG_STORAGE_RUN_ID_H_

#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace runlog::storage {

// True if `id` matches [0-9a-z]{1,32}.
bool IsValidRunId(absl::string_view id);

// OK for a valid id, otherwise InvalidArgument naming the id (C-escaped and
// cut to at most 64 characters, so hostile input cannot flood a message).
absl::Status ValidateRunId(absl::string_view id);

// A new 17-character id: 9 base-36 digits of milliseconds since the Unix
// epoch (zero-padded; clamped to [0, 36^9) — the year 5188), then 8 random
// base-36 digits drawn from `gen`. Ids made at later milliseconds sort after
// earlier ones as plain strings.
std::string NewRunId(absl::Time now, absl::BitGenRef gen);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_ID_H_
