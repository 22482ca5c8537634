// Framing overhead of SegmentWriter next to plain write(2).
//
// Both sides write the same payload bytes to a fresh file in a temp dir on the
// POSIX file system, through a buffer of the same size (the writer's default
// 256 KiB), without fsync. The writer additionally frames every payload (16
// byte header, XXH3-64 of the payload) and keeps the whole-file XXH3-64 for
// the manifest. Bytes/s counts payload bytes on both sides.
//
//   BM_SegmentWriter/<payload>   SegmentWriter::AppendChunk + Finish(false)
//   BM_RawWrite/<payload>        memcpy into a buffer + write(2) + close(2)
//   BM_ChecksumsOnly/<payload>   the two hashes alone, no I/O
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/bench_files.h"
#include "benchmark/benchmark.h"
#include "storage/checksum.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/segment.h"
#include "storage/segment_writer.h"

namespace runlog::storage {

using ::runlog::bench::TempRoot;

namespace {

constexpr uint64_t kBytesPerIteration = 64u << 20;
constexpr size_t kBufferSize = 256u << 10;

std::string Payload(size_t size) {
  std::mt19937_64 rng(42);
  std::string p(size, '\0');
  for (char& c : p) c = static_cast<char>(rng());
  return p;
}

void Check(const absl::Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::abort();
  }
}

void BM_SegmentWriter(benchmark::State& state) {
  const std::string payload = Payload(static_cast<size_t>(state.range(0)));
  const uint64_t chunks = kBytesPerIteration / payload.size();
  FileSystem* fs = FileSystem::Default();
  const std::string dir = TempRoot();
  SegmentWriterOptions options;
  options.buffer_size = kBufferSize;
  options.sync_on_roll = false;
  for (auto _ : state) {
    auto writer = SegmentWriter::Create(fs, dir, "bench", options);
    Check(writer.status());
    for (uint64_t i = 0; i < chunks; ++i) {
      Check((*writer)->AppendChunk(format::kChunkRecords, payload));
    }
    Check((*writer)->Finish(/*sync=*/false));
    benchmark::DoNotOptimize((*writer)->segments().back().checksum);
    state.PauseTiming();
    for (const SegmentInfo& info : (*writer)->segments()) {
      Check(fs->RemoveFile(JoinPath(dir, SegmentFileName(info.number))));
    }
    state.ResumeTiming();
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * chunks * payload.size()));
}

void BM_RawWrite(benchmark::State& state) {
  const std::string payload = Payload(static_cast<size_t>(state.range(0)));
  const uint64_t chunks = kBytesPerIteration / payload.size();
  const std::string path = JoinPath(TempRoot(), "raw");
  std::string buffer;
  buffer.reserve(kBufferSize + 4096);
  auto write_all = [](int fd, const std::string& data) {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0) {
        std::perror("write");
        std::abort();
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  };
  for (auto _ : state) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      std::perror("open");
      std::abort();
    }
    for (uint64_t i = 0; i < chunks; ++i) {
      buffer.append(payload);
      if (buffer.size() >= kBufferSize) {
        write_all(fd, buffer);
        buffer.clear();
      }
    }
    write_all(fd, buffer);
    buffer.clear();
    ::close(fd);
    state.PauseTiming();
    ::unlink(path.c_str());
    state.ResumeTiming();
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * chunks * payload.size()));
}

// What framing adds per byte in CPU: the per-chunk checksum and the
// whole-file streaming checksum.
void BM_ChecksumsOnly(benchmark::State& state) {
  const std::string payload = Payload(static_cast<size_t>(state.range(0)));
  const uint64_t chunks = kBytesPerIteration / payload.size();
  for (auto _ : state) {
    StreamingChecksum file;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < chunks; ++i) {
      sum += Checksum64(payload, i);
      file.Update(payload);
      sum += file.Digest();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * chunks * payload.size()));
}

BENCHMARK(BM_SegmentWriter)->Arg(4 << 10)->Arg(64 << 10)->UseRealTime();
BENCHMARK(BM_RawWrite)->Arg(4 << 10)->Arg(64 << 10)->UseRealTime();
BENCHMARK(BM_ChecksumsOnly)->Arg(4 << 10)->Arg(64 << 10)->UseRealTime();

}  // namespace
}  // namespace runlog::storage

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
