// The benchmarks' files: one temporary directory per process, and the two
// walks over a directory tree they need. Benchmarks only; every benchmark
// binary and the peer engines (bench/peers) use these.
#ifndef RUNLOG_BENCH_BENCH_FILES_H_
#define RUNLOG_BENCH_BENCH_FILES_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace runlog::bench {

// Sum of the sizes of the regular files at or under `path` (symlinks are
// neither followed nor counted). Errors are the file system's.
absl::StatusOr<uint64_t> TreeBytes(const std::string& path);

// Removes `path` and everything under it (symlinks are removed, not
// followed). Errors are the file system's.
absl::Status RemoveTree(const std::string& path);

// This process's directory under $TMPDIR (or /tmp), created on first use and
// removed with everything in it at exit. Aborts if it cannot be created. Not
// thread-safe on first use.
const std::string& TempRoot();

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_BENCH_FILES_H_
