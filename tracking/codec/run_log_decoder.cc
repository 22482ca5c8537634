#include "tracking/codec/run_log_decoder.h"

#include <iterator>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/run_reader.h"
#include "storage/segment.h"
#include "storage/status_macros.h"
#include "tracking/codec/column_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/value_codec.h"

namespace runlog {
namespace {

using record::GetDouble;
using record::GetSignedVarint;
using record::GetString;
using record::RecordType;
using storage::GetVarint64;

absl::Status Damaged(const std::string& where, absl::string_view what) {
  return absl::DataLossError(absl::StrCat(where, ": ", what));
}

template <typename T>
void AppendSelected(const std::vector<int64_t>& steps,
                    const std::vector<double>& epochs,
                    const std::vector<int64_t>& times, std::vector<T>&& values,
                    const StepRange& range, SeriesColumns<T>* out) {
  if (range.first == std::numeric_limits<int64_t>::min() &&
      range.last == std::numeric_limits<int64_t>::max()) {
    // Every point: whole columns at once (compaction and ReadAll take this).
    out->steps.insert(out->steps.end(), steps.begin(), steps.end());
    out->epochs.insert(out->epochs.end(), epochs.begin(), epochs.end());
    out->times_us.insert(out->times_us.end(), times.begin(), times.end());
    out->values.insert(out->values.end(),
                       std::make_move_iterator(values.begin()),
                       std::make_move_iterator(values.end()));
    return;
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!range.Contains(steps[i])) continue;
    out->steps.push_back(steps[i]);
    out->epochs.push_back(epochs[i]);
    out->times_us.push_back(times[i]);
    out->values.push_back(std::move(values[i]));
  }
}

}  // namespace

RunLogDecoder::RunLogDecoder(std::optional<Target> target, bool want_summaries)
    : target_(std::move(target)), want_summaries_(want_summaries) {}

std::vector<size_t> RunLogDecoder::TakeTouched() {
  std::vector<size_t> out;
  out.swap(touched_);
  for (size_t i : out) is_touched_[i] = false;
  return out;
}

RunLogDecoder RunLogDecoder::CollectingAll(bool want_summaries) {
  RunLogDecoder d(std::nullopt, want_summaries);
  d.collect_all_ = true;
  return d;
}

