#include "tracking/run.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/strings/str_cat.h"
#include "storage/format.h"
#include "storage/status_macros.h"
#include "tracking/codec/record_codec.h"
#include "tracking/codec/record_format.h"
#include "tracking/open_run_registry.h"
#include "tracking/run_summary.h"
#include "tracking/series_state.h"
#include "tracking/system_metrics/proc_sampler.h"

namespace runlog {
namespace {

using internal::kNoEpoch;
using internal::SeriesState;
using record::RecordType;

constexpr uint32_t kClockEvery = 32;

// Records are cut into chunks of about this size, far below the format's
// chunk limit, so that a torn tail loses little.
constexpr size_t kTargetChunkBytes = 1u << 20;

absl::Status CheckMeta(absl::string_view what, absl::string_view s) {
  if (s.size() > record::kMaxMetaStringLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " of ", s.size(), " bytes is over the limit of ",
                     record::kMaxMetaStringLength));
  }
  return absl::OkStatus();
}

// The runs covering points [begin, begin + len) of the `total` points that
// `runs` cover: `runs` itself when that is all of them (always, unless
// buffer_points is set above kMaxPointsPerRecord), else trimmed into `*out`.
absl::Span<const record::ValueRun> SliceRuns(
    absl::Span<const record::ValueRun> runs, size_t begin, size_t len,
    size_t total, std::vector<record::ValueRun>* out) {
  if (begin == 0 && len == total) return runs;
  out->clear();
  size_t pos = 0;
  for (const record::ValueRun& r : runs) {
    const size_t first = std::max(pos, begin);
    const size_t last = std::min(pos + r.count, begin + len);
    pos += r.count;
    if (first < last) out->push_back(record::ValueRun{r.value, last - first});
    if (pos >= begin + len) break;
  }
  return *out;
}

}  // namespace

// ---- ScalarSeries -----------------------------------------------------------

absl::Status ScalarSeries::TrackSlow(const int64_t* step, double value,
                                     const double* epoch) {
  if (ABSL_PREDICT_FALSE(run_ == nullptr)) {
    return absl::FailedPreconditionError("series handle is empty");
  }
  return run_->TrackScalar(state_, step, value, epoch ? *epoch : kNoEpoch);
}

absl::Status ScalarSeries::TrackBatch(absl::Span<const int64_t> steps,
                                      absl::Span<const double> values) {
  if (run_ == nullptr) {
    return absl::FailedPreconditionError("series handle is empty");
  }
  if (steps.size() != values.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("series ", state_->key.ToString(), ": ", steps.size(),
                     " steps but ", values.size(), " values"));
  }
  RUNLOG_RETURN_IF_ERROR(run_->CheckOpen());
  SeriesState* s = state_;
  run_->CloseLane(s);
  // Large batches are taken in slices so the buffer limit still holds.
  size_t done = 0;
  while (done < steps.size()) {
    if (s->steps.empty()) run_->MarkDirty(s);
    const size_t room = run_->buffer_points_ > run_->pending_points_
                            ? run_->buffer_points_ - run_->pending_points_
                            : 1;
    const size_t n = std::min(room, steps.size() - done);
    s->steps.insert(s->steps.end(), steps.begin() + done,
                    steps.begin() + done + n);
    s->values.insert(s->values.end(), values.begin() + done,
                     values.begin() + done + n);
    s->AddNoEpochs(n);
    s->AddTime(run_->now_us_, n);
    run_->pending_points_ += n;
    done += n;
    RUNLOG_RETURN_IF_ERROR(run_->AfterPoints(0, 0));
  }
  return absl::OkStatus();
}

const SeriesKey& ScalarSeries::key() const { return state_->key; }
const SeriesSummary& ScalarSeries::summary() const {
  if (run_ != nullptr) run_->CloseLane(state_);
  state_->SettleSummary();
  return state_->summary;
}

// ---- Run: creation ----------------------------------------------------------

