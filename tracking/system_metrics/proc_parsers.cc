#include "tracking/system_metrics/proc_parsers.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace runlog::system_metrics {
namespace {

absl::Status Bad(absl::string_view file, size_t line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", what));
}

// The whitespace-separated fields of `line`.
std::vector<absl::string_view> Fields(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
}

bool ToU64(absl::string_view s, uint64_t* out) {
  return !s.empty() && s[0] != '-' && s[0] != '+' && absl::SimpleAtoi(s, out);
}

// a + b, false when it would wrap.
bool AddU64(uint64_t a, uint64_t b, uint64_t* out) {
  *out = a + b;
  return *out >= a;
}

// A kB figure of /proc/meminfo or /proc/self/status ("  123456 kB").
bool ToKilobytes(absl::string_view rest, uint64_t* bytes) {
  std::vector<absl::string_view> f = Fields(rest);
  uint64_t kb = 0;
  if (f.empty() || f.size() > 2 || !ToU64(f[0], &kb)) return false;
  if (f.size() == 2 && f[1] != "kB") return false;
  if (kb > UINT64_MAX / 1024) return false;
  *bytes = kb * 1024;
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Whether `name` is a partition of a disk in `disks` (sda1 of sda,
// nvme0n1p2 of nvme0n1, mmcblk0p1 of mmcblk0).
bool IsPartition(absl::string_view name,
                 const absl::flat_hash_set<absl::string_view>& disks) {
  absl::string_view base = name;
  while (!base.empty() && IsDigit(base.back())) base.remove_suffix(1);
  if (base.size() == name.size() || base.empty()) return false;
  if (disks.contains(base)) return true;
  if (base.back() == 'p') {
    base.remove_suffix(1);
    return !base.empty() && disks.contains(base);
  }
  return false;
}

bool IsVirtualDisk(absl::string_view name) {
  return absl::StartsWith(name, "loop") || absl::StartsWith(name, "ram") ||
         absl::StartsWith(name, "zram") || absl::StartsWith(name, "dm-") ||
         absl::StartsWith(name, "md");
}

}  // namespace

absl::StatusOr<MachineCpuTicks> ParseProcStat(absl::string_view text) {
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::vector<absl::string_view> f = Fields(line);
    if (f.empty() || f[0] != "cpu") continue;
    // user nice system idle iowait irq softirq steal [guest guest_nice]:
    // guest time is already counted in user and nice.
    if (f.size() < 5) return Bad("/proc/stat", line_no, "short cpu line");
    MachineCpuTicks t;
    const size_t n = std::min<size_t>(f.size(), 9);
    for (size_t i = 1; i < n; ++i) {
      uint64_t v = 0;
      if (!ToU64(f[i], &v) || !AddU64(t.total, v, &t.total)) {
        return Bad("/proc/stat", line_no,
                   absl::StrCat("cpu field ", i, " is not a tick count"));
      }
      if (i != 4 && i != 5 && !AddU64(t.busy, v, &t.busy)) {
        return Bad("/proc/stat", line_no, "cpu ticks overflow");
      }
    }
    return t;
  }
  return Bad("/proc/stat", line_no, "no aggregate cpu line");
}

absl::StatusOr<uint64_t> ParseProcessCpuTicks(absl::string_view text) {
  const size_t close = text.rfind(')');
  if (close == absl::string_view::npos) {
    return Bad("/proc/self/stat", 1, "no ')' after the command name");
  }
  // After the command: field 3 (state) onwards; utime and stime are fields
  // 14 and 15, the 12th and 13th here.
  std::vector<absl::string_view> f =
      Fields(absl::StripAsciiWhitespace(text.substr(close + 1)));
  uint64_t utime = 0, stime = 0, sum = 0;
  if (f.size() < 13 || !ToU64(f[11], &utime) || !ToU64(f[12], &stime) ||
      !AddU64(utime, stime, &sum)) {
    return Bad("/proc/self/stat", 1, "no utime and stime fields");
  }
  return sum;
}

absl::StatusOr<MemInfo> ParseMemInfo(absl::string_view text) {
  MemInfo m;
  bool total = false, available = false;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view rest = line;
    uint64_t* out = nullptr;
    if (absl::ConsumePrefix(&rest, "MemTotal:")) {
      out = &m.total_bytes;
      total = true;
    } else if (absl::ConsumePrefix(&rest, "MemAvailable:")) {
      out = &m.available_bytes;
      available = true;
    } else {
      continue;
    }
    if (!ToKilobytes(rest, out)) {
      return Bad("/proc/meminfo", line_no, "not a kB figure");
    }
  }
  if (!total || !available) {
    return Bad("/proc/meminfo", line_no, "no MemTotal and MemAvailable lines");
  }
  return m;
}

