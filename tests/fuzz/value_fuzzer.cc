// Fuzz target: the decoders of params, values and tracking records. The
// first input byte picks the decoder, the rest is its input:
//   0  DecodeValue (value_codec.h): a decoded value re-encodes to exactly
//      the bytes consumed (the encoding is canonical).
//   1  DecodeRunSummary (the summary inside COMMIT): a decoded summary
//      re-encodes to bytes that decode again.
//   2  a kChunkRecords payload applied to RunLogDecoder::CollectingAll().
//   3  the same for one target series without summaries (how a committed
//      run's series is read).
//   4  a kChunkBlob payload applied to RunLogDecoder::CollectingAll().
//   5  ParseJson (params given as JSON text): ToJson of a parsed value
//      parses back to the same value.
// Properties: no crash, leak or hang; damaged binary input is DataLoss or
// Unimplemented, bad JSON is InvalidArgument.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/format.h"
#include "storage/segment.h"
#include "tests/fuzz/fuzz_input.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/codec/value_codec.h"
#include "tracking/run_summary.h"
#include "tracking/value.h"
#include "tracking/value_json.h"

namespace runlog::fuzz {
namespace {

void FuzzValue(absl::string_view bytes) {
  absl::string_view in = bytes;
  absl::StatusOr<Value> v = DecodeValue(&in);
  CheckBadBytesStatus(v.status(), "DecodeValue");
  if (!v.ok()) {
    if (in != bytes) std::abort();  // unchanged on error
    return;
  }
  const absl::string_view consumed = bytes.substr(0, bytes.size() - in.size());
  std::string again;
  EncodeValue(*v, &again);
  if (again != consumed || EncodedValueSize(*v) != again.size()) {
    std::fprintf(stderr, "value does not re-encode to its bytes\n");
    std::abort();
  }
}

void FuzzSummary(absl::string_view bytes) {
  absl::StatusOr<RunSummary> s = DecodeRunSummary(bytes, "summary");
  CheckBadBytesStatus(s.status(), "DecodeRunSummary");
  if (!s.ok()) return;
  const std::string again = EncodeRunSummary(*s);
  absl::StatusOr<RunSummary> round = DecodeRunSummary(again, "summary");
  if (!round.ok() || EncodeRunSummary(*round) != again) {
    std::fprintf(stderr, "summary does not round-trip\n");
    std::abort();
  }
}

void FuzzChunk(RunLogDecoder decoder, uint8_t type, absl::string_view bytes) {
  storage::Chunk chunk;
  chunk.type = type;
  chunk.payload = bytes;
  chunk.offset = storage::format::kSegmentHeaderSize;
  CheckBadBytesStatus(decoder.Apply(chunk, "000001.seg"),
                      "RunLogDecoder::Apply");
  // Twice: the second pass meets series the first one defined, and a
  // decoder that already reported damage must still fail cleanly.
  CheckBadBytesStatus(decoder.Apply(chunk, "000001.seg"),
                      "RunLogDecoder::Apply again");
}

void FuzzJson(absl::string_view text) {
  absl::StatusOr<Value> v = ParseJson(text);
  if (!v.ok()) {
    if (!absl::IsInvalidArgument(v.status())) std::abort();
    return;
  }
  absl::StatusOr<Value> round = ParseJson(ToJson(*v));
  if (!round.ok()) {
    std::fprintf(stderr, "ToJson output does not parse: %s\n",
                 round.status().ToString().c_str());
    std::abort();
  }
  std::string a, b;
  EncodeValue(*v, &a);
  EncodeValue(*round, &b);
  if (a != b) {
    std::fprintf(stderr, "JSON round trip changed the value\n");
    std::abort();
  }
}

}  // namespace
}  // namespace runlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace runlog;  // NOLINT: a fuzz entry point outside the namespace
  if (size == 0) return 0;
  absl::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      fuzz::FuzzValue(rest);
      break;
    case 1:
      fuzz::FuzzSummary(rest);
      break;
    case 2:
      fuzz::FuzzChunk(RunLogDecoder::CollectingAll(),
                      storage::format::kChunkRecords, rest);
      break;
    case 3:
      fuzz::FuzzChunk(RunLogDecoder(RunLogDecoder::Target{{"loss", {}}, {}},
                                    /*want_summaries=*/false),
                      storage::format::kChunkRecords, rest);
      break;
    case 4:
      fuzz::FuzzChunk(RunLogDecoder::CollectingAll(),
                      storage::format::kChunkBlob, rest);
      break;
    case 5:
      fuzz::FuzzJson(rest);
      break;
  }
  return 0;
}