Run::Run(std::shared_ptr<storage::RunStore> store,
         std::unique_ptr<storage::RunWriter> writer, const RunOptions& options)
    : store_(std::move(store)),
      writer_(std::move(writer)),
      clock_(store_->clock()),
      id_(writer_->id()),
      experiment_(options.experiment),
      name_(options.name),
      description_(options.description),
      created_(clock_->Now()),
      tags_(options.tags.begin(), options.tags.end()),
      params_(Value::EmptyMap()),
      on_exception_(options.on_exception),
      buffer_points_(std::max<size_t>(options.buffer_points, 1)),
      buffer_bytes_(std::max<size_t>(options.buffer_bytes, 1)),
      max_buffer_age_(options.max_buffer_age),
      uncaught_at_creation_(std::uncaught_exceptions()) {
  now_us_ = absl::ToUnixMicros(created_);
  last_flush_us_ = now_us_;
  last_life_us_ = now_us_;
  heartbeat_interval_ = options.heartbeat_interval;
  real_clock_ = clock_ == storage::Clock::Default();
  tick_ = real_clock_ ? storage::RealCoarseTickNs() : clock_->CoarseTickMs();
  clock_countdown_ = kClockEvery;
  if (options.system_metrics) {
    sample_interval_us_ = absl::ToInt64Microseconds(
        std::max(options.system_metrics_interval, absl::Milliseconds(1)));
    sampler_ = std::make_unique<system_metrics::Sampler>(
        system_metrics::SamplerOptions{}, now_us_);
    next_sample_us_ = now_us_ + sample_interval_us_;
  }
  internal::OpenRunRegistry::Add(writer_->dir(), this);
}

absl::Status Run::Init(const RunOptions& options) {
  record::AppendRunInfo(&pending_records_, created_, experiment_, name_,
                        description_);
  for (const std::string& tag : tags_) {
    record::AppendStringRecord(&pending_records_, RecordType::kAddTag, tag);
  }
  if (!options.params.is_null()) {
    RUNLOG_RETURN_IF_ERROR(MergeInto(params_, options.params));
    record::AppendMergeParams(&pending_records_, options.params);
  }
  // Make the run's identity visible to live readers at once.
  return Flush();
}

Run::~Run() {
  if (state_ == State::kOpen) {
    if (std::uncaught_exceptions() > uncaught_at_creation_) {
      switch (on_exception_) {
        case OnException::kLeaveUncommitted:
          Close().IgnoreError();
          break;
        case OnException::kDiscard:
          Close().IgnoreError();
          store_->DeleteRun(id_).IgnoreError();
          break;
        case OnException::kCommitFailed:
          Fail("an exception was thrown while the run was open").IgnoreError();
          break;
      }
    } else {
      Commit().IgnoreError();
    }
  }
  // A run that failed to commit is still open; leave it uncommitted.
  if (state_ == State::kOpen) Close().IgnoreError();
  internal::OpenRunRegistry::Remove(writer_->dir(), this);
}

// ---- Run: state -------------------------------------------------------------

absl::Status Run::CheckOpen() const {
  if (!status_.ok()) return status_;
  switch (state_) {
    case State::kOpen:
      return absl::OkStatus();
    case State::kCommitted:
      return absl::FailedPreconditionError(
          absl::StrCat("run ", id_, " is already committed"));
    case State::kClosed:
      return absl::FailedPreconditionError(
          absl::StrCat("run ", id_, " is closed"));
    case State::kDeleted:
      return absl::FailedPreconditionError(
          absl::StrCat("run ", id_, " was deleted"));
  }
  return absl::InternalError("unreachable");
}

absl::Status Run::Poison(absl::Status s) {
  CloseLanes();
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

void Run::CloseForDeletion() {
  CloseLanes();
  if (state_ == State::kOpen) {
    for (SeriesState* s : dirty_) s->ClearPoints();
    dirty_.clear();
    writer_->Close().IgnoreError();
  }
  state_ = State::kDeleted;
}

// ---- Run: metadata ----------------------------------------------------------

absl::Status Run::SetParam(absl::string_view path, Value value) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  // SetPath checks the path and the limits of the resulting tree, and leaves
  // params_ unchanged on error.
  RUNLOG_RETURN_IF_ERROR(SetPath(params_, path, value));
  record::AppendSetParam(&pending_records_, path, value);
  return AfterPoints(0, 0);
}

