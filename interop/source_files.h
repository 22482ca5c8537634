// Reading foreign sources (logdirs, stores, files other tools wrote) without
// ever leaving them: a walk follows a symbolic link only when its target
// resolves inside the source root, visits every directory once (so a
// symlink loop ends), and reads files whole into memory bounded by their
// real size (fstat), never by a size the file declares.
//
// Errors: NotFound for a missing path, FailedPrecondition for a path of the
// wrong type, Unavailable for an I/O error, InvalidArgument for a file over
// the caller's limit; each names the path.
//
// Thread-safety: the functions keep no state.
#ifndef RUNLOG_INTEROP_SOURCE_FILES_H_
#define RUNLOG_INTEROP_SOURCE_FILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::interop {

struct SourceFile {
  std::string path;      // as opened (root joined with relative)
  std::string relative;  // under the root; "" when the root is this file
  uint64_t size = 0;
  int64_t mtime_ns = 0;
};

struct SourceWalk {
  std::vector<SourceFile> files;  // regular files, sorted by relative path
  // One line per entry not followed ("a/link: symlink leaves the source").
  std::vector<std::string> skipped;
};

// Every regular file under `root` (or `root` itself when it is a file).
absl::StatusOr<SourceWalk> WalkSource(const std::string& root);

// The whole file, at most `max_bytes` (InvalidArgument beyond).
absl::StatusOr<std::string> ReadSourceFile(const std::string& path,
                                           uint64_t max_bytes = uint64_t{1}
                                                                << 34);

// Stat of one path (following a final symlink only inside `root`).
absl::StatusOr<SourceFile> StatSourceFile(const std::string& root,
                                          const std::string& relative);

// The absolute, symlink-free form of `path` (realpath).
absl::StatusOr<std::string> CanonicalPath(const std::string& path);

// "file of N bytes" style fingerprint input: relative path, size and mtime
// of every file, hashed (XXH3-64, hex).
std::string FingerprintFiles(const std::vector<SourceFile>& files);
// XXH3-64 (hex) of bytes.
std::string FingerprintBytes(absl::string_view bytes);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_SOURCE_FILES_H_
