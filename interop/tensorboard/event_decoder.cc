#include "interop/tensorboard/event_decoder.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/struct.pb.h"
#include "interop/proto/tensorboard.pb.h"
#include "interop/proto/tensorboard_hparams.pb.h"

namespace runlog::interop {
namespace {

using tb::DataType;
using tb::TensorProto;

// Elements of a shape; -1 when it is unknown, negative or overflows.
int64_t NumElements(const TensorProto& t) {
  if (t.tensor_shape().unknown_rank()) return -1;
  int64_t n = 1;
  for (const auto& d : t.tensor_shape().dim()) {
    if (d.size() < 0) return -1;
    if (d.size() != 0 && n > std::numeric_limits<int64_t>::max() / d.size()) {
      return -1;
    }
    n *= d.size();
  }
  return n;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float Bfloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T>
T Load(const std::string& content, size_t i) {
  T v;
  std::memcpy(&v, content.data() + i * sizeof(T), sizeof(T));
  return v;
}

// Element `i` of a numeric tensor as a double (exactly: every supported type
// converts to double without rounding except 64-bit integers beyond 2^53);
// false when the tensor holds no such element.
bool NumericAt(const TensorProto& t, size_t i, double* out) {
  const std::string& c = t.tensor_content();
  switch (t.dtype()) {
    case tb::DT_FLOAT:
      if (i < static_cast<size_t>(t.float_val_size())) {
        *out = t.float_val(i);
      } else if (t.float_val_size() == 1 && c.empty()) {
        *out = t.float_val(0);  // TensorFlow's splat of a repeated value
      } else if ((i + 1) * 4 <= c.size()) {
        *out = Load<float>(c, i);
      } else {
        return false;
      }
      return true;
    case tb::DT_DOUBLE:
      if (i < static_cast<size_t>(t.double_val_size())) {
        *out = t.double_val(i);
      } else if (t.double_val_size() == 1 && c.empty()) {
        *out = t.double_val(0);
      } else if ((i + 1) * 8 <= c.size()) {
        *out = Load<double>(c, i);
      } else {
        return false;
      }
      return true;
    case tb::DT_HALF:
    case tb::DT_BFLOAT16: {
      uint16_t bits;
      if (i < static_cast<size_t>(t.half_val_size())) {
        bits = static_cast<uint16_t>(t.half_val(i));
      } else if ((i + 1) * 2 <= c.size()) {
        bits = Load<uint16_t>(c, i);
      } else {
        return false;
      }
      *out =
          t.dtype() == tb::DT_HALF ? HalfToFloat(bits) : Bfloat16ToFloat(bits);
      return true;
    }
    case tb::DT_INT32:
    case tb::DT_INT16:
    case tb::DT_INT8:
    case tb::DT_UINT8:
    case tb::DT_UINT16:
      if (i < static_cast<size_t>(t.int_val_size())) {
        *out = t.int_val(i);
        return true;
      }
      if (t.dtype() == tb::DT_INT32 && (i + 1) * 4 <= c.size()) {
        *out = Load<int32_t>(c, i);
        return true;
      }
      return false;
    case tb::DT_INT64:
      if (i < static_cast<size_t>(t.int64_val_size())) {
        *out = static_cast<double>(t.int64_val(i));
      } else if ((i + 1) * 8 <= c.size()) {
        *out = static_cast<double>(Load<int64_t>(c, i));
      } else {
        return false;
      }
      return true;
    case tb::DT_BOOL:
      if (i < static_cast<size_t>(t.bool_val_size())) {
        *out = t.bool_val(i) ? 1 : 0;
        return true;
      }
      return false;
    default:
      return false;
  }
}

std::string StringAt(const TensorProto& t, int i) { return t.string_val(i); }

}  // namespace

std::string GuessImageType(absl::string_view data) {
  if (data.size() >= 8 && data.substr(0, 8) == "\x89PNG\r\n\x1a\n") {
    return "image/png";
  }
  if (data.size() >= 3 && data.substr(0, 3) == "\xff\xd8\xff") {
    return "image/jpeg";
  }
  if (data.size() >= 6 &&
      (data.substr(0, 6) == "GIF87a" || data.substr(0, 6) == "GIF89a")) {
    return "image/gif";
  }
  return "application/octet-stream";
}

// Messages live in an arena: parsing an Event into a reused message would
// still free and reallocate its oneof Summary and every Value each time
// (protobuf's Clear deletes a set oneof), which cost more than the parse.
// The arena is reset every kEventsPerArena events.
struct EventDecoder::Proto {
  static constexpr int kEventsPerArena = 4096;
  google::protobuf::Arena arena;
  int events = 0;
};

EventDecoder::EventDecoder() : proto_(std::make_unique<Proto>()) {}
EventDecoder::~EventDecoder() = default;

namespace {

Value FromStructValue(const google::protobuf::Value& v, int depth) {
  using google::protobuf::Value;
  if (depth > 32) return runlog::Value();
  switch (v.kind_case()) {
    case Value::kNumberValue:
      return runlog::Value(v.number_value());
    case Value::kStringValue:
      return runlog::Value(v.string_value());
    case Value::kBoolValue:
      return runlog::Value(v.bool_value());
    case Value::kListValue: {
      runlog::Value::List l;
      for (const auto& e : v.list_value().values()) {
        l.push_back(FromStructValue(e, depth + 1));
      }
      return runlog::Value(std::move(l));
    }
    case Value::kStructValue: {
      runlog::Value::Map m;
      for (const auto& [k, e] : v.struct_value().fields()) {
        m[k] = FromStructValue(e, depth + 1);
      }
      return runlog::Value(std::move(m));
    }
    default:
      return runlog::Value();
  }
}

// Decodes a tensor value of `plugin` into points of `tag`; false (with
// `*why`) when it is not importable.
bool DecodeTensor(const TensorProto& t, const std::string& plugin,
                  const std::string& tag, TbEvent* out, std::string* why) {
  std::vector<TbPoint>* points = &out->points;
  const int64_t n = NumElements(t);
  if (n < 0) {
    *why = "tensor with an unknown or invalid shape";
    return false;
  }
  if (t.dtype() == tb::DT_STRING) {
    if (n > t.string_val_size()) {
      *why = "string tensor with fewer values than its shape";
      return false;
    }
    if (plugin == "text") {
      TbPoint p;
      p.kind = TbPoint::Kind::kText;
      p.tag = tag;
      const int dims = t.tensor_shape().dim_size();
      if (n == 1) {
        p.text = StringAt(t, 0);
      } else if (dims == 2) {
        const int64_t cols = t.tensor_shape().dim(1).size();
        for (int64_t i = 0; i < n; ++i) {
          if (i > 0) p.text += (i % cols == 0) ? "\n" : "\t";
          p.text += StringAt(t, static_cast<int>(i));
        }
      } else {
        for (int64_t i = 0; i < n; ++i) {
          if (i > 0) p.text += "\n";
          p.text += StringAt(t, static_cast<int>(i));
        }
      }
      points->push_back(std::move(p));
      return true;
    }
    if (plugin == "images") {
      if (n < 2) {
        *why = "images tensor without width and height";
        return false;
      }
      const int64_t images = n - 2;
      for (int64_t i = 0; i < images; ++i) {
        TbPoint p;
        p.kind = TbPoint::Kind::kBlob;
        p.tag = tag;
        if (images > 1) p.context["index"] = absl::StrCat(i);
        p.blob.data = StringAt(t, static_cast<int>(i + 2));
        p.blob.content_type = GuessImageType(p.blob.data);
        points->push_back(std::move(p));
      }
      return true;
    }
    if (plugin == "audio") {
      // [k, 2]: encoded audio, label.
      const int64_t clips = t.tensor_shape().dim_size() == 2 ? n / 2 : n;
      const int stride = t.tensor_shape().dim_size() == 2 ? 2 : 1;
      for (int64_t i = 0; i < clips; ++i) {
        TbPoint p;
        p.kind = TbPoint::Kind::kBlob;
        p.tag = tag;
        if (clips > 1) p.context["index"] = absl::StrCat(i);
        p.blob.data = StringAt(t, static_cast<int>(i * stride));
        p.blob.content_type = "audio/wav";
        points->push_back(std::move(p));
      }
      return true;
    }
    *why = absl::StrCat("string tensor of plugin '", plugin, "'");
    return false;
  }
  if (plugin == "histograms") {
    const auto& dims = t.tensor_shape().dim();
    if (dims.size() != 2 || dims[1].size() != 3) {
      *why = "histograms tensor not of shape [k,3]";
      return false;
    }
    const int64_t k = dims[0].size();
    if (k == 0) {
      *why = "empty histogram";
      return false;
    }
    TbPoint p;
    p.kind = TbPoint::Kind::kHistogram;
    p.tag = tag;
    for (int64_t r = 0; r < k; ++r) {
      double left, right, count;
      if (!NumericAt(t, r * 3, &left) || !NumericAt(t, r * 3 + 1, &right) ||
          !NumericAt(t, r * 3 + 2, &count)) {
        *why = "histograms tensor with fewer values than its shape";
        return false;
      }
      if (r == 0) {
        p.histogram.edges.push_back(left);
      } else if (left != p.histogram.edges.back()) {
        p.histogram.edges.push_back(left);  // a gap: an empty bin
        p.histogram.counts.push_back(0);
      }
      p.histogram.edges.push_back(right);
      p.histogram.counts.push_back(count);
    }
    points->push_back(std::move(p));
    return true;
  }
  if (plugin == "scalars" || plugin.empty()) {
    double v;
    if (n != 1 || !NumericAt(t, 0, &v)) {
      *why = n != 1 ? absl::StrCat("tensor of ", n, " elements, not a scalar")
                    : "scalar tensor of an unsupported type or without data";
      return false;
    }
    out->scalars.push_back({tag, v});
    return true;
  }
  *why = absl::StrCat("tensor of plugin '", plugin, "'");
  return false;
}

}  // namespace

absl::Status EventDecoder::Decode(absl::string_view bytes,
                                  absl::string_view file, uint64_t offset,
                                  TbEvent* out) {
  out->scalars.clear();
  out->points.clear();
  out->skipped.clear();
  out->hparams = Value();
  if (++proto_->events > Proto::kEventsPerArena) {
    proto_->arena.Reset();
    proto_->events = 1;
  }
  tb::Event& e =
      *google::protobuf::Arena::CreateMessage<tb::Event>(&proto_->arena);
  if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat(file, ": offset ", offset, ": not a TensorBoard Event (",
                     bytes.size(), " bytes that do not parse)"));
  }
  out->wall_time = e.wall_time();
  out->step = e.step();
  switch (e.what_case()) {
    case tb::Event::kSummary:
      break;
    case tb::Event::kFileVersion:
    case tb::Event::WHAT_NOT_SET:
      return absl::OkStatus();
    case tb::Event::kGraphDef:
      out->skipped.push_back("graph_def: not imported");
      return absl::OkStatus();
    case tb::Event::kMetaGraphDef:
      out->skipped.push_back("meta_graph_def: not imported");
      return absl::OkStatus();
    case tb::Event::kTaggedRunMetadata:
      out->skipped.push_back("tagged_run_metadata: not imported");
      return absl::OkStatus();
    case tb::Event::kSessionLog:
      out->skipped.push_back("session_log: not imported");
      return absl::OkStatus();
    case tb::Event::kLogMessage:
      out->skipped.push_back("log_message: not imported");
      return absl::OkStatus();
  }
  for (const tb::Summary::Value& v : e.summary().value()) {
    const std::string& tag = v.tag().empty() ? v.node_name() : v.tag();
    if (tag.empty()) {
      out->skipped.push_back("summary value without a tag");
      continue;
    }
    // The common case first: a float scalar needs no plugin.
    if (v.value_case() == tb::Summary::Value::kSimpleValue &&
        !v.has_metadata()) {
      out->scalars.push_back({tag, v.simple_value()});
      continue;
    }
    if (v.has_metadata() && !v.metadata().plugin_data().plugin_name().empty()) {
      plugins_[tag] = v.metadata().plugin_data().plugin_name();
    }
    auto it = plugins_.find(tag);
    static const std::string kNone;
    const std::string& plugin = it == plugins_.end() ? kNone : it->second;
    if (plugin == "hparams") {
      tb::HParamsPluginData& hp =
          *google::protobuf::Arena::CreateMessage<tb::HParamsPluginData>(
              &proto_->arena);
      if (!hp.ParseFromString(v.metadata().plugin_data().content())) {
        out->skipped.push_back("hparams: content does not parse");
      } else if (hp.has_session_start_info()) {
        Value::Map m;
        for (const auto& [k, hv] : hp.session_start_info().hparams()) {
          m[k] = FromStructValue(hv, 0);
        }
        out->hparams = Value(std::move(m));
      } else {
        // The experiment (the hparams' domains) and the session's end
        // carry no values of the run.
        out->skipped.push_back(absl::StrCat(
            "hparams ", hp.has_experiment() ? "experiment" : "session end",
            ": not imported"));
      }
      continue;
    }
    switch (v.value_case()) {
      case tb::Summary::Value::kSimpleValue:
        out->scalars.push_back({tag, v.simple_value()});
        break;
      case tb::Summary::Value::kHisto: {
        const tb::HistogramProto& h = v.histo();
        if (h.bucket_size() == 0 || h.bucket_size() != h.bucket_limit_size()) {
          out->skipped.push_back(
              "histogram without buckets, or buckets and limits disagree");
          break;
        }
        TbPoint p;
        p.kind = TbPoint::Kind::kHistogram;
        p.tag = tag;
        p.histogram.edges.reserve(h.bucket_size() + 1);
        p.histogram.edges.push_back(h.min());
        p.histogram.edges.insert(p.histogram.edges.end(),
                                 h.bucket_limit().begin(),
                                 h.bucket_limit().end());
        p.histogram.counts.assign(h.bucket().begin(), h.bucket().end());
        out->points.push_back(std::move(p));
        break;
      }
      case tb::Summary::Value::kImage: {
        TbPoint p;
        p.kind = TbPoint::Kind::kBlob;
        p.tag = tag;
        p.blob.data = v.image().encoded_image_string();
        p.blob.content_type = GuessImageType(p.blob.data);
        out->points.push_back(std::move(p));
        break;
      }
      case tb::Summary::Value::kAudio: {
        TbPoint p;
        p.kind = TbPoint::Kind::kBlob;
        p.tag = tag;
        p.blob.data = v.audio().encoded_audio_string();
        p.blob.content_type = v.audio().content_type().empty()
                                  ? "audio/wav"
                                  : v.audio().content_type();
        out->points.push_back(std::move(p));
        break;
      }
      case tb::Summary::Value::kTensor: {
        std::string why;
        if (!DecodeTensor(v.tensor(), plugin, tag, out, &why)) {
          out->skipped.push_back(absl::StrCat(why, ": not imported"));
        }
        break;
      }
      case tb::Summary::Value::kObsoleteOldStyleHistogram:
        out->skipped.push_back("old-style histogram: not imported");
        break;
      case tb::Summary::Value::VALUE_NOT_SET:
        out->skipped.push_back("summary value without a value");
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace runlog::interop
