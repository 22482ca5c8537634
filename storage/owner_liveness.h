// Who writes a run, and whether that writer can still be alive
// (invariant 6: liveness without locks).
//
// Each run directory holds OWNER, written once at creation, naming the
// writing process: hostname, machine-id, boot_id, pid, process start time
// (field 22 of /proc/<pid>/stat, clock ticks since boot) and pid namespace
// (inode of /proc/self/ns/pid). DecideLiveness() turns that record, the local
// identity, a process probe and the run's last write time into a state; the
// decision table is in docs/design.md. When unsure it keeps the run.
#ifndef RUNLOG_STORAGE_OWNER_LIVENESS_H_
#define RUNLOG_STORAGE_OWNER_LIVENESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace runlog::storage {

// Identity of a machine boot and pid namespace. Empty strings / 0 mean
// "could not be read".
struct HostIdentity {
  std::string hostname;
  std::string machine_id;
  std::string boot_id;
  uint64_t pid_namespace = 0;
};

struct OwnerRecord {
  HostIdentity host;
  int64_t pid = 0;
  uint64_t start_time = 0;  // clock ticks since boot
  absl::Time created = absl::UnixEpoch();
};

// Text encoding: first line format::kOwnerHeaderLine, then "key=value" lines
// hostname, machine_id, boot_id, pid_ns, pid, start_time, created_us.
std::string EncodeOwner(const OwnerRecord& owner);
// DataLoss naming `path` for any malformed content (missing key, bad number,
// unknown header). Values may not contain newlines; unknown keys are ignored.
absl::StatusOr<OwnerRecord> DecodeOwner(absl::string_view text,
                                        absl::string_view path);

// Reads the facts liveness depends on. Injectable so tests can cover every
// row of the decision table. Thread-safe. The real probe (Default()) reads
// what cannot change while a process lives (machine-id, boot_id, the pid
// namespace, its own start time) once per thread and process, and again in
// a forked child; the hostname at every call.
class SystemProbe {
 public:
  virtual ~SystemProbe() = default;
  // hostname (gethostname), /etc/machine-id, /proc/sys/kernel/random/boot_id,
  // and the inode of /proc/self/ns/pid.
  virtual HostIdentity LocalIdentity() = 0;
  virtual int64_t SelfPid() = 0;
  // Start time of process `pid` in this pid namespace, or nullopt if there is
  // no such process (or it cannot be read).
  virtual std::optional<uint64_t> ProcessStartTime(int64_t pid) = 0;
  // The real /proc-backed probe (never null, never destroyed).
  static SystemProbe* Default();
};

// The record describing this process, to be written as OWNER.
OwnerRecord CurrentOwner(SystemProbe& probe, absl::Time now);

enum class RunState {
  kCommitted,  // COMMIT exists (decided by the caller, not here)
  kLive,       // the writer is certainly alive
  kAbandoned,  // the writer is certainly gone (or stale past the limit)
  kUnknown,    // cannot tell; keep it
};
absl::string_view RunStateName(RunState state);

struct LivenessVerdict {
  RunState state = RunState::kUnknown;
  std::string reason;  // one line for reports, e.g. "pid 4242 is gone"
};

// Decides whether an uncommitted run's writer is alive.
//   owner       - parsed OWNER, or the error reading/parsing it
//   local       - this machine's identity (probe.LocalIdentity())
//   last_write  - latest modification time of any file in the run directory
//   staleness   - how long without writes before a run whose writer cannot be
//                 probed (another host, another pid namespace, unreadable
//                 identity, missing/garbled OWNER) counts as abandoned
LivenessVerdict DecideLiveness(const absl::StatusOr<OwnerRecord>& owner,
                               const HostIdentity& local, SystemProbe& probe,
                               absl::Time last_write, absl::Time now,
                               absl::Duration staleness);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_OWNER_LIVENESS_H_
