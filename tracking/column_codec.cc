#include "tracking/column_codec.h"

#include <cmath>
#include <cstring>
#include <string>

#include "absl/base/optimization.h"
#include "storage/coding.h"
#include "tracking/record_format.h"

namespace runlog::record {
namespace {

using storage::DecodeFixed64;
using storage::EncodeFixed64;
using storage::EncodeVarint64;
using storage::GetVarint64;
using storage::PutVarint64;
using storage::ZigZagDecode;
using storage::ZigZagEncode;

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// Encodes columns into a stack block appended to `out` a block at a time:
// one std::string append per value costs several times more than encoding
// the value, and columns hold up to kMaxPointsPerRecord values.
class BlockWriter {
 public:
  // Every write through pos() may take up to this many bytes.
  static constexpr size_t kMaxEntryBytes = 16;

  explicit BlockWriter(std::string* out) : out_(out) {}
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;
  ~BlockWriter() { Flush(); }

  // Room for kMaxEntryBytes bytes; pass the end of what was written to
  // Advance().
  char* pos() { return pos_; }
  void Advance(char* end) {
    pos_ = end;
    if (ABSL_PREDICT_FALSE(pos_ > block_ + sizeof(block_) - kMaxEntryBytes)) {
      Flush();
    }
  }
  void Flush() {
    out_->append(block_, static_cast<size_t>(pos_ - block_));
    pos_ = block_;
  }

 private:
  std::string* out_;
  char block_[4096];
  char* pos_ = block_;
};

// One XOR-column entry for x = bits ^ previous bits, x != 0. Writes all 8
// bytes of the shifted value (the block has the slack) but advances past the
// meaningful ones only.
char* EncodeXorEntry(char* p, uint64_t x) {
  const int lead = __builtin_clzll(x) / 8;
  const int trail = __builtin_ctzll(x) / 8;
  p[0] = static_cast<char>((lead << 4) | trail);
  EncodeFixed64(p + 1, x >> (8 * trail));
  return p + 1 + (8 - lead - trail);
}

}  // namespace

void PutSignedVarint(std::string* out, int64_t v) {
  PutVarint64(out, ZigZagEncode(v));
}
bool GetSignedVarint(absl::string_view* in, int64_t* v) {
  uint64_t u;
  if (!GetVarint64(in, &u)) return false;
  *v = ZigZagDecode(u);
  return true;
}
void PutDouble(std::string* out, double v) {
  storage::PutFixed64(out, Bits(v));
}
bool GetDouble(absl::string_view* in, double* v) {
  uint64_t b;
  if (!storage::GetFixed64(in, &b)) return false;
  *v = FromBits(b);
  return true;
}

void PutString(std::string* out, absl::string_view s) {
  PutVarint64(out, s.size());
  out->append(s.data(), s.size());
}
bool GetString(absl::string_view* in, size_t max_length, absl::string_view* s) {
  uint64_t n;
  if (!GetVarint64(in, &n) || n > max_length || n > in->size()) return false;
  *s = in->substr(0, static_cast<size_t>(n));
  in->remove_prefix(static_cast<size_t>(n));
  return true;
}

void EncodeSteps(absl::Span<const int64_t> steps, std::string* out) {
  if (steps.empty()) return;
  BlockWriter w(out);
  w.Advance(EncodeVarint64(w.pos(), ZigZagEncode(steps[0])));
  for (size_t i = 1; i < steps.size(); ++i) {
    // Wrapping arithmetic: any int64 sequence round-trips.
    const uint64_t delta = static_cast<uint64_t>(steps[i]) -
                           static_cast<uint64_t>(steps[i - 1]) - 1;
    w.Advance(
        EncodeVarint64(w.pos(), ZigZagEncode(static_cast<int64_t>(delta))));
  }
}

bool DecodeSteps(absl::string_view* in, size_t n, std::vector<int64_t>* out) {
  if (n == 0) return true;
  int64_t prev;
  if (!GetSignedVarint(in, &prev)) return false;
  out->push_back(prev);
  for (size_t i = 1; i < n; ++i) {
    int64_t d;
    if (!GetSignedVarint(in, &d)) return false;
    prev = static_cast<int64_t>(static_cast<uint64_t>(prev) +
                                static_cast<uint64_t>(d) + 1);
    out->push_back(prev);
  }
  return true;
}

void EncodeDeltas(absl::Span<const int64_t> values, std::string* out) {
  BlockWriter w(out);
  int64_t prev = 0;
  for (int64_t v : values) {
    w.Advance(EncodeVarint64(
        w.pos(), ZigZagEncode(static_cast<int64_t>(
                     static_cast<uint64_t>(v) - static_cast<uint64_t>(prev)))));
    prev = v;
  }
}

bool DecodeDeltas(absl::string_view* in, size_t n, std::vector<int64_t>* out) {
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t d;
    if (!GetSignedVarint(in, &d)) return false;
    prev = static_cast<int64_t>(static_cast<uint64_t>(prev) +
                                static_cast<uint64_t>(d));
    out->push_back(prev);
  }
  return true;
}

