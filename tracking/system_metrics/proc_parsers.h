// Parsers of the Linux /proc files the system-metrics sampler reads
// (proc_sampler.h). They take the file's text and never touch a file, so
// tests and the fuzzer feed them canned or hostile text.
//
// Contract: any input gives either a value or InvalidArgument naming the
// file and the line (1-based) that could not be read; never a crash. Numbers
// that do not fit in 64 bits are errors, not wrapped.
#ifndef RUNLOG_TRACKING_SYSTEM_METRICS_PROC_PARSERS_H_
#define RUNLOG_TRACKING_SYSTEM_METRICS_PROC_PARSERS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::system_metrics {

// /proc/stat, the aggregate "cpu" line: ticks spent busy (everything but
// idle and iowait) and in total, since boot.
struct MachineCpuTicks {
  uint64_t busy = 0;
  uint64_t total = 0;
};
absl::StatusOr<MachineCpuTicks> ParseProcStat(absl::string_view text);

// /proc/self/stat: utime + stime of the process (fields 14 and 15), in
// clock ticks. The command name (field 2) may hold spaces and parentheses,
// so fields are counted from its last ')'.
absl::StatusOr<uint64_t> ParseProcessCpuTicks(absl::string_view text);

// /proc/meminfo: MemTotal and MemAvailable, in bytes.
struct MemInfo {
  uint64_t total_bytes = 0;
  uint64_t available_bytes = 0;
};
absl::StatusOr<MemInfo> ParseMemInfo(absl::string_view text);

// /proc/self/status: VmRSS in bytes (0 when absent, as for kernel threads).
absl::StatusOr<uint64_t> ParseVmRssBytes(absl::string_view text);

// /proc/diskstats: bytes read and written (sectors of 512 bytes) summed over
// whole disks. Partitions (sda1, nvme0n1p2, mmcblk0p1, of a disk listed too),
// loop, ram, zram and device-mapper devices are left out: their I/O is
// counted on the disk beneath.
struct DiskBytes {
  uint64_t read = 0;
  uint64_t written = 0;
};
absl::StatusOr<DiskBytes> ParseDiskStats(absl::string_view text);

// /proc/net/dev: bytes received and sent, summed over interfaces but "lo".
struct NetBytes {
  uint64_t received = 0;
  uint64_t sent = 0;
};
absl::StatusOr<NetBytes> ParseNetDev(absl::string_view text);

}  // namespace runlog::system_metrics

#endif  // RUNLOG_TRACKING_SYSTEM_METRICS_PROC_PARSERS_H_
