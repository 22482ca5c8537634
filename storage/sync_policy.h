// When a run's bytes are made durable. The default is the right one for
// training jobs: a crash may lose the tail of an unfinished run, never a
// committed one.
#ifndef RUNLOG_STORAGE_SYNC_POLICY_H_
#define RUNLOG_STORAGE_SYNC_POLICY_H_

namespace runlog::storage {

enum class SyncPolicy {
  // fsync only while committing (invariant 3) and when a segment rolls.
  kOnCommit,
  // Also fsync at every Flush(): a power loss loses at most the unflushed
  // buffer of a live run.
  kEveryFlush,
  // Never fsync, not even at commit: a process crash loses nothing handed to
  // the OS, but a power loss may lose or tear anything, committed runs too.
  kNever,
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_SYNC_POLICY_H_
