#include "interop/tensorboard/crc32c.h"

#include <array>
#include <cstring>

namespace runlog::interop {
namespace {

constexpr uint32_t kCastagnoli = 0x82f63b78;  // reflected polynomial

const std::array<uint32_t, 256>& Table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? kCastagnoli : 0);
      t[i] = c;
    }
    return t;
  }();
  return table;
}

uint32_t Software(const unsigned char* p, size_t n, uint32_t crc) {
  const std::array<uint32_t, 256>& t = Table();
  for (; n > 0; --n, ++p) crc = t[(crc ^ *p) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Hardware(const unsigned char* p,
                                                    size_t n, uint32_t crc) {
  uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}
#endif

}  // namespace

uint32_t Crc32c(absl::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
#if defined(__x86_64__)
  static const bool hw = __builtin_cpu_supports("sse4.2");
  if (hw) return ~Hardware(p, data.size(), ~0u);
#endif
  return ~Software(p, data.size(), ~0u);
}

}  // namespace runlog::interop
