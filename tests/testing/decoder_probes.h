// Test helpers for hostile-input decoders: ExactBuffer puts bytes in a heap
// block of exactly their size (a read past the end is an ASan error), and
// AllocationProbe records the largest allocation made while it lives
// (measured through ASan's malloc hook; 0 without ASan), so a test can show
// that a huge declared length was rejected before anything was allocated.
#ifndef RUNLOG_TESTS_TESTING_DECODER_PROBES_H_
#define RUNLOG_TESTS_TESTING_DECODER_PROBES_H_

#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>

#include "absl/strings/string_view.h"

#if defined(__SANITIZE_ADDRESS__)
extern "C" int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void*, size_t),
    void (*free_hook)(const volatile void*));
#endif

namespace runlog::testing {

// The largest single heap allocation made while an AllocationProbe is alive.
// Measured through ASan's malloc hook; without ASan nothing is measured and
// largest() stays 0.
class AllocationProbe {
 public:
  AllocationProbe() {
#if defined(__SANITIZE_ADDRESS__)
    static const bool installed =
        __sanitizer_install_malloc_and_free_hooks(&OnMalloc, &OnFree) != 0;
    (void)installed;
#endif
    largest_.store(0);
    active_.store(true);
  }
  ~AllocationProbe() { active_.store(false); }
  size_t largest() const { return largest_.load(); }

 private:
  static void OnMalloc(const volatile void*, size_t n) {
    if (!active_.load(std::memory_order_relaxed)) return;
    size_t prev = largest_.load(std::memory_order_relaxed);
    while (n > prev && !largest_.compare_exchange_weak(prev, n)) {
    }
  }
  static void OnFree(const volatile void*) {}
  static inline std::atomic<bool> active_{false};
  static inline std::atomic<size_t> largest_{0};
};

// A heap copy of exactly `bytes`, so that a read past the end is a
// heap-buffer-overflow under ASan.
class ExactBuffer {
 public:
  explicit ExactBuffer(absl::string_view bytes)
      : size_(bytes.size()),
        data_(std::make_unique<char[]>(bytes.empty() ? 1 : bytes.size())) {
    if (size_ > 0) std::memcpy(data_.get(), bytes.data(), size_);
  }
  absl::string_view view() const {
    return absl::string_view(data_.get(), size_);
  }

 private:
  size_t size_;
  std::unique_ptr<char[]> data_;
};

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_DECODER_PROBES_H_
