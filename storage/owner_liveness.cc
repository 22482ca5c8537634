#include "storage/owner_liveness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/format.h"

namespace runlog::storage {
namespace {

constexpr char kHostnameKey[] = "hostname";
constexpr char kMachineIdKey[] = "machine_id";
constexpr char kBootIdKey[] = "boot_id";
constexpr char kPidNsKey[] = "pid_ns";
constexpr char kPidKey[] = "pid";
constexpr char kStartTimeKey[] = "start_time";
constexpr char kCreatedKey[] = "created_us";

// OWNER is line-oriented, so a value must never introduce a line break. The
// values come from the kernel and can't contain one in practice; should one
// ever do, it is neutralised here rather than written as a second line that
// could forge a key.
std::string OwnerValue(absl::string_view v) {
  std::string out(v);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\0') c = '?';
  }
  return out;
}

absl::Status Malformed(absl::string_view path, int line,
                       absl::string_view what) {
  return absl::DataLossError(absl::StrCat(path, ": line ", line, ": ", what));
}

// Strict decimal: digits only (and a leading '-' when signed), no spaces or
// '+', which SimpleAtoi would accept. OWNER is machine-written, so anything
// else means damage.
bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}
bool ParseU64(absl::string_view s, uint64_t* v) {
  return AllDigits(s) && absl::SimpleAtoi(s, v);
}
bool ParseI64(absl::string_view s, int64_t* v) {
  absl::string_view digits = s;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  return AllDigits(digits) && absl::SimpleAtoi(s, v);
}

std::string Age(absl::Time last_write, absl::Time now) {
  if (last_write == absl::InfinitePast()) return "no write recorded";
  const absl::Duration age = now - last_write;
  if (age < absl::ZeroDuration()) {
    return absl::StrCat(
        "last write ",
        absl::FormatDuration(absl::Trunc(-age, absl::Seconds(1))),
        " in the future (clock skew)");
  }
  if (age < absl::Seconds(1)) return "last write under 1s ago";
  return absl::StrCat("last write ",
                      absl::FormatDuration(absl::Trunc(age, absl::Seconds(1))),
                      " ago");
}

// For writers that cannot be probed: only time without writes can show they
// are gone. A last write in the future (another host's clock ahead of ours)
// counts as fresh, which keeps the run.
LivenessVerdict StalenessRule(absl::string_view who, absl::Time last_write,
                              absl::Time now, absl::Duration staleness) {
  LivenessVerdict v;
  // An infinite staleness means "never by time alone", even for a run with
  // no recorded write (whose age is itself infinite).
  const bool stale =
      staleness != absl::InfiniteDuration() && now - last_write >= staleness;
  v.state = stale ? RunState::kAbandoned : RunState::kUnknown;
  v.reason = absl::StrCat(who, "; ", Age(last_write, now),
                          stale ? " (stale after " : " (not stale until ",
                          absl::FormatDuration(staleness), ")");
  return v;
}

// ---- /proc-backed probe
// ------------------------------------------------------ These read tiny
// kernel-provided files with plain POSIX calls instead of through FileSystem:
// this is introspection of the running process and machine, not repository I/O,
// so there is nothing to inject or fault — the one deliberate exception to "all
// I/O through FileSystem". Tests replace the whole SystemProbe instead.