absl::Status Run::SetParams(const Value& params) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  if (params.kind() != Value::Kind::kMap) {
    return absl::InvalidArgumentError("SetParams takes a map of params");
  }
  // MergeInto leaves params_ unchanged when the result would break a limit.
  RUNLOG_RETURN_IF_ERROR(MergeInto(params_, params));
  record::AppendMergeParams(&pending_records_, params);
  return AfterPoints(0, 0);
}

absl::Status Run::AddTag(absl::string_view tag) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_RETURN_IF_ERROR(CheckMeta("tag", tag));
  if (tag.empty()) return absl::InvalidArgumentError("tag is empty");
  if (tags_.size() >= record::kMaxTags) {
    return absl::InvalidArgumentError(
        absl::StrCat("run ", id_, " already has ", tags_.size(), " tags"));
  }
  if (!tags_.emplace(tag).second) return absl::OkStatus();
  record::AppendStringRecord(&pending_records_, RecordType::kAddTag, tag);
  return AfterPoints(0, 0);
}

absl::Status Run::RemoveTag(absl::string_view tag) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  if (tags_.erase(std::string(tag)) == 0) return absl::OkStatus();
  record::AppendStringRecord(&pending_records_, RecordType::kRemoveTag, tag);
  return AfterPoints(0, 0);
}

absl::Status Run::SetName(absl::string_view name) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_RETURN_IF_ERROR(CheckMeta("name", name));
  name_ = std::string(name);
  record::AppendStringRecord(&pending_records_, RecordType::kSetName, name);
  return AfterPoints(0, 0);
}

absl::Status Run::SetDescription(absl::string_view description) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_RETURN_IF_ERROR(CheckMeta("description", description));
  description_ = std::string(description);
  record::AppendStringRecord(&pending_records_, RecordType::kSetDescription,
                             description);
  return AfterPoints(0, 0);
}

// ---- Run: series ------------------------------------------------------------

absl::StatusOr<SeriesState*> Run::Resolve(absl::string_view name,
                                          const Context& context,
                                          SeriesKind kind) {
  auto it = by_key_.find(internal::SeriesKeyRef{name, &context});
  if (ABSL_PREDICT_TRUE(it != by_key_.end())) {
    if (ABSL_PREDICT_FALSE(it->second->kind != kind)) {
      return absl::InvalidArgumentError(
          absl::StrCat("series ", it->second->key.ToString(), " holds ",
                       SeriesKindName(it->second->kind), " values, not ",
                       SeriesKindName(kind)));
    }
    return it->second;
  }
  SeriesKey key{std::string(name), context};
  RUNLOG_RETURN_IF_ERROR(ValidateSeriesKey(key));
  if (series_.size() >= record::kMaxSeriesPerRun) {
    return absl::InvalidArgumentError(
        absl::StrCat("run ", id_, " already has ", series_.size(), " series"));
  }
  auto state = std::make_unique<SeriesState>();
  state->id = static_cast<uint32_t>(series_.size());
  state->key = std::move(key);
  state->kind = kind;
  state->summary.key = state->key;
  state->summary.kind = kind;
  record::AppendDefineSeries(&pending_records_, state->id, kind, state->key);
  SeriesState* raw = state.get();
  series_.push_back(std::move(state));
  by_key_.emplace(internal::SeriesKeyRef{raw->key.name, &raw->key.context},
                  raw);
  return raw;
}

absl::StatusOr<ScalarSeries> Run::Series(absl::string_view name,
                                         const Context& context) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_ASSIGN_OR_RETURN(SeriesState * s,
                          Resolve(name, context, SeriesKind::kScalar));
  return ScalarSeries(this, s, &s->lane);
}

