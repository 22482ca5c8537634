#include "tracking/codec/column_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/base/config.h"
#include "absl/base/optimization.h"
#include "storage/coding.h"
#include "tracking/codec/record_format.h"

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

// Encodes `n` column entries, entry i by `encode(p, i)` which writes at most
// kMaxEntryBytes at p and returns the end of what it wrote. Entries go into a
// stack block appended to `out` once per kGroup entries: one std::string
// append per entry costs several times more than encoding it, and columns
// hold up to kMaxPointsPerRecord entries.
constexpr size_t kMaxEntryBytes = 16;
constexpr size_t kGroup = 256;
template <typename EncodeOne>
void EncodeInGroups(size_t n, std::string* out, EncodeOne encode) {
  char block[kGroup * kMaxEntryBytes];
  for (size_t i = 0; i < n;) {
    const size_t group_end = n - i < kGroup ? n : i + kGroup;
    char* p = block;
    for (; i < group_end; ++i) p = encode(p, i);
    out->append(block, static_cast<size_t>(p - block));
  }
}

// Stores the 8 bytes of `v` little-endian at `p`.
inline void StoreFixed64(char* p, uint64_t v) {
#if defined(ABSL_IS_LITTLE_ENDIAN)
  std::memcpy(p, &v, sizeof v);
#else
  EncodeFixed64(p, v);
#endif
}

// One XOR-column entry for x = bits ^ previous bits, x != 0. Stores all 8
// bytes of the shifted value (the entry has room for them) but returns the
// end of the meaningful ones only.
inline char* EncodeXorEntry(char* p, uint64_t x) {
  const int lead = __builtin_clzll(x) / 8;
  const int trail = __builtin_ctzll(x) / 8;
  p[0] = static_cast<char>((lead << 4) | trail);
  StoreFixed64(p + 1, x >> (8 * trail));
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
  PutSignedVarint(out, steps[0]);
  // Raw pointers: Span indexing is bounds-checked, and a pointer copy is not
  // reloaded after every store through the output's char*.
  const int64_t* const v = steps.data();
  const size_t n = steps.size() - 1;
  char block[kGroup * kMaxEntryBytes];
  for (size_t i = 0; i < n;) {
    const size_t group_end = n - i < kGroup ? n : i + kGroup;
    char* p = block;
    while (i < group_end) {
      // Steps counting up by one (the usual case) are zero bytes: eight at
      // a time where all eight are.
      if (group_end - i >= 8) {
        uint64_t off = 0;
        for (size_t k = 0; k < 8; ++k) {
          off |= static_cast<uint64_t>(v[i + k + 1]) -
                 static_cast<uint64_t>(v[i + k]) - 1;
        }
        if (off == 0) {
          std::memset(p, 0, 8);
          p += 8;
          i += 8;
          continue;
        }
      }
      // Wrapping arithmetic: any int64 sequence round-trips.
      const uint64_t delta =
          static_cast<uint64_t>(v[i + 1]) - static_cast<uint64_t>(v[i]) - 1;
      p = EncodeVarint64(p, ZigZagEncode(static_cast<int64_t>(delta)));
      ++i;
    }
    out->append(block, static_cast<size_t>(p - block));
  }
}

// The column decoders below write through raw pointers into output sized
// once (every point takes at least one byte, so n is checked against the
// input before anything is sized from it) and read one-byte varints
// inline: per-point push_back and string_view bookkeeping were most of a
// log read's decoding time. On failure the output is back at its size on
// entry.

// Reads the varint at p (< end, or none is there): its end, or nullptr when
// it is truncated or overlong (as GetVarint64 judges it).
inline const char* ReadVarint(const char* p, const char* end, uint64_t* v) {
  if (ABSL_PREDICT_TRUE(p < end && static_cast<uint8_t>(*p) < 0x80)) {
    *v = static_cast<uint8_t>(*p);
    return p + 1;
  }
  absl::string_view rest(p, static_cast<size_t>(end - p));
  if (!GetVarint64(&rest, v)) return nullptr;
  return rest.data();
}

