// Random numbers for names that must be unique across processes and hosts
// (run ids, temporary file names).
//
// absl::BitGen seeds itself from a process-wide pool that is filled once; a
// process forked from a parent that already drew from it draws the parent's
// sequence again, so sixteen forked children named their runs with a handful
// of distinct "random" suffixes. These functions ask the kernel on every
// call (getrandom(2)), which a fork cannot duplicate.
//
// Thread-safe. Never fails: should the kernel source be unavailable, the
// value mixes the pid, the thread and a nanosecond clock instead.
#ifndef RUNLOG_STORAGE_OS_RANDOM_H_
#define RUNLOG_STORAGE_OS_RANDOM_H_

#include <cstdint>

#include "absl/random/random.h"

namespace runlog::storage {

uint64_t OsRandom64();

// A generator seeded from OsRandom64(), for drawing several values at once.
absl::BitGen OsSeededBitGen();

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_OS_RANDOM_H_