inline void Run::BufferScalar(SeriesState* s, int64_t step, double value,
                              double epoch) {
  CloseLane(s);
  if (s->steps.empty()) MarkDirty(s);
  s->steps.push_back(step);
  s->values.push_back(value);
  s->AddEpoch(epoch);
  s->AddTime(now_us_);
  ++pending_points_;
}

absl::Status Run::TrackScalar(SeriesState* s, const int64_t* step, double value,
                              double epoch) {
  if (ABSL_PREDICT_FALSE(state_ != State::kOpen || !status_.ok())) {
    return CheckOpen();
  }
  CloseLane(s);
  const int64_t st = step != nullptr ? *step : s->NextStep();
  // Time moved since the last look: stamp this point with a fresh clock,
  // and flush or show life if due (before the point joins the buffers, as
  // a flush empties them). Lanes that filled the buffer flush it here too.
  // The default clock's tick is read inline: a virtual call per point
  // would cost as much as the read itself.
  if (const int64_t tick = ABSL_PREDICT_TRUE(real_clock_)
                               ? storage::RealCoarseTickNs()
                               : clock_->CoarseTickMs();
      ABSL_PREDICT_FALSE(tick != tick_ || pending_points_ >= buffer_points_)) {
    tick_ = tick;
    RUNLOG_RETURN_IF_ERROR(AfterPoints(0, 0));
  }
  BufferScalar(s, st, value, epoch);
  if (ABSL_PREDICT_FALSE(--clock_countdown_ == 0 ||
                         pending_points_ >= buffer_points_)) {
    RUNLOG_RETURN_IF_ERROR(AfterPoints(0, 0));
  }
  OpenLane(s);
  return absl::OkStatus();
}

absl::Status Run::Track(absl::string_view name, double value,
                        std::optional<int64_t> step, const Context& context,
                        std::optional<double> epoch) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_ASSIGN_OR_RETURN(SeriesState * s,
                          Resolve(name, context, SeriesKind::kScalar));
  if (!epoch.has_value() &&
      (step ? s->lane.TryAppend(*step, value) : s->lane.TryAppendNext(value))) {
    return absl::OkStatus();
  }
  return TrackScalar(s, step ? &*step : nullptr, value,
                     epoch ? *epoch : kNoEpoch);
}

absl::Status Run::TrackBatch(absl::string_view name, const Context& context,
                             absl::Span<const int64_t> steps,
                             absl::Span<const double> values) {
  RUNLOG_ASSIGN_OR_RETURN(ScalarSeries series, Series(name, context));
  return series.TrackBatch(steps, values);
}

absl::Status Run::TrackText(absl::string_view name, absl::string_view text,
                            std::optional<int64_t> step, const Context& context,
                            std::optional<double> epoch) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  if (text.size() > record::kMaxTextLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("text for series ", name, " is ", text.size(),
                     " bytes, over the limit of ", record::kMaxTextLength));
  }
  RUNLOG_ASSIGN_OR_RETURN(SeriesState * s,
                          Resolve(name, context, SeriesKind::kText));
  now_us_ = absl::ToUnixMicros(clock_->Now());
  if (s->steps.empty()) MarkDirty(s);
  const int64_t st = step ? *step : s->NextStep();
  s->steps.push_back(st);
  s->texts.emplace_back(text);
  s->AddEpoch(epoch ? *epoch : kNoEpoch);
  s->AddTime(now_us_);
  s->summary.AddStep(st);
  ++pending_points_;
  return AfterPoints(0, text.size());
}

absl::Status Run::TrackHistogram(absl::string_view name, Histogram histogram,
                                 std::optional<int64_t> step,
                                 const Context& context,
                                 std::optional<double> epoch) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_RETURN_IF_ERROR(ValidateHistogram(histogram));
  RUNLOG_ASSIGN_OR_RETURN(SeriesState * s,
                          Resolve(name, context, SeriesKind::kHistogram));
  now_us_ = absl::ToUnixMicros(clock_->Now());
  if (s->steps.empty()) MarkDirty(s);
  const int64_t st = step ? *step : s->NextStep();
  const size_t bytes = histogram.edges.size() * 16;
  s->steps.push_back(st);
  s->histograms.push_back(std::move(histogram));
  s->AddEpoch(epoch ? *epoch : kNoEpoch);
  s->AddTime(now_us_);
  s->summary.AddStep(st);
  ++pending_points_;
  return AfterPoints(0, bytes);
}

