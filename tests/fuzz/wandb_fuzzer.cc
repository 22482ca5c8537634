// Fuzz target: a W&B offline run file (.wandb) through ImportWandbBytes into
// a dry-run sink, failing on damage and skipping it. Properties: no crash,
// leak or hang; the only error is DataLoss, none when damage is skipped
// (except a bad file header, which nothing can skip).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "interop/import_session.h"
#include "interop/wandb/importer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace runlog;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (bool skip : {false, true}) {
    auto session = interop::ImportSession::Open("/nonexistent/runlog-fuzz-repo",
                                                {}, "wandb", {.dry_run = true});
    if (!session.ok()) std::abort();
    auto sink = (*session)->Begin({.key = "fuzz", .name = "fuzz"});
    if (!sink.ok() || *sink == nullptr) std::abort();
    absl::Status s = interop::ImportWandbBytes(bytes, "fuzz", skip, **sink);
    if (!s.ok() && !absl::IsDataLoss(s)) std::abort();
    if (!s.ok() && skip &&
        s.message().find("bad header") == absl::string_view::npos) {
      std::abort();
    }
    (*session)->End(*std::move(sink)).IgnoreError();
  }
  return 0;
}
