// Decodes TensorBoard Event protos (interop/proto/tensorboard.proto, parsed
// with libprotobuf) into runlog's point kinds:
//   scalars     Summary.Value.simple_value (float), or a one-element numeric
//               tensor (TF2: float_val, double_val, half_val, int vals or
//               tensor_content) whose tag's plugin is "scalars" or unknown;
//   histograms  Summary.Value.histo (HistogramProto: edges are min, then
//               every bucket_limit), or a [k,3] tensor of the "histograms"
//               plugin (rows left, right, count; a gap between rows becomes
//               an empty bin);
//   text        a string tensor of the "text" plugin (one element as is;
//               more are joined, rows by "\n", cells by "\t");
//   blobs       Summary.Value.image (content type from the PNG/JPEG/GIF
//               magic), Summary.Value.audio, and the string tensors of the
//               "images" ([w, h, image...]) and "audio" ([k,2]) plugins;
//               several images of one value get context {index: i};
//   params      the "hparams" plugin's session_start_info hparams.
// A tag's plugin comes with its first value only (metadata); the decoder
// remembers it for the tag's later values. Everything else (graphs, run
// metadata, other plugins, session logs) is listed in `skipped` by kind.
//
// Failure: DataLoss when the bytes are not an Event (libprotobuf rejects
// them: truncated, a length past the end, nesting deeper than its limit of
// 100). Values of a sound Event that make no sense (a tensor whose shape
// disagrees with its data) are skipped with a reason, not errors.
//
// Thread-safety: none (the plugin memory); one decoder per event stream.
#ifndef RUNLOG_INTEROP_TENSORBOARD_EVENT_DECODER_H_
#define RUNLOG_INTEROP_TENSORBOARD_EVENT_DECODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tracking/series.h"
#include "tracking/value.h"

namespace runlog::interop {

struct TbPoint {
  enum class Kind { kHistogram, kText, kBlob };
  Kind kind = Kind::kHistogram;
  std::string tag;
  Context context;
  Histogram histogram;
  std::string text;
  Blob blob;
};

// A scalar, the common case, kept light: its tag views the decoder's
// message and is valid until the next Decode.
struct TbScalar {
  absl::string_view tag;
  double value = 0;
};

struct TbEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::vector<TbScalar> scalars;
  std::vector<TbPoint> points;  // the other kinds
  // Kinds of content not imported ("graph_def: not imported").
  std::vector<std::string> skipped;
  Value hparams;  // null unless the event carried hparams
};

class EventDecoder {
 public:
  EventDecoder();
  ~EventDecoder();
  EventDecoder(const EventDecoder&) = delete;
  EventDecoder& operator=(const EventDecoder&) = delete;

  // Decodes one record into `out` (cleared first). `file` and `offset` name
  // the record in errors.
  absl::Status Decode(absl::string_view bytes, absl::string_view file,
                      uint64_t offset, TbEvent* out);

  // The plugin of every tag seen so far.
  const absl::flat_hash_map<std::string, std::string>& plugins() const {
    return plugins_;
  }

 private:
  struct Proto;
  std::unique_ptr<Proto> proto_;  // the arena the messages are parsed in
  absl::flat_hash_map<std::string, std::string> plugins_;
};

// "image/png", "image/jpeg", "image/gif" from the magic bytes, else
// "application/octet-stream".
std::string GuessImageType(absl::string_view data);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_TENSORBOARD_EVENT_DECODER_H_
