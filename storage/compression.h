// zstd compression. This header is the only way runlog code reaches zstd;
// compression.cc is the only file that includes <zstd.h>.
#ifndef RUNLOG_STORAGE_COMPRESSION_H_
#define RUNLOG_STORAGE_COMPRESSION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::storage {

// Compresses `input` into a zstd frame that records its decompressed size.
// `level` is a zstd level (1..19 are useful; 3 is zstd's default).
absl::StatusOr<std::string> ZstdCompress(absl::string_view input,
                                         int level = 3);

// Decompresses one zstd frame. The frame must declare its decompressed size
// and that size must not exceed `max_size`; otherwise DataLoss (garbage, or a
// declared size over the limit), before any allocation.
absl::StatusOr<std::string> ZstdDecompress(absl::string_view frame,
                                           uint64_t max_size);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_COMPRESSION_H_
