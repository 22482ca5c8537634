#include "tools/segtool/format.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tracking/value_json.h"

namespace runlog::segtool {

std::string FormatTimeSeconds(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string FormatTimeMicros(int64_t unix_us) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(unix_us),
                          absl::UTCTimeZone());
}

void TimeMicrosFormatter::Append(int64_t unix_us, std::string* out) {
  char text[kMaxText];
  out->append(text, static_cast<size_t>(Write(unix_us, text) - text));
}

char* TimeMicrosFormatter::Write(int64_t unix_us, char* p) {
  // Floor division: a time before 1970 has a negative second and a
  // non-negative fraction, as absl::FormatTime prints it.
  int64_t second = unix_us / 1000000;
  int64_t micros = unix_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    second -= 1;
  }
  if (!have_ || second != second_) {
    const absl::Time t = absl::FromUnixSeconds(second);
    // Times far outside the calendar's range take the general path.
    if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
      const std::string text = FormatTimeMicros(unix_us);
      const size_t n = std::min(text.size(), kMaxText);
      std::memcpy(p, text.data(), n);
      return p + n;
    }
    const std::string prefix =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", t, absl::UTCTimeZone());
    prefix_size_ = std::min(prefix.size(), sizeof prefix_);
    std::memcpy(prefix_, prefix.data(), prefix_size_);
    second_ = second;
    have_ = true;
  }
  // The prefix (int64 microseconds reach years of six digits: at most 22
  // bytes with the sign) and ".uuuuuuZ".
  std::memcpy(p, prefix_, sizeof prefix_);  // constant size: room for it
  p += prefix_size_;
  p[0] = '.';
  p[7] = 'Z';
  // Two digits at a time, from a table: a division by 100 instead of two
  // by 10 for each pair.
  static constexpr std::array<char, 200> kPairs = [] {
    std::array<char, 200> a{};
    for (int i = 0; i < 100; ++i) {
      a[2 * i] = static_cast<char>('0' + i / 10);
      a[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return a;
  }();
  const auto u = static_cast<uint32_t>(micros);
  std::memcpy(p + 1, &kPairs[2 * (u / 10000)], 2);
  std::memcpy(p + 3, &kPairs[2 * (u / 100 % 100)], 2);
  std::memcpy(p + 5, &kPairs[2 * (u % 100)], 2);
  return p + 8;
}

std::string FormatTimeJson(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

Value TimeValue(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return Value();
  return Value(FormatTimeJson(t));
}

std::string FormatExact(double v) { return ToJson(Value(v)); }

std::string FormatShort(double v) {
  if (std::isnan(v)) return "-";
  return absl::StrFormat("%.6g", v);
}

std::string FormatEpoch(double epoch) {
  return std::isnan(epoch) ? "-" : FormatExact(epoch);
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes) / 1024;
  int unit = 0;
  while (v >= 1024 && unit < 3) {
    v /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", v, kUnits[unit]);
}

std::string ContextString(const Context& context) {
  return absl::StrJoin(context, ",", absl::PairFormatter("="));
}

Value ContextValue(const Context& context) {
  Value::Map m;
  for (const auto& [k, v] : context) m[k] = Value(v);
  return Value(std::move(m));
}

std::string SingleLine(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      out += absl::StrFormat("\\x%02x", u);
    } else {
      out += c;
    }
  }
  return out;
}

std::string CsvField(absl::string_view s) {
  if (s.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return std::string(s);
  }
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteArg(absl::string_view s) {
  constexpr size_t kMax = 64;
  std::string escaped = absl::CHexEscape(s.substr(0, kMax));
  if (s.size() > kMax) escaped += "...";
  return escaped;
}

std::string RelativeTo(absl::string_view path, absl::string_view root) {
  if (!root.empty() && absl::StartsWith(path, root) &&
      path.size() > root.size() && path[root.size()] == '/') {
    return std::string(path.substr(root.size() + 1));
  }
  return std::string(path);
}

std::string DescribeHistogram(const Histogram& h) {
  double total = 0;
  for (double c : h.counts) total += c;
  const double lo = h.edges.empty() ? NAN : h.edges.front();
  const double hi = h.edges.empty() ? NAN : h.edges.back();
  return absl::StrCat(h.counts.size(), " bins [", FormatShort(lo), ", ",
                      FormatShort(hi), "] total ", FormatShort(total));
}

std::string DescribeBlob(const Blob& b) {
  return absl::StrCat(
      b.content_type.empty() ? "(no content type)" : SingleLine(b.content_type),
      ", ", b.data.size(), " bytes");
}

Value HistogramValue(const Histogram& h) {
  Value::List edges(h.edges.begin(), h.edges.end());
  Value::List counts(h.counts.begin(), h.counts.end());
  Value::Map m;
  m["edges"] = Value(std::move(edges));
  m["counts"] = Value(std::move(counts));
  return Value(std::move(m));
}

Value BlobValue(const Blob& b) {
  Value::Map m;
  m["content_type"] = Value(b.content_type);
  m["bytes"] = Value(static_cast<int64_t>(b.data.size()));
  return Value(std::move(m));
}

}  // namespace runlog::segtool