absl::Status RunLogDecoder::Apply(const storage::Chunk& chunk,
                                  absl::string_view location) {
  if (chunk.type == storage::format::kChunkBlob) {
    return ApplyBlob(
        chunk.payload,
        absl::StrCat(location, ": blob chunk at offset ", chunk.offset));
  }
  if (chunk.type != storage::format::kChunkRecords) return absl::OkStatus();
  absl::string_view in = chunk.payload;
  while (!in.empty()) {
    const uint64_t record_offset = chunk.payload.size() - in.size();
    const std::string where =
        absl::StrCat(location, ": chunk at offset ", chunk.offset,
                     ", record at offset ", record_offset);
    const uint8_t type = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    uint64_t length;
    if (!GetVarint64(&in, &length) || length > in.size()) {
      return Damaged(where, "record length runs past the chunk");
    }
    const absl::string_view body = in.substr(0, static_cast<size_t>(length));
    in.remove_prefix(static_cast<size_t>(length));
    absl::Status s = ApplyRecord(type, body, where);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status RunLogDecoder::ApplyRecord(uint8_t type, absl::string_view body,
                                        const std::string& where) {
  absl::string_view in = body;
  switch (static_cast<RecordType>(type)) {
    case RecordType::kRunInfo: {
      int64_t created;
      absl::string_view experiment, name, description;
      if (!GetSignedVarint(&in, &created) ||
          !GetString(&in, record::kMaxMetaStringLength, &experiment) ||
          !GetString(&in, record::kMaxMetaStringLength, &name) ||
          !GetString(&in, record::kMaxMetaStringLength, &description)) {
        return Damaged(where, "bad run info record");
      }
      summary_.created = absl::FromUnixMicros(created);
      summary_.experiment = std::string(experiment);
      summary_.name = std::string(name);
      summary_.description = std::string(description);
      return absl::OkStatus();
    }
    case RecordType::kSetParam: {
      absl::string_view path;
      if (!GetString(&in, record::kMaxMetaStringLength, &path)) {
        return Damaged(where, "bad param path");
      }
      absl::StatusOr<Value> v = DecodeValue(&in);
      if (!v.ok()) return Damaged(where, v.status().message());
      absl::Status s = SetPath(summary_.params, path, *std::move(v));
      if (!s.ok()) return Damaged(where, s.message());
      return absl::OkStatus();
    }
    case RecordType::kMergeParams: {
      absl::StatusOr<Value> v = DecodeValue(&in);
      if (!v.ok()) return Damaged(where, v.status().message());
      absl::Status s = MergeInto(summary_.params, *v);
      if (!s.ok()) return Damaged(where, s.message());
      return absl::OkStatus();
    }
    case RecordType::kAddTag:
    case RecordType::kRemoveTag:
    case RecordType::kSetName:
    case RecordType::kSetDescription: {
      absl::string_view s;
      if (!GetString(&in, record::kMaxMetaStringLength, &s)) {
        return Damaged(where, "bad string record");
      }
      const auto t = static_cast<RecordType>(type);
      if (t == RecordType::kAddTag) summary_.tags.emplace(s);
      if (t == RecordType::kRemoveTag) summary_.tags.erase(std::string(s));
      if (t == RecordType::kSetName) summary_.name = std::string(s);
      if (t == RecordType::kSetDescription) {
        summary_.description = std::string(s);
      }
      return absl::OkStatus();
    }
    case RecordType::kDefineSeries: {
      uint64_t id;
      uint64_t ctx;
      absl::string_view name;
      if (!GetVarint64(&in, &id) || id >= record::kMaxSeriesPerRun ||
          in.empty()) {
        return Damaged(where, "bad series definition");
      }
      const uint8_t code = static_cast<uint8_t>(in[0]);
      in.remove_prefix(1);
      if (code < 1 || code > 4) return Damaged(where, "unknown series kind");
      SeriesSummary ss;
      ss.kind = static_cast<SeriesKind>(code - 1);
      if (!GetString(&in, record::kMaxSeriesNameLength, &name) ||
          !GetVarint64(&in, &ctx) || ctx > record::kMaxContextEntries) {
        return Damaged(where, "bad series name or context");
      }
      ss.key.name = std::string(name);
      for (uint64_t i = 0; i < ctx; ++i) {
        absl::string_view k, v;
        if (!GetString(&in, record::kMaxContextStringLength, &k) ||
            !GetString(&in, record::kMaxContextStringLength, &v)) {
          return Damaged(where, "bad context entry");
        }
        ss.key.context.emplace(std::string(k), std::string(v));
      }
      if (series_.count(static_cast<uint32_t>(id))) {
        return Damaged(where, absl::StrCat("series id ", id, " defined twice"));
      }
      if (target_ && !target_id_ && ss.key == target_->key) {
        target_id_ = static_cast<uint32_t>(id);
        target_kind_ = ss.kind;
      }
      series_[static_cast<uint32_t>(id)] =
          SeriesInfo{ss.kind, summary_.series.size()};
      summary_.series.push_back(std::move(ss));
      if (collect_all_) {
        all_.emplace_back();
        is_touched_.push_back(false);
      }
      return absl::OkStatus();
    }
    case RecordType::kScalarPoints:
    case RecordType::kTextPoints:
    case RecordType::kHistogramPoints:
      return ApplyPoints(type, body, where);
  }
  if (type >= record::kFirstIgnorableRecordType) return absl::OkStatus();
  return absl::UnimplementedError(absl::StrCat(
      where, ": record type ", type, " is from a newer runlog version"));
}

absl::Status RunLogDecoder::ApplyPoints(uint8_t type, absl::string_view body,
                                        const std::string& where) {
  absl::string_view in = body;
  uint64_t id;
  uint64_t count;
  if (!GetVarint64(&in, &id) || !GetVarint64(&in, &count) || count == 0 ||
      count > record::kMaxPointsPerRecord || count > in.size()) {
    return Damaged(where, "bad points header");
  }
  // Defined ids are below kMaxSeriesPerRun; a larger (damaged) id must not
  // be truncated to 32 bits and taken for another series.
  auto it = id < record::kMaxSeriesPerRun
                ? series_.find(static_cast<uint32_t>(id))
                : series_.end();
  if (it == series_.end()) {
    return Damaged(where, absl::StrCat("points of undefined series ", id));
  }
  const bool is_target = collect_all_ || (target_id_ && *target_id_ == id);
  const StepRange range =
      (collect_all_ || !target_) ? StepRange{} : target_->range;
  SeriesPoints* dest = collect_all_ ? &all_[it->second.summary_index] : nullptr;
  if (collect_all_) Touch(it->second.summary_index);
  const SeriesKind kind = it->second.kind;
  const SeriesKind expected =
      static_cast<RecordType>(type) == RecordType::kScalarPoints
          ? SeriesKind::kScalar
      : static_cast<RecordType>(type) == RecordType::kTextPoints
          ? SeriesKind::kText
          : SeriesKind::kHistogram;
  if (kind != expected) {
    return Damaged(where, absl::StrCat("points record does not match the ",
                                       SeriesKindName(kind), " series ", id));
  }
  if (!is_target && !want_summaries_) return absl::OkStatus();

  const size_t n = static_cast<size_t>(count);
  steps_.clear();
  times_.clear();
  epochs_.clear();
  if (!record::DecodeSteps(&in, n, &steps_) ||
      !record::DecodeDeltas(&in, n, &times_) ||
      !record::DecodeEpochs(&in, n, &epochs_)) {
    return Damaged(where, "bad point columns");
  }
  SeriesSummary& summary = summary_.series[it->second.summary_index];
  if (kind == SeriesKind::kScalar) {
    values_.clear();
    if (!record::DecodeXorDoubles(&in, n, &values_) || !in.empty()) {
      return Damaged(where, "bad value column");
    }
    if (want_summaries_) {
      for (size_t i = 0; i < n; ++i) summary.Add(steps_[i], values_[i]);
    }
    if (is_target) {
      AppendSelected(steps_, epochs_, times_, std::move(values_), range,
                     dest ? &dest->scalars : &scalars_);
    }
    return absl::OkStatus();
  }
  if (want_summaries_) {
    for (size_t i = 0; i < n; ++i) summary.AddStep(steps_[i]);
  }
  if (!is_target) return absl::OkStatus();
  if (kind == SeriesKind::kText) {
    std::vector<std::string> texts;
    texts.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      absl::string_view s;
      if (!GetString(&in, record::kMaxTextLength, &s)) {
        return Damaged(where, "bad text value");
      }
      texts.emplace_back(s);
    }
    if (!in.empty()) return Damaged(where, "trailing bytes in text record");
    AppendSelected(steps_, epochs_, times_, std::move(texts), range,
                   dest ? &dest->texts : &texts_);
    return absl::OkStatus();
  }
  std::vector<Histogram> hists;
  hists.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t bins;
    if (!GetVarint64(&in, &bins) || bins == 0 ||
        bins > record::kMaxHistogramBins || (2 * bins + 1) * 8 > in.size()) {
      return Damaged(where, "bad histogram");
    }
    Histogram h;
    h.edges.resize(static_cast<size_t>(bins) + 1);
    h.counts.resize(static_cast<size_t>(bins));
    for (double& e : h.edges) GetDouble(&in, &e);
    for (double& c : h.counts) GetDouble(&in, &c);
    hists.push_back(std::move(h));
  }
  if (!in.empty()) return Damaged(where, "trailing bytes in histogram record");
  AppendSelected(steps_, epochs_, times_, std::move(hists), range,
                 dest ? &dest->histograms : &histograms_);
  return absl::OkStatus();
}

