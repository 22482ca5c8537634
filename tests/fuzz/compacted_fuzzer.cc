// Fuzz target: a compacted run's column file, opened by
// CompactedRunReader::Open (storage::ColumnFileReader underneath: header,
// trailer, footer), every series read whole, over a step range and
// downsampled, then Verify()ed. The input is the whole file; its run id and
// number come from its own header (fuzz_input.h) and the manifest entry is
// the file's true length and checksum, so only the bytes themselves can be
// wrong; each input runs as it is and again with its header, block and
// footer checksums recomputed. Properties: no crash, leak or hang; damage is
// DataLoss or Unimplemented; a file Verify() finds sound reads back, and a
// downsampled read equals Downsample() of the plain read.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/checksum.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/segment.h"
#include "tests/fuzz/fuzz_input.h"
#include "tracking/compaction/compacted_run.h"
#include "tracking/downsample.h"

namespace runlog::fuzz {
namespace {

constexpr char kDir[] = "/run";

bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool SameScalars(const ScalarColumns& a, const ScalarColumns& b) {
  if (a.steps != b.steps || a.times_us != b.times_us ||
      a.values.size() != b.values.size() ||
      a.epochs.size() != b.epochs.size()) {
    return false;
  }
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (!SameBits(a.values[i], b.values[i])) return false;
  }
  for (size_t i = 0; i < a.epochs.size(); ++i) {
    if (!SameBits(a.epochs[i], b.epochs[i])) return false;
  }
  return true;
}

// Reads `s` whole and over `range`; returns whether every read succeeded.
bool ReadSeries(CompactedRunReader& reader, const CompactedSeries& s,
                StepRange range, bool sound) {
  switch (s.kind) {
    case SeriesKind::kScalar: {
      absl::StatusOr<ScalarColumns> all = reader.ReadScalars(s, {});
      CheckBadBytesStatus(all.status(), "ReadScalars");
      absl::StatusOr<ScalarColumns> part = reader.ReadScalars(s, range);
      CheckBadBytesStatus(part.status(), "ReadScalars range");
      for (size_t max_points : {size_t{2}, size_t{5}, size_t{10}, size_t{64}}) {
        absl::StatusOr<ScalarColumns> down =
            reader.ReadScalarsDownsampled(s, max_points, range);
        CheckBadBytesStatus(down.status(), "ReadScalarsDownsampled");
        if (sound && part.ok()) {
          absl::StatusOr<ScalarColumns> expected =
              Downsample(*part, max_points);
          if (!down.ok() || !expected.ok() || !SameScalars(*down, *expected)) {
            std::fprintf(stderr, "downsampled read differs (max_points %zu)\n",
                         max_points);
            std::abort();
          }
        }
      }
      return all.ok() && part.ok();
    }
    case SeriesKind::kText: {
      absl::StatusOr<TextColumns> all = reader.ReadTexts(s, {});
      CheckBadBytesStatus(all.status(), "ReadTexts");
      CheckBadBytesStatus(reader.ReadTexts(s, range).status(), "ReadTexts");
      return all.ok();
    }
    case SeriesKind::kHistogram: {
      absl::StatusOr<HistogramColumns> all = reader.ReadHistograms(s, {});
      CheckBadBytesStatus(all.status(), "ReadHistograms");
      CheckBadBytesStatus(reader.ReadHistograms(s, range).status(),
                          "ReadHistograms");
      return all.ok();
    }
    case SeriesKind::kBlob: {
      absl::StatusOr<BlobColumns> all = reader.ReadBlobs(s, {});
      CheckBadBytesStatus(all.status(), "ReadBlobs");
      CheckBadBytesStatus(reader.ReadBlobs(s, range).status(), "ReadBlobs");
      return all.ok();
    }
  }
  return false;
}

void FuzzColumnFile(absl::string_view bytes) {
  const size_t size = bytes.size();
  storage::MemFileSystem fs;
  if (!fs.CreateDir(kDir).ok()) std::abort();
  const storage::SegmentInfo info{
      .number = HeaderNumber(bytes),
      .length = size,
      .checksum = storage::Checksum64(bytes),
      .kind = storage::format::SegmentKind::kColumn};
  if (!fs.SetContents(storage::JoinPath(kDir, storage::FileNameOf(info)),
                      std::string(bytes))
           .ok()) {
    std::abort();
  }
  absl::StatusOr<std::unique_ptr<CompactedRunReader>> reader =
      CompactedRunReader::Open(&fs, kDir, HeaderRunId(bytes), info);
  CheckBadBytesStatus(reader.status(), "CompactedRunReader::Open");
  if (!reader.ok()) return;

  std::vector<absl::Status> problems;
  const int64_t points = (*reader)->Verify(info, &problems);
  for (const absl::Status& p : problems) {
    if (!absl::IsDataLoss(p)) CheckBadBytesStatus(p, "Verify");
  }
  const bool sound = problems.empty();
  int64_t counted = 0;
  for (const CompactedSeries& s : (*reader)->footer().series) {
    counted += s.count();
    // A range cutting the series' first block, so range filtering is used.
    StepRange range;
    if (!s.blocks.empty()) {
      range.first =
          s.blocks.front().min_step / 2 + s.blocks.front().max_step / 2;
    }
    if ((*reader)->Find(s.key) == nullptr) std::abort();
    if (!ReadSeries(**reader, s, range, sound) && sound) {
      std::fprintf(stderr, "a sound file fails to read %s\n",
                   s.key.ToString().c_str());
      std::abort();
    }
  }
  if (sound && points != counted) std::abort();
}

}  // namespace
}  // namespace runlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  runlog::fuzz::FuzzColumnFile(bytes);
  const std::string fixed = runlog::fuzz::WithChunkChecksumsFixed(bytes);
  if (fixed != bytes) runlog::fuzz::FuzzColumnFile(fixed);
  return 0;
}