// Decodes n zig-zag varints x_i into out as v_i = v_{i-1} + x_i + bias
// (v_{-1} = first_base, the first with no bias when `bias_first` is false).
template <int kBias>
bool DecodeVarintSums(absl::string_view* in, size_t n, bool bias_first,
                      std::vector<int64_t>* out) {
  if (n > in->size()) return false;
  const size_t base = out->size();
  out->resize(base + n);
  int64_t* o = out->data() + base;
  const char* p = in->data();
  const char* const end = p + in->size();
  uint64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t u;
    p = ReadVarint(p, end, &u);
    if (p == nullptr) {
      out->resize(base);
      return false;
    }
    const auto d = static_cast<uint64_t>(ZigZagDecode(u));
    prev = i == 0 && !bias_first ? d : prev + d + kBias;
    o[i] = static_cast<int64_t>(prev);
  }
  in->remove_prefix(static_cast<size_t>(p - in->data()));
  return true;
}

bool DecodeSteps(absl::string_view* in, size_t n, std::vector<int64_t>* out) {
  return DecodeVarintSums<1>(in, n, /*bias_first=*/false, out);
}

void EncodeDeltas(absl::Span<const int64_t> values, std::string* out) {
  if (values.empty()) return;
  PutSignedVarint(out, values[0]);
  const int64_t* const v = values.data();
  EncodeInGroups(values.size() - 1, out, [v](char* p, size_t i) {
    return EncodeVarint64(
        p, ZigZagEncode(static_cast<int64_t>(static_cast<uint64_t>(v[i + 1]) -
                                             static_cast<uint64_t>(v[i]))));
  });
}

void EncodeDeltaRuns(absl::Span<const ValueRun> runs, std::string* out) {
  uint64_t prev = 0;
  for (const ValueRun& r : runs) {
    if (r.count == 0) continue;
    PutVarint64(out, ZigZagEncode(static_cast<int64_t>(
                         static_cast<uint64_t>(r.value) - prev)));
    out->append(r.count - 1, '\0');  // zig-zag varint of a zero delta
    prev = static_cast<uint64_t>(r.value);
  }
}

bool DecodeDeltas(absl::string_view* in, size_t n, std::vector<int64_t>* out) {
  return DecodeVarintSums<0>(in, n, /*bias_first=*/true, out);
}

void EncodeXorDoubles(absl::Span<const double> values, std::string* out) {
  if (values.empty()) return;
  storage::PutFixed64(out, Bits(values[0]));
  const double* const v = values.data();
  EncodeInGroups(values.size() - 1, out, [v](char* p, size_t i) {
    const uint64_t x = Bits(v[i + 1]) ^ Bits(v[i]);
    if (x == 0) {
      *p = static_cast<char>(kXorUnchanged);
      return p + 1;
    }
    return EncodeXorEntry(p, x);
  });
}

bool DecodeXorDoubles(absl::string_view* in, size_t n,
                      std::vector<double>* out) {
  if (n == 0) return true;
  // 8 bytes for the first value, a control byte for each other one.
  if (in->size() < 8 || n - 1 > in->size() - 8) return false;
  const size_t base = out->size();
  out->resize(base + n);
  double* o = out->data() + base;
  const char* p = in->data();
  const char* const end = p + in->size();
  uint64_t prev = storage::DecodeFixed64(p);
  p += 8;
  o[0] = FromBits(prev);
  for (size_t i = 1; i < n; ++i) {
    if (p == end) {
      out->resize(base);
      return false;
    }
    const auto control = static_cast<uint8_t>(*p++);
    if (control != kXorUnchanged) {
      const int lead = control >> 4;
      const int trail = control & 0x0f;
      const int len = 8 - lead - trail;
      if (len <= 0 || len > end - p) {
        out->resize(base);
        return false;
      }
      uint64_t middle;
      if (end - p >= 8) {
        // One load and a mask instead of a byte loop.
        middle = storage::DecodeFixed64(p);
        if (len < 8) middle &= (uint64_t{1} << (8 * len)) - 1;
      } else {
        middle = 0;
        for (int b = 0; b < len; ++b) {
          middle |= uint64_t{static_cast<uint8_t>(p[b])} << (8 * b);
        }
      }
      p += len;
      prev ^= middle << (8 * trail);
    }
    o[i] = FromBits(prev);
  }
  in->remove_prefix(static_cast<size_t>(p - in->data()));
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
