// Fuzz target: CATALOG bytes (storage/run_catalog.h), decoded directly and
// used by a listing. Each input runs as it is and again with its trailing
// checksum recomputed. Properties: no crash, leak or hang; damage is DataLoss
// or Unimplemented; a catalog that decodes encodes back to one that decodes
// to the same manifests; and a listing never fails because of the catalog
// (a damaged one is ignored) and lists exactly the run directories present.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/commit_manifest.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/run_catalog.h"
#include "storage/run_store.h"
#include "tests/fuzz/fuzz_input.h"

namespace runlog::fuzz {
namespace {

bool Same(const std::vector<storage::CommitManifest>& a,
          const std::vector<storage::CommitManifest>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].run_id != b[i].run_id || a[i].status != b[i].status ||
        a[i].end_time != b[i].end_time || a[i].reason != b[i].reason ||
        a[i].summary != b[i].summary || !b[i].segments.empty()) {
      return false;
    }
  }
  return true;
}

void FuzzCatalog(absl::string_view bytes) {
  absl::StatusOr<std::vector<storage::CommitManifest>> runs =
      storage::DecodeRunCatalog(bytes, "CATALOG");
  CheckBadBytesStatus(runs.status(), "DecodeRunCatalog");
  if (runs.ok()) {
    absl::StatusOr<std::string> again = storage::EncodeRunCatalog(*runs);
    if (!again.ok()) std::abort();
    absl::StatusOr<std::vector<storage::CommitManifest>> round =
        storage::DecodeRunCatalog(*again, "CATALOG");
    if (!round.ok() || !Same(*runs, *round)) std::abort();
  }

  // A repository with one empty run directory named after the catalog's
  // first entry (when there is one): the listing must not take the entry as
  // proof of anything but what it caches, and must never fail.
  storage::MemFileSystem fs;
  storage::RunStoreOptions options;
  options.create_if_missing = true;
  options.fs = &fs;
  absl::StatusOr<std::unique_ptr<storage::RunStore>> store =
      storage::RunStore::Open("/repo", options);
  if (!store.ok()) std::abort();
  size_t dirs = 0;
  if (runs.ok() && !runs->empty()) {
    if (!fs.CreateDir("/repo/runs/" + (*runs)[0].run_id).ok()) std::abort();
    dirs = 1;
  }
  if (!fs.SetContents("/repo/CATALOG", std::string(bytes)).ok()) std::abort();
  absl::StatusOr<std::vector<storage::RunEntry>> listed =
      (*store)->ListRuns(storage::RunStore::ListDetail::kSummary);
  if (!listed.ok() || listed->size() != dirs) std::abort();
}

}  // namespace
}  // namespace runlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  runlog::fuzz::FuzzCatalog(bytes);
  const std::string fixed = runlog::fuzz::WithTrailingChecksumFixed(bytes);
  if (fixed != bytes) runlog::fuzz::FuzzCatalog(fixed);
  return 0;
}