// Reads at most 4 KiB of a small system file; nullopt if it cannot be read.
std::optional<std::string> ReadSmallFile(const char* path) {
  int fd;
  do {
    fd = ::open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  while (out.size() < sizeof(buf)) {
    const ssize_t n = ::read(fd, buf, sizeof(buf) - out.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string ReadTrimmed(const char* path) {
  std::optional<std::string> s = ReadSmallFile(path);
  if (!s.has_value()) return "";
  return std::string(absl::StripAsciiWhitespace(*s));
}

// Parses field 22 (starttime) of /proc/<pid>/stat. The second field, comm, is
// the executable name in parentheses and may itself contain spaces and ')',
// so fields are counted from the LAST ')'. A zombie ('Z') or dead ('X')
// process has exited: it can never write again, so it counts as gone
// (nullopt). Text that cannot be parsed still proves the process exists, so
// it yields 0, "start time unknown".
std::optional<uint64_t> ParseStatStartTime(absl::string_view stat) {
  const size_t close = stat.rfind(')');
  if (close == absl::string_view::npos) return 0;
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(close + 1), ' ', absl::SkipEmpty());
  if (!fields.empty() && (fields[0] == "Z" || fields[0] == "X")) {
    return std::nullopt;
  }
  // fields[0] is field 3 (state), so field 22 is fields[19].
  uint64_t start = 0;
  if (fields.size() < 20 ||
      !ParseU64(absl::StripAsciiWhitespace(fields[19]), &start)) {
    return 0;
  }
  return start;
}

// True when /proc belongs to this process's pid namespace.
bool ProcSelfIsThisProcess() {
  char buf[32];
  const ssize_t n = ::readlink("/proc/self", buf, sizeof(buf) - 1);
  if (n <= 0) return false;
  buf[n] = '\0';
  int64_t pid = 0;
  return absl::SimpleAtoi(absl::string_view(buf, static_cast<size_t>(n)),
                          &pid) &&
         pid == ::getpid();
}

class ProcSystemProbe : public SystemProbe {
 public:
  HostIdentity LocalIdentity() override {
    HostIdentity id;
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) id.hostname = host;
    const Fixed& fixed = FixedFacts();
    id.machine_id = fixed.machine_id;
    id.boot_id = fixed.boot_id;
    id.pid_namespace = fixed.pid_namespace;
    return id;
  }

  int64_t SelfPid() override { return ::getpid(); }

  std::optional<uint64_t> ProcessStartTime(int64_t pid) override {
    if (pid > 0 && pid == ::getpid()) {
      const Fixed& fixed = FixedFacts();
      if (fixed.start_time.has_value()) return fixed.start_time;
    }
    return ReadStartTime(pid);
  }

 private:
  // What cannot change while this process lives: the machine, the boot, its
  // pid namespace (unshare(CLONE_NEWPID) moves only children) and its own
  // start time. Read once per process, not at every run's creation (15
  // syscalls each time); a fork makes another process, whose first call
  // reads them again. The hostname can change, so it is read at every call.
  struct Fixed {
    int64_t pid = 0;
    std::string machine_id;
    std::string boot_id;
    uint64_t pid_namespace = 0;
    std::optional<uint64_t> start_time;
  };
  // Per thread, so that no lock is taken (a lock held by another thread at
  // a fork would stay held in the child forever) and nothing is shared.
  static const Fixed& FixedFacts() {
    thread_local Fixed cached;
    const int64_t pid = ::getpid();
    if (cached.pid == pid) return cached;
    Fixed fixed;
    fixed.pid = pid;
    fixed.machine_id = ReadTrimmed("/etc/machine-id");
    if (fixed.machine_id.empty()) {
      fixed.machine_id = ReadTrimmed("/var/lib/dbus/machine-id");
    }
    fixed.boot_id = ReadTrimmed("/proc/sys/kernel/random/boot_id");
    struct stat st;
    // A pid namespace that kept its parent's /proc (`unshare --pid --fork`
    // without a new mount of /proc) shows another namespace's processes:
    // /proc/self then names a different pid than getpid(), and probing pids
    // there would judge strangers. Leave the namespace unknown (0), so that
    // this process's runs, and the runs it judges, fall to the staleness
    // rule instead.
    if (ProcSelfIsThisProcess() && ::stat("/proc/self/ns/pid", &st) == 0) {
      fixed.pid_namespace = static_cast<uint64_t>(st.st_ino);
    }
    // Kept only when read (an unreadable /proc is tried again next time).
    std::optional<uint64_t> start = ReadStartTime(pid);
    if (start.has_value() && *start != 0) fixed.start_time = start;
    cached = std::move(fixed);
    return cached;
  }

  static std::optional<uint64_t> ReadStartTime(int64_t pid) {
    // pid 0 and negative pids name process groups for kill(2); never probe
    // them.
    if (pid <= 0 || pid > INT_MAX) return std::nullopt;
    const std::string path = absl::StrCat("/proc/", pid, "/stat");
    std::optional<std::string> stat = ReadSmallFile(path.c_str());
    if (stat.has_value()) return ParseStatStartTime(*stat);
    // /proc can hide other users' processes (mount option hidepid), which
    // looks exactly like "no such process". kill(pid, 0) tells the truth:
    // EPERM means it exists. Then the start time is unknown (0), which
    // DecideLiveness treats as "cannot tell" rather than as gone.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return 0;
    return std::nullopt;
  }
};

}  // namespace

std::string EncodeOwner(const OwnerRecord& owner) {
  return absl::StrCat(
      format::kOwnerHeaderLine, "\n",                               //
      kHostnameKey, "=", OwnerValue(owner.host.hostname), "\n",     //
      kMachineIdKey, "=", OwnerValue(owner.host.machine_id), "\n",  //
      kBootIdKey, "=", OwnerValue(owner.host.boot_id), "\n",        //
      kPidNsKey, "=", owner.host.pid_namespace, "\n",               //
      kPidKey, "=", owner.pid, "\n",                                //
      kStartTimeKey, "=", owner.start_time, "\n",                   //
      kCreatedKey, "=", absl::ToUnixMicros(owner.created), "\n");
}

absl::StatusOr<OwnerRecord> DecodeOwner(absl::string_view text,
                                        absl::string_view path) {
  if (text.size() > format::kMaxOwnerFileSize) {
    return absl::DataLossError(absl::StrCat(
        path, ": ", text.size(), " bytes exceeds the OWNER limit of ",
        format::kMaxOwnerFileSize));
  }
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // A well-formed file ends with '\n', which leaves one empty last piece.
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty() || lines[0] != format::kOwnerHeaderLine) {
    return Malformed(
        path, 1,
        absl::StrCat("expected header \"", format::kOwnerHeaderLine, "\""));
  }

  OwnerRecord owner;
  enum Field { kHost, kMachine, kBoot, kPidNs, kPid, kStart, kCreated, kCount };
  const char* const kKeys[kCount] = {kHostnameKey, kMachineIdKey, kBootIdKey,
                                     kPidNsKey,    kPidKey,       kStartTimeKey,
                                     kCreatedKey};
  bool seen[kCount] = {};
  for (size_t i = 1; i < lines.size(); ++i) {
    const int line_no = static_cast<int>(i) + 1;
    const absl::string_view line = lines[i];
    // Split at the first '=' only: a value may itself contain '='.
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return Malformed(path, line_no, "expected key=value");
    }
    const absl::string_view key = line.substr(0, eq);
    const absl::string_view value = line.substr(eq + 1);
    if (value.find('\r') != absl::string_view::npos ||
        value.find('\0') != absl::string_view::npos) {
      return Malformed(path, line_no,
                       absl::StrCat(key, ": control character in value"));
    }
    int field = kCount;
    for (int f = 0; f < kCount; ++f) {
      if (key == kKeys[f]) field = f;
    }
    if (field == kCount) continue;  // unknown keys: written by a newer runlog
    if (seen[field]) {
      return Malformed(path, line_no, absl::StrCat("duplicate key ", key));
    }
    seen[field] = true;
    bool ok = true;
    switch (field) {
      case kHost:
        owner.host.hostname = std::string(value);
        break;
      case kMachine:
        owner.host.machine_id = std::string(value);
        break;
      case kBoot:
        owner.host.boot_id = std::string(value);
        break;
      case kPidNs:
        ok = ParseU64(value, &owner.host.pid_namespace);
        break;
      case kPid:
        ok = ParseI64(value, &owner.pid) && owner.pid > 0;
        break;
      case kStart:
        ok = ParseU64(value, &owner.start_time);
        break;
      case kCreated: {
        int64_t us = 0;
        ok = ParseI64(value, &us);
        owner.created = absl::FromUnixMicros(us);
        break;
      }
    }
    if (!ok) {
      return Malformed(
          path, line_no,
          absl::StrCat(key, ": bad number \"",
                       absl::CHexEscape(value.substr(0, 32)), "\""));
    }
  }
  for (int f = 0; f < kCount; ++f) {
    if (!seen[f]) {
      return absl::DataLossError(
          absl::StrCat(path, ": missing key ", kKeys[f]));
    }
  }
  return owner;
}