absl::Status Run::TrackBlob(absl::string_view name, const Blob& blob,
                            std::optional<int64_t> step, const Context& context,
                            std::optional<double> epoch) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  if (blob.data.size() > record::kMaxBlobSize ||
      blob.content_type.size() > record::kMaxContentTypeLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "blob for series ", name, ": ", blob.data.size(), " bytes (limit ",
        record::kMaxBlobSize, "), content type of ", blob.content_type.size(),
        " bytes (limit ", record::kMaxContentTypeLength, ")"));
  }
  RUNLOG_ASSIGN_OR_RETURN(SeriesState * s,
                          Resolve(name, context, SeriesKind::kBlob));
  now_us_ = absl::ToUnixMicros(clock_->Now());
  const int64_t st = step ? *step : s->NextStep();
  // The series definition must precede the blob in the log.
  RUNLOG_RETURN_IF_ERROR(EncodePending());
  RUNLOG_RETURN_IF_ERROR(EmitChunk());
  absl::Status appended = writer_->AppendChunk(
      storage::format::kChunkBlob,
      record::EncodeBlobPoint(s->id, st, now_us_, epoch ? *epoch : kNoEpoch,
                              blob));
  if (!appended.ok()) return Poison(std::move(appended));
  s->summary.AddStep(st);
  return AfterPoints(0, 0);
}

// ---- Run: buffering ---------------------------------------------------------

absl::Status Run::AfterPoints(size_t points, size_t bytes) {
  CloseLanes();  // pending_points_ exact: without the lanes' unused room
  pending_points_ += points;
  pending_bytes_ += bytes;
  if (clock_countdown_ == 0 || points == 0) {
    now_us_ = absl::ToUnixMicros(clock_->Now());
    clock_countdown_ = kClockEvery;
  }
  if (ABSL_PREDICT_FALSE(now_us_ >= next_sample_us_)) SampleSystem();
  const bool full = pending_points_ >= buffer_points_ ||
                    pending_bytes_ + pending_records_.size() >= buffer_bytes_;
  const bool old =
      (pending_points_ > 0 || !pending_records_.empty()) &&
      absl::Microseconds(now_us_ - last_flush_us_) >= max_buffer_age_;
  if (full || old) return Flush();
  if (absl::Microseconds(now_us_ - last_life_us_) >= heartbeat_interval_) {
    // Nothing written for a while (points arrive rarely, or none at all):
    // show other hosts this writer is alive.
    last_life_us_ = now_us_;
    // Only a deleted run stops the writer; a failed touch (a network file
    // system hiccup) is retried at the next interval.
    if (absl::Status s = writer_->Heartbeat(); absl::IsNotFound(s)) {
      return Poison(std::move(s));
    }
  }
  return absl::OkStatus();
}

void Run::SampleSystem() {
  next_sample_us_ = now_us_ + sample_interval_us_;
  for (const system_metrics::SystemSample& m : sampler_->Sample(now_us_)) {
    const Context context{{"device", m.device}};
    // A series the run cannot take (over the series limit, or the name
    // already used by the user for another kind) is skipped: sampling never
    // fails the call it rides on.
    absl::StatusOr<SeriesState*> s =
        Resolve(m.name, context, SeriesKind::kScalar);
    if (s.ok()) BufferScalar(*s, (*s)->NextStep(), m.value, kNoEpoch);
  }
}

void Run::MarkDirty(SeriesState* s) {
  dirty_.push_back(s);
  if (s->kind == SeriesKind::kScalar && s->values.capacity() == 0) {
    // Columns keep their capacity across flushes, so this runs once per
    // series. Growing by doubling instead would copy and first-touch twice
    // the memory (costly where page faults are). The share shrinks as series
    // are added, so the total reserved stays within a few buffers' worth.
    const size_t share =
        std::clamp<size_t>(buffer_points_ / series_.size(), 16, 1u << 16);
    s->steps.reserve(share);
    s->values.reserve(share);
  }
}

