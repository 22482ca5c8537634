#include "tools/segtool/output_buffer.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace runlog::segtool {

OutputBuffer::OutputBuffer(size_t chunk, Flush flush)
    : chunk_(std::max<size_t>(chunk, 1)), flush_(std::move(flush)) {}

absl::StatusOr<char*> OutputBuffer::Room(size_t n) {
  if (!error_.ok()) return error_;
  if (size_ >= chunk_) {
    if (absl::Status s = FlushAll(); !s.ok()) return s;
  }
  if (capacity_ - size_ < n) {
    // new char[] leaves the bytes uninitialised: only the held ones are
    // copied over.
    const size_t capacity =
        std::max(size_ + n, std::max(chunk_, 2 * capacity_));
    std::unique_ptr<char[]> data(new char[capacity]);
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }
  return data_.get() + size_;
}

void OutputBuffer::Commit(const char* end) {
  size_ = static_cast<size_t>(end - data_.get());
}

absl::Status OutputBuffer::Append(absl::string_view bytes) {
  absl::StatusOr<char*> p = Room(bytes.size());
  if (!p.ok()) return p.status();
  if (!bytes.empty()) std::memcpy(*p, bytes.data(), bytes.size());
  Commit(*p + bytes.size());
  if (size_ >= chunk_) return FlushAll();
  return absl::OkStatus();
}

absl::Status OutputBuffer::FlushAll() {
  if (!error_.ok()) return error_;
  if (size_ == 0) return absl::OkStatus();
  error_ = flush_(absl::string_view(data_.get(), size_));
  if (error_.ok()) size_ = 0;
  return error_;
}

}  // namespace runlog::segtool