SystemProbe* SystemProbe::Default() {
  static SystemProbe* const probe = new ProcSystemProbe();
  return probe;
}

OwnerRecord CurrentOwner(SystemProbe& probe, absl::Time now) {
  OwnerRecord owner;
  owner.host = probe.LocalIdentity();
  owner.pid = probe.SelfPid();
  // 0 if unreadable: DecideLiveness then never calls the pid "reused".
  owner.start_time = probe.ProcessStartTime(owner.pid).value_or(0);
  owner.created = now;
  return owner;
}

absl::string_view RunStateName(RunState state) {
  switch (state) {
    case RunState::kCommitted:
      return "committed";
    case RunState::kLive:
      return "live";
    case RunState::kAbandoned:
      return "abandoned";
    case RunState::kUnknown:
      return "unknown";
  }
  return "invalid";
}

LivenessVerdict DecideLiveness(const absl::StatusOr<OwnerRecord>& owner,
                               const HostIdentity& local, SystemProbe& probe,
                               absl::Time last_write, absl::Time now,
                               absl::Duration staleness) {
  // Row 1: no usable OWNER (a crash between mkdir and the OWNER write, or
  // damage). Nothing identifies the writer, so only time can tell.
  if (!owner.ok()) {
    std::string why(owner.status().message());
    absl::StrReplaceAll({{"\n", " "}, {"\r", " "}}, &why);
    return StalenessRule(absl::StrCat("OWNER unusable (", why, ")"), last_write,
                         now, staleness);
  }
  const OwnerRecord& o = *owner;
  const HostIdentity& h = o.host;

  const bool same_hostname =
      !h.hostname.empty() && h.hostname == local.hostname;
  const bool same_machine_id = h.machine_id == local.machine_id;
  const bool same_boot = !h.boot_id.empty() && h.boot_id == local.boot_id;

  // Row 2: same machine and the same boot. An empty machine-id on both sides
  // is common in containers; the boot_id (a random UUID per kernel boot) and
  // the pid namespace still pin the identity.
  if (same_hostname && same_machine_id && same_boot) {
    if (h.pid_namespace == 0 || h.pid_namespace != local.pid_namespace) {
      // Row 2b: our pid numbers mean other processes than the owner's.
      return StalenessRule(
          absl::StrCat("owner pid ", o.pid, " is in another pid namespace on ",
                       h.hostname),
          last_write, now, staleness);
    }
    // Row 2a: the pid can be probed directly.
    const std::optional<uint64_t> start = probe.ProcessStartTime(o.pid);
    if (!start.has_value()) {
      return {RunState::kAbandoned,
              absl::StrCat("pid ", o.pid, " on ", h.hostname, " is gone; ",
                           Age(last_write, now))};
    }
    if (*start == 0 || o.start_time == 0) {
      // A process with that pid exists but one of the start times could not
      // be read, so reuse cannot be ruled out or in: keep.
      return {RunState::kUnknown,
              absl::StrCat("pid ", o.pid, " on ", h.hostname,
                           " exists but its start time cannot be compared; ",
                           Age(last_write, now))};
    }
    if (*start != o.start_time) {
      return {RunState::kAbandoned,
              absl::StrCat("pid ", o.pid, " on ", h.hostname,
                           " was reused (start time ", *start, ", OWNER says ",
                           o.start_time, "); ", Age(last_write, now))};
    }
    return {RunState::kLive,
            absl::StrCat("pid ", o.pid, " on ", h.hostname, " is running; ",
                         Age(last_write, now))};
  }

  // Row 3: the same installed machine, but its boot_id changed: every
  // process of the earlier boot is gone.
  if (same_hostname && !h.machine_id.empty() && same_machine_id &&
      !h.boot_id.empty() && !local.boot_id.empty() && !same_boot) {
    return {RunState::kAbandoned,
            absl::StrCat("machine rebooted since the run started (pid ", o.pid,
                         " on ", h.hostname, "); ", Age(last_write, now))};
  }

  // Row 4: another host, or not enough identity to tell.
  return StalenessRule(
      absl::StrCat("owner pid ", o.pid, " on host ",
                   h.hostname.empty() ? "<unknown>" : h.hostname),
      last_write, now, staleness);
}

}  // namespace runlog::storage
