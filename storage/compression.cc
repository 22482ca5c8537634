#include "storage/compression.h"

#include <zstd.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace runlog::storage {

namespace {

// One context per thread, reused: creating one costs more than compressing
// a small block. Contexts live as long as their thread; the library starts
// no thread, so these belong to the caller's threads.
struct ContextDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* CompressionContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, ContextDeleter> ctx(
      ZSTD_createCCtx());
  return ctx.get();
}

ZSTD_DCtx* DecompressionContext() {
  thread_local std::unique_ptr<ZSTD_DCtx, ContextDeleter> ctx(
      ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

absl::StatusOr<std::string> ZstdCompress(absl::string_view input, int level) {
  std::string out(ZSTD_compressBound(input.size()), '\0');
  ZSTD_CCtx* ctx = CompressionContext();
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: no context");
  const size_t n = ZSTD_compressCCtx(ctx, out.data(), out.size(), input.data(),
                                     input.size(), level);
  if (ZSTD_isError(n)) {
    return absl::InternalError(
        absl::StrCat("zstd compress: ", ZSTD_getErrorName(n)));
  }
  out.resize(n);
  return out;
}

absl::StatusOr<std::string> ZstdDecompress(absl::string_view frame,
                                           uint64_t max_size) {
  const unsigned long long declared =
      ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    return absl::DataLossError("zstd frame: bad header");
  }
  if (declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    return absl::DataLossError("zstd frame: no declared content size");
  }
  // The frame is what is damaged (or hostile), not the caller's request.
  if (declared > max_size) {
    return absl::DataLossError(absl::StrCat("zstd frame declares ", declared,
                                            " bytes, over the limit of ",
                                            max_size));
  }
  std::string out(static_cast<size_t>(declared), '\0');
  ZSTD_DCtx* ctx = DecompressionContext();
  if (ctx == nullptr) return absl::ResourceExhaustedError("zstd: no context");
  const size_t n = ZSTD_decompressDCtx(ctx, out.data(), out.size(),
                                       frame.data(), frame.size());
  if (ZSTD_isError(n)) {
    return absl::DataLossError(
        absl::StrCat("zstd frame: ", ZSTD_getErrorName(n)));
  }
  if (n != declared) {
    return absl::DataLossError(
        absl::StrCat("zstd frame: declared ", declared, " bytes, decoded ", n));
  }
  return out;
}

}  // namespace runlog::storage
