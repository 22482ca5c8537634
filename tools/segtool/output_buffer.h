// The bytes a command builds before they go out (segtool export): rows are
// written through a raw pointer into room the buffer grants, neither
// zero-filled nor copied, and handed to a flush function in pieces of about
// `chunk` bytes, so a large export holds one piece, not a run.
#ifndef RUNLOG_TOOLS_SEGTOOL_OUTPUT_BUFFER_H_
#define RUNLOG_TOOLS_SEGTOOL_OUTPUT_BUFFER_H_

#include <cstddef>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::segtool {

// Not thread-safe. The first error of `flush` is returned by the call that
// flushed and by every later one; bytes that were not flushed stay held.
class OutputBuffer {
 public:
  // Called with the held bytes, which are dropped once it returns.
  using Flush = std::function<absl::Status(absl::string_view bytes)>;

  // `chunk` > 0: the size at which held bytes are flushed.
  OutputBuffer(size_t chunk, Flush flush);

  // Room for at least `n` bytes at the returned pointer, after the held
  // bytes (flushed first if they reach the chunk size). Bytes written there
  // count once Commit() is called with their end; the room stays valid
  // until the next call of Room, Append or FlushAll.
  absl::StatusOr<char*> Room(size_t n);
  // Keeps the bytes of the last room up to `end` (inside that room).
  void Commit(const char* end);
  // Appends `bytes`, flushing when the chunk size is reached.
  absl::Status Append(absl::string_view bytes);
  // Hands every held byte to the flush function.
  absl::Status FlushAll();

  size_t size() const { return size_; }

 private:
  size_t chunk_;
  Flush flush_;
  std::unique_ptr<char[]> data_;
  size_t capacity_ = 0;
  size_t size_ = 0;
  absl::Status error_;
};

}  // namespace runlog::segtool

#endif  // RUNLOG_TOOLS_SEGTOOL_OUTPUT_BUFFER_H_
