// CRC-32C (Castagnoli), as TFRecord framing uses it, and its "masked" form.
// Debian 12's Abseil (20220623) predates absl/crc, so this is a small table
// implementation with the SSE4.2 instruction when the CPU has it.
//
// Thread-safety: pure functions.
#ifndef RUNLOG_INTEROP_TENSORBOARD_CRC32C_H_
#define RUNLOG_INTEROP_TENSORBOARD_CRC32C_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace runlog::interop {

uint32_t Crc32c(absl::string_view data);

// TFRecord's mask: rotate right by 15 and add a constant, so that a CRC of
// data holding CRCs is not degenerate.
inline uint32_t MaskCrc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline uint32_t MaskedCrc32c(absl::string_view data) {
  return MaskCrc(Crc32c(data));
}

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_TENSORBOARD_CRC32C_H_