absl::StatusOr<uint64_t> ParseVmRssBytes(absl::string_view text) {
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "VmRSS:")) continue;
    uint64_t bytes = 0;
    if (!ToKilobytes(rest, &bytes)) {
      return Bad("/proc/self/status", line_no, "VmRSS is not a kB figure");
    }
    return bytes;
  }
  return 0;
}

absl::StatusOr<DiskBytes> ParseDiskStats(absl::string_view text) {
  struct Row {
    absl::string_view name;
    uint64_t read_sectors, written_sectors;
  };
  std::vector<Row> rows;
  absl::flat_hash_set<absl::string_view> names;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    std::vector<absl::string_view> f = Fields(line);
    if (f.empty()) continue;
    // major minor name reads merged sectors_read ms writes merged
    // sectors_written ...
    Row r{};
    if (f.size() < 10 || !ToU64(f[5], &r.read_sectors) ||
        !ToU64(f[9], &r.written_sectors)) {
      return Bad("/proc/diskstats", line_no, "not a disk statistics line");
    }
    r.name = f[2];
    if (IsVirtualDisk(r.name)) continue;
    rows.push_back(r);
    names.insert(r.name);
  }
  DiskBytes d;
  uint64_t read = 0, written = 0;
  for (const Row& r : rows) {
    if (IsPartition(r.name, names)) continue;
    if (!AddU64(read, r.read_sectors, &read) ||
        !AddU64(written, r.written_sectors, &written)) {
      return Bad("/proc/diskstats", line_no, "sector counts overflow");
    }
  }
  if (read > UINT64_MAX / 512 || written > UINT64_MAX / 512) {
    return Bad("/proc/diskstats", line_no, "byte counts overflow");
  }
  d.read = read * 512;
  d.written = written * 512;
  return d;
}

absl::StatusOr<NetBytes> ParseNetDev(absl::string_view text) {
  NetBytes n;
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    const size_t colon = line.find(':');
    // The two header lines have '|' and no ':'.
    if (colon == absl::string_view::npos) {
      if (Fields(line).empty() || line.find('|') != absl::string_view::npos) {
        continue;
      }
      return Bad("/proc/net/dev", line_no, "no ':' after the interface");
    }
    absl::string_view iface = absl::StripAsciiWhitespace(line.substr(0, colon));
    // rx: bytes packets errs drop fifo frame compressed multicast;
    // tx: bytes ...
    std::vector<absl::string_view> f = Fields(line.substr(colon + 1));
    uint64_t rx = 0, tx = 0;
    if (f.size() < 16 || !ToU64(f[0], &rx) || !ToU64(f[8], &tx)) {
      return Bad("/proc/net/dev", line_no, "not an interface line");
    }
    if (iface == "lo") continue;
    if (!AddU64(n.received, rx, &n.received) || !AddU64(n.sent, tx, &n.sent)) {
      return Bad("/proc/net/dev", line_no, "byte counts overflow");
    }
  }
  return n;
}

}  // namespace runlog::system_metrics