absl::Status RunLogDecoder::ApplyBlob(absl::string_view payload,
                                      const std::string& where) {
  absl::string_view in = payload;
  uint64_t id;
  int64_t step;
  int64_t time_us;
  double epoch;
  absl::string_view content_type;
  if (!GetVarint64(&in, &id) || !GetSignedVarint(&in, &step) ||
      !GetSignedVarint(&in, &time_us) || !GetDouble(&in, &epoch) ||
      !GetString(&in, record::kMaxContentTypeLength, &content_type)) {
    return Damaged(where, "bad blob header");
  }
  // As in ApplyPoints: never truncate a damaged id into a defined one.
  auto it = id < record::kMaxSeriesPerRun
                ? series_.find(static_cast<uint32_t>(id))
                : series_.end();
  if (it == series_.end() || it->second.kind != SeriesKind::kBlob) {
    return Damaged(where, absl::StrCat("blob of unknown series ", id));
  }
  if (want_summaries_) {
    summary_.series[it->second.summary_index].AddStep(step);
  }
  const bool wanted = collect_all_ || (target_id_ && *target_id_ == id &&
                                       target_->range.Contains(step));
  if (wanted) {
    if (collect_all_) Touch(it->second.summary_index);
    BlobColumns& out =
        collect_all_ ? all_[it->second.summary_index].blobs : blobs_;
    out.steps.push_back(step);
    out.epochs.push_back(epoch);
    out.times_us.push_back(time_us);
    out.values.push_back(Blob{std::string(content_type), std::string(in)});
  }
  return absl::OkStatus();
}

absl::Status DecodeRunLog(storage::FileSystem* fs, const std::string& dir,
                          const std::string& run_id, RunLogDecoder* decoder,
                          std::string* file, LogTail* tail,
                          const std::function<absl::Status()>& after_chunk) {
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<storage::RunReader> reader,
                          storage::RunReader::Open(fs, dir, run_id));
  storage::Chunk chunk;
  std::string current = dir;
  while (true) {
    absl::StatusOr<bool> more = reader->Next(&chunk);
    if (file != nullptr) *file = current;
    RUNLOG_RETURN_IF_ERROR(more.status());
    if (!*more) {
      if (tail != nullptr && !reader->committed()) {
        tail->uncommitted = true;
        tail->dropped_bytes = reader->ignored_tail_bytes();
        tail->damage = reader->tail_damage();
        tail->damage_file = reader->tail_damage_file();
      }
      return absl::OkStatus();
    }
    current = storage::JoinPath(
        dir, storage::SegmentFileName(reader->current_segment()));
    if (file != nullptr) *file = current;
    RUNLOG_RETURN_IF_ERROR(decoder->Apply(chunk, current));
    if (after_chunk) RUNLOG_RETURN_IF_ERROR(after_chunk());
  }
}

}  // namespace runlog
