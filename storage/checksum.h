// XXH3-64 checksums. This header is the only way runlog code reaches xxHash;
// checksum.cc is the only file that includes <xxhash.h>.
#ifndef RUNLOG_STORAGE_CHECKSUM_H_
#define RUNLOG_STORAGE_CHECKSUM_H_

#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"

namespace runlog::storage {

// XXH3-64 of `data`, optionally seeded.
uint64_t Checksum64(absl::string_view data, uint64_t seed = 0);

// Incremental XXH3-64 over a byte stream; Digest() equals Checksum64() of the
// concatenation of everything passed to Update(). Not thread-safe; movable.
class StreamingChecksum {
 public:
  StreamingChecksum();
  ~StreamingChecksum();
  StreamingChecksum(StreamingChecksum&&) noexcept;
  StreamingChecksum& operator=(StreamingChecksum&&) noexcept;
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;

  void Update(absl::string_view data);
  uint64_t Digest() const;
  void Reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_CHECKSUM_H_
