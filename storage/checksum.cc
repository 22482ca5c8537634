#include "storage/checksum.h"

// XXH3_state_t is only complete with static linking declarations.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <new>

namespace runlog::storage {

uint64_t Checksum64(absl::string_view data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

struct StreamingChecksum::State {
  XXH3_state_t xxh;
};

StreamingChecksum::StreamingChecksum() : state_(std::make_unique<State>()) {
  Reset();
}
StreamingChecksum::~StreamingChecksum() = default;
StreamingChecksum::StreamingChecksum(StreamingChecksum&&) noexcept = default;
StreamingChecksum& StreamingChecksum::operator=(StreamingChecksum&&) noexcept =
    default;

void StreamingChecksum::Reset() { XXH3_64bits_reset(&state_->xxh); }

void StreamingChecksum::Update(absl::string_view data) {
  XXH3_64bits_update(&state_->xxh, data.data(), data.size());
}

uint64_t StreamingChecksum::Digest() const {
  return XXH3_64bits_digest(&state_->xxh);
}

}  // namespace runlog::storage
