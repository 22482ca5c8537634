#include "tracking/series.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tracking/codec/record_format.h"

namespace runlog {

absl::string_view SeriesKindName(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::kScalar:
      return "scalar";
    case SeriesKind::kText:
      return "text";
    case SeriesKind::kHistogram:
      return "histogram";
    case SeriesKind::kBlob:
      return "blob";
  }
  return "unknown";
}

std::string SeriesKey::ToString() const {
  if (context.empty()) return name;
  return absl::StrCat(
      name, "{", absl::StrJoin(context, ",", absl::PairFormatter("=")), "}");
}

absl::Status ValidateSeriesKey(const SeriesKey& key) {
  if (key.name.empty()) {
    return absl::InvalidArgumentError("series name is empty");
  }
  if (key.name.size() > record::kMaxSeriesNameLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series name of ", key.name.size(), " bytes is over the limit of ",
        record::kMaxSeriesNameLength));
  }
  if (key.context.size() > record::kMaxContextEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "series ", key.name, ": ", key.context.size(),
        " context entries, over the limit of ", record::kMaxContextEntries));
  }
  for (const auto& [k, v] : key.context) {
    if (k.empty() || k.size() > record::kMaxContextStringLength ||
        v.size() > record::kMaxContextStringLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", key.name, ": context key must be 1..",
                       record::kMaxContextStringLength,
                       " bytes and its value at most as long"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHistogram(const Histogram& h) {
  if (h.counts.empty() || h.edges.size() != h.counts.size() + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "histogram needs bins + 1 edges and at least one bin; got ",
        h.edges.size(), " edges and ", h.counts.size(), " counts"));
  }
  if (h.counts.size() > record::kMaxHistogramBins) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram of ", h.counts.size(),
                     " bins is over the limit of ", record::kMaxHistogramBins));
  }
  return absl::OkStatus();
}

}  // namespace runlog
