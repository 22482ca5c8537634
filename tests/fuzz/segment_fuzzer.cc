// Fuzz target: a segment file read by storage::SegmentReader under both tail
// policies, its chunks applied to a tracking::RunLogDecoder (the path every
// live read and salvage takes). The input is the whole file; its run id and
// number come from its own header (fuzz_input.h); each input runs as it is
// and again with its checksums recomputed, to reach what they guard.
// Properties: no crash, leak or hang; damage is DataLoss or Unimplemented;
// under kTornTailIsEnd the chunks read are exactly those read under
// kExactManifest when the latter accepts the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/checksum.h"
#include "storage/file_system.h"
#include "storage/mem_file_system.h"
#include "storage/segment.h"
#include "storage/segment_reader.h"
#include "tests/fuzz/fuzz_input.h"
#include "tracking/codec/run_log_decoder.h"

namespace runlog::fuzz {
namespace {

constexpr char kDir[] = "/run";

struct ReadResult {
  absl::Status status;
  std::vector<uint64_t> offsets;  // of the chunks returned
};

ReadResult ReadAll(storage::FileSystem* fs, const std::string& path,
                   const std::string& run_id, storage::TailPolicy policy,
                   std::optional<storage::SegmentInfo> info) {
  ReadResult result;
  auto reader = storage::SegmentReader::Open(fs, path, run_id, policy, info);
  if (!reader.ok()) {
    result.status = reader.status();
    return result;
  }
  RunLogDecoder decoder = RunLogDecoder::CollectingAll();
  bool decoding = true;
  storage::Chunk chunk;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->Next(&chunk);
    if (!more.ok()) {
      result.status = more.status();
      // The error is sticky.
      if ((*reader)->Next(&chunk).status() != more.status()) std::abort();
      break;
    }
    if (!*more) break;
    result.offsets.push_back(chunk.offset);
    if (decoding) {
      absl::Status applied = decoder.Apply(chunk, path);
      CheckBadBytesStatus(applied, "RunLogDecoder::Apply");
      decoding = applied.ok();
    }
  }
  return result;
}

void FuzzSegment(absl::string_view bytes) {
  const size_t size = bytes.size();
  storage::MemFileSystem fs;
  if (!fs.CreateDir(kDir).ok()) std::abort();
  const uint32_t number = HeaderNumber(bytes);
  const std::string path =
      storage::JoinPath(kDir, storage::SegmentFileName(number));
  if (!fs.SetContents(path, std::string(bytes)).ok()) std::abort();
  const std::string run_id = HeaderRunId(bytes);
  const storage::SegmentInfo info{
      .number = number, .length = size, .checksum = storage::Checksum64(bytes)};

  ReadResult torn = ReadAll(&fs, path, run_id,
                            storage::TailPolicy::kTornTailIsEnd, std::nullopt);
  ReadResult exact =
      ReadAll(&fs, path, run_id, storage::TailPolicy::kExactManifest, info);
  CheckBadBytesStatus(torn.status, "SegmentReader torn");
  CheckBadBytesStatus(exact.status, "SegmentReader exact");
  if (exact.status.ok() &&
      (!torn.status.ok() || torn.offsets != exact.offsets)) {
    std::abort();
  }
  // A manifest entry that disagrees with the file is never accepted.
  storage::SegmentInfo wrong = info;
  wrong.checksum ^= 1;
  ReadResult mismatch =
      ReadAll(&fs, path, run_id, storage::TailPolicy::kExactManifest, wrong);
  if (mismatch.status.ok()) std::abort();
  CheckBadBytesStatus(mismatch.status, "SegmentReader mismatch");
}

}  // namespace
}  // namespace runlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  runlog::fuzz::FuzzSegment(bytes);
  const std::string fixed = runlog::fuzz::WithChunkChecksumsFixed(bytes);
  if (fixed != bytes) runlog::fuzz::FuzzSegment(fixed);
  return 0;
}