// ---- Run: fast lanes --------------------------------------------------------

// A lane takes half the room left in the buffer (and at most what the
// series' columns hold without regrowing), so series tracked in turn each
// keep a lane of their own instead of closing each other's; the halving
// means a few dozen slow calls per buffer. The room is counted in
// pending_points_ while granted, so the buffer limit holds whatever the
// lanes take.
void Run::OpenLane(SeriesState* s) {
  constexpr size_t kMinRoom = 8;
  if (!real_clock_ || s->lane_open || s->kind != SeriesKind::kScalar ||
      s->steps.empty() || !s->epochs.empty() || state_ != State::kOpen ||
      !status_.ok()) {
    return;
  }
  const size_t budget = buffer_points_ > pending_points_
                            ? (buffer_points_ - pending_points_) / 2
                            : 0;
  const size_t base = s->steps.size();
  const size_t room = std::min({budget, s->steps.capacity() - base,
                                s->values.capacity() - s->values.size()});
  if (room < kMinRoom) return;
  s->steps.resize(base + room);
  s->values.resize(base + room);
  s->lane = internal::ScalarLane{s->steps.data() + base,
                                 s->steps.data() + base + room,
                                 s->values.data() + base, &tick_};
  s->lane_open = true;
  s->lane_base = base;
  s->lane_time = now_us_;
  pending_points_ += room;
  open_lanes_.push_back(s);
}

void Run::CloseLane(SeriesState* s) {
  if (ABSL_PREDICT_TRUE(!s->lane_open)) return;
  const size_t n =
      static_cast<size_t>(s->lane.steps - (s->steps.data() + s->lane_base));
  pending_points_ -= s->lane.room();
  s->steps.resize(s->lane_base + n);
  s->values.resize(s->lane_base + n);
  if (n > 0) s->AddTime(s->lane_time, n);
  s->lane = internal::ScalarLane{};
  s->lane_open = false;
  for (size_t i = 0; i < open_lanes_.size(); ++i) {
    if (open_lanes_[i] == s) {
      open_lanes_[i] = open_lanes_.back();
      open_lanes_.pop_back();
      break;
    }
  }
}

void Run::CloseLanes() {
  while (!open_lanes_.empty()) CloseLane(open_lanes_.back());
}