void EncodeXorDoubles(absl::Span<const double> values, std::string* out) {
  if (values.empty()) return;
  uint64_t prev = Bits(values[0]);
  storage::PutFixed64(out, prev);
  BlockWriter w(out);
  for (size_t i = 1; i < values.size(); ++i) {
    const uint64_t bits = Bits(values[i]);
    const uint64_t x = bits ^ prev;
    prev = bits;
    if (x == 0) {
      char* p = w.pos();
      *p = static_cast<char>(kXorUnchanged);
      w.Advance(p + 1);
    } else {
      w.Advance(EncodeXorEntry(w.pos(), x));
    }
  }
}

bool DecodeXorDoubles(absl::string_view* in, size_t n,
                      std::vector<double>* out) {
  if (n == 0) return true;
  uint64_t prev;
  if (!storage::GetFixed64(in, &prev)) return false;
  out->push_back(FromBits(prev));
  for (size_t i = 1; i < n; ++i) {
    if (in->empty()) return false;
    const uint8_t control = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    if (control != kXorUnchanged) {
      const int lead = control >> 4;
      const int trail = control & 0x0f;
      const int len = 8 - lead - trail;
      if (len <= 0 || static_cast<size_t>(len) > in->size()) return false;
      uint64_t middle = 0;
      for (int b = 0; b < len; ++b) {
        middle |= uint64_t{static_cast<uint8_t>((*in)[b])} << (8 * b);
      }
      in->remove_prefix(static_cast<size_t>(len));
      prev ^= middle << (8 * trail);
    }
    out->push_back(FromBits(prev));
  }
  return true;
}

void EncodeEpochs(absl::Span<const double> epochs, std::string* out) {
  if (epochs.empty()) {
    out->push_back(static_cast<char>(kEpochsNone));
    return;
  }
  bool all_nan = true;
  bool constant = true;
  for (double e : epochs) {
    all_nan = all_nan && std::isnan(e);
    constant = constant && Bits(e) == Bits(epochs[0]);
  }
  if (all_nan && constant) {
    out->push_back(static_cast<char>(kEpochsNone));
  } else if (constant) {
    out->push_back(static_cast<char>(kEpochsConstant));
    PutDouble(out, epochs[0]);
  } else {
    out->push_back(static_cast<char>(kEpochsXor));
    EncodeXorDoubles(epochs, out);
  }
}

bool DecodeEpochs(absl::string_view* in, size_t n, std::vector<double>* out) {
  if (in->empty()) return false;
  const uint8_t flag = static_cast<uint8_t>((*in)[0]);
  in->remove_prefix(1);
  switch (flag) {
    case kEpochsNone:
      out->insert(out->end(), n, std::nan(""));
      return true;
    case kEpochsConstant: {
      double e;
      if (!GetDouble(in, &e)) return false;
      out->insert(out->end(), n, e);
      return true;
    }
    case kEpochsXor:
      return DecodeXorDoubles(in, n, out);
  }
  return false;
}

}  // namespace runlog::record
