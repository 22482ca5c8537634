// Fuzz target: COMMIT bytes, read as storage::ReadCommitManifest reads them
// and, when they parse, the run summary the tracking layer keeps inside.
// Each input runs as it is and again with its trailing checksum recomputed.
// Properties: no crash, leak or hang; damage is DataLoss or Unimplemented;
// a manifest that decodes is one the encoder accepts, and encoding it and
// decoding again gives the same manifest.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/commit_manifest.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "tests/fuzz/fuzz_input.h"
#include "tracking/run_summary.h"

namespace runlog::fuzz {
namespace {

bool SameManifest(const storage::CommitManifest& a,
                  const storage::CommitManifest& b) {
  return a.run_id == b.run_id && a.status == b.status &&
         a.end_time == b.end_time && a.segments == b.segments &&
         a.reason == b.reason && a.summary == b.summary;
}

void FuzzCommit(absl::string_view bytes) {
  storage::MemFileSystem fs;
  if (!fs.CreateDir("/run").ok()) std::abort();
  if (!fs.SetContents(std::string("/run/") + storage::format::kCommitFileName,
                      std::string(bytes))
           .ok()) {
    std::abort();
  }
  absl::StatusOr<storage::CommitManifest> m =
      storage::ReadCommitManifest(fs, "/run");
  CheckBadBytesStatus(m.status(), "ReadCommitManifest");
  absl::StatusOr<storage::CommitManifest> direct =
      storage::DecodeCommitManifest(bytes, "COMMIT");
  if (m.ok() != direct.ok()) std::abort();
  if (!m.ok()) return;
  if (!SameManifest(*m, *direct)) std::abort();

  absl::StatusOr<std::string> again = storage::EncodeCommitManifest(*m);
  if (!again.ok()) {
    std::fprintf(stderr, "decoded manifest does not encode: %s\n",
                 again.status().ToString().c_str());
    std::abort();
  }
  absl::StatusOr<storage::CommitManifest> round =
      storage::DecodeCommitManifest(*again, "COMMIT");
  if (!round.ok() || !SameManifest(*m, *round)) std::abort();

  absl::StatusOr<RunSummary> summary = DecodeRunSummary(m->summary, "COMMIT");
  CheckBadBytesStatus(summary.status(), "DecodeRunSummary");
}

}  // namespace
}  // namespace runlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  runlog::fuzz::FuzzCommit(bytes);
  const std::string fixed = runlog::fuzz::WithTrailingChecksumFixed(bytes);
  if (fixed != bytes) runlog::fuzz::FuzzCommit(fixed);
  return 0;
}