absl::Status Run::EncodePending() {
  CloseLanes();
  if (!pending_records_.empty()) {
    chunk_.append(pending_records_);
    pending_records_.clear();
  }
  // About what scalar points take; reserving spares regrowing (and copying)
  // the buffers on a run's first flushes.
  constexpr size_t kReserveBytesPerPoint = 8;
  chunk_.reserve(chunk_.size() + pending_bytes_ +
                 pending_points_ * kReserveBytesPerPoint);
  std::vector<record::ValueRun> sliced_times;
  for (SeriesState* s : dirty_) {
    const size_t n = s->steps.size();
    scratch_.reserve(n * kReserveBytesPerPoint + 64);
    // No epochs at all is an empty column (record_codec.h).
    const absl::Span<const double> all_epochs = s->epochs;
    for (size_t begin = 0; begin < n; begin += record::kMaxPointsPerRecord) {
      const size_t len =
          std::min<size_t>(record::kMaxPointsPerRecord, n - begin);
      auto steps = absl::MakeConstSpan(s->steps).subspan(begin, len);
      auto epochs =
          all_epochs.empty() ? all_epochs : all_epochs.subspan(begin, len);
      auto times = SliceRuns(s->times, begin, len, n, &sliced_times);
      switch (s->kind) {
        case SeriesKind::kScalar:
          record::AppendScalarPoints(
              &chunk_, &scratch_, s->id, steps,
              absl::MakeConstSpan(s->values).subspan(begin, len), epochs,
              times);
          break;
        case SeriesKind::kText:
          record::AppendTextPoints(
              &chunk_, &scratch_, s->id, steps,
              absl::MakeConstSpan(s->texts).subspan(begin, len), epochs, times);
          break;
        case SeriesKind::kHistogram:
          record::AppendHistogramPoints(
              &chunk_, &scratch_, s->id, steps,
              absl::MakeConstSpan(s->histograms).subspan(begin, len), epochs,
              times);
          break;
        case SeriesKind::kBlob:
          break;  // blobs are written at once, never buffered
      }
      if (chunk_.size() >= kTargetChunkBytes)
        RUNLOG_RETURN_IF_ERROR(EmitChunk());
    }
    s->ClearPoints();
  }
  dirty_.clear();
  pending_points_ = 0;
  pending_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status Run::EmitChunk() {
  if (chunk_.empty()) return absl::OkStatus();
  absl::Status s = writer_->AppendChunk(storage::format::kChunkRecords, chunk_);
  chunk_.clear();
  if (!s.ok()) return Poison(std::move(s));
  return absl::OkStatus();
}

absl::Status Run::Flush() {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  RUNLOG_RETURN_IF_ERROR(EncodePending());
  RUNLOG_RETURN_IF_ERROR(EmitChunk());
  absl::Status s = writer_->Flush();
  if (!s.ok()) return Poison(std::move(s));
  now_us_ = absl::ToUnixMicros(clock_->Now());
  last_flush_us_ = now_us_;
  if (writer_->bytes_written() != bytes_at_last_life_) {
    // Bytes reached the file system: the segment's mtime is fresh.
    bytes_at_last_life_ = writer_->bytes_written();
    last_life_us_ = now_us_;
  }
  return absl::OkStatus();
}

// ---- Run: the end -----------------------------------------------------------

absl::Status Run::Finish(storage::format::RunStatus status,
                         absl::string_view reason) {
  RUNLOG_RETURN_IF_ERROR(CheckOpen());
  if (sampler_ != nullptr) {
    // A last sample, so that a run shorter than the interval has one too.
    now_us_ = absl::ToUnixMicros(clock_->Now());
    SampleSystem();
  }
  RUNLOG_RETURN_IF_ERROR(EncodePending());
  RUNLOG_RETURN_IF_ERROR(EmitChunk());
  RunSummary summary;
  summary.experiment = experiment_;
  summary.name = name_;
  summary.description = description_;
  summary.created = created_;
  summary.tags = tags_;
  summary.params = params_;
  summary.series.reserve(series_.size());
  for (const auto& s : series_) {
    s->SettleSummary();
    summary.series.push_back(s->summary);
  }
  // COMMIT keeps the end time in µs; the listing from memory below must say
  // what a read of COMMIT would.
  const absl::Time end =
      absl::FromUnixMicros(absl::ToUnixMicros(clock_->Now()));
  std::string encoded = EncodeRunSummary(summary);
  absl::Status s = writer_->Commit(status, end, reason, encoded);
  if (!s.ok()) return Poison(std::move(s));
  state_ = State::kCommitted;
  storage::CommitManifest committed;
  committed.run_id = id_;
  committed.status = status;
  committed.end_time = end;
  committed.reason = std::string(reason);
  committed.summary = std::move(encoded);
  store_->NoteCommitted(std::move(committed));
  return absl::OkStatus();
}

absl::Status Run::Commit() {
  return Finish(storage::format::RunStatus::kFinished, "");
}

absl::Status Run::Fail(absl::string_view reason) {
  return Finish(storage::format::RunStatus::kFailed,
                reason.substr(0, storage::format::kMaxFailureReason));
}

absl::Status Run::Close() {
  // Idempotent, and harmless after Commit(), Fail() or deletion.
  if (state_ != State::kOpen) return absl::OkStatus();
  CloseLanes();
  absl::Status s = status_.ok() ? EncodePending() : status_;
  if (s.ok()) s = EmitChunk();
  absl::Status closed = writer_->Close();
  state_ = State::kClosed;
  if (!s.ok()) return s;
  if (!closed.ok()) return Poison(std::move(closed));
  return absl::OkStatus();
}

}  // namespace runlog
