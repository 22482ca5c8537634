// Fuzz target: a TensorBoard event file (TFRecord framing + Event protos)
// through ImportEventFileBytes into a dry-run sink, once failing on damage
// and once skipping it. Properties: no crash, leak or hang; the only error is
// DataLoss, and none at all when damage is skipped.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "interop/import_session.h"
#include "interop/tensorboard/event_decoder.h"
#include "interop/tensorboard/importer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace runlog;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool skip : {false, true}) {
    auto session = interop::ImportSession::Open(
        "/nonexistent/runlog-fuzz-repo", {}, "tensorboard", {.dry_run = true});
    if (!session.ok()) std::abort();
    auto sink = (*session)->Begin({.key = "fuzz", .name = "fuzz"});
    if (!sink.ok() || *sink == nullptr) std::abort();
    interop::EventDecoder decoder;
    absl::Status s = interop::ImportEventFileBytes(bytes, "fuzz", "fuzz", skip,
                                                   decoder, **sink);
    if (!s.ok() && (skip || !absl::IsDataLoss(s))) std::abort();
    (*session)->End(*std::move(sink)).IgnoreError();
  }
  return 0;
}
