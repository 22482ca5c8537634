#include "storage/os_random.h"

#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <random>
#include <thread>

namespace runlog::storage {

uint64_t OsRandom64() {
  uint64_t value = 0;
  ssize_t n;
  do {
    n = ::getrandom(&value, sizeof(value), 0);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(value))) return value;
  // No kernel entropy source (a seccomp filter, an ancient kernel): mix what
  // differs between processes and calls, through splitmix64.
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t z = static_cast<uint64_t>(ts.tv_nsec) ^
               (static_cast<uint64_t>(ts.tv_sec) << 30) ^
               (static_cast<uint64_t>(::getpid()) << 42) ^
               std::hash<std::thread::id>()(std::this_thread::get_id());
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

absl::BitGen OsSeededBitGen() {
  const uint64_t a = OsRandom64();
  const uint64_t b = OsRandom64();
  std::seed_seq seq{static_cast<uint32_t>(a), static_cast<uint32_t>(a >> 32),
                    static_cast<uint32_t>(b), static_cast<uint32_t>(b >> 32)};
  return absl::BitGen(seq);
}

}  // namespace runlog::storage
