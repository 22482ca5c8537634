#include "tracking/repo.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <type_traits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/commit_manifest.h"
#include "storage/format.h"
#include "storage/run_id.h"
#include "storage/segment_reader.h"
#include "storage/status_macros.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/compaction/compacted_run.h"
#include "tracking/downsample.h"
#include "tracking/open_run_registry.h"
#include "tracking/query/query.h"
#include "tracking/run_table.h"

namespace runlog {
namespace {

using storage::RunState;

RunStatus StatusOf(const storage::RunEntry& entry) {
  switch (entry.state) {
    case RunState::kCommitted:
      if (!entry.manifest) return RunStatus::kFinished;
      switch (entry.manifest->status) {
        case storage::format::RunStatus::kFinished:
          return RunStatus::kFinished;
        case storage::format::RunStatus::kFailed:
          return RunStatus::kFailed;
        case storage::format::RunStatus::kCrashed:
          return RunStatus::kCrashed;
      }
      return RunStatus::kFinished;
    case RunState::kLive:
    case RunState::kUnknown:
      return RunStatus::kRunning;
    case RunState::kAbandoned:
      return RunStatus::kAbandoned;
  }
  return RunStatus::kRunning;
}

absl::Status ValidateRunOptions(const RunOptions& o) {
  for (absl::string_view s :
       {absl::string_view(o.experiment), absl::string_view(o.name),
        absl::string_view(o.description)}) {
    if (s.size() > record::kMaxMetaStringLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "run option of ", s.size(), " bytes is over the limit of ",
          record::kMaxMetaStringLength));
    }
  }
  if (o.tags.size() > record::kMaxTags) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.tags.size(), " tags, over the limit of ", record::kMaxTags));
  }
  for (const std::string& t : o.tags) {
    if (t.empty() || t.size() > record::kMaxMetaStringLength) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tag must be 1..", record::kMaxMetaStringLength, " bytes"));
    }
  }
  if (!o.params.is_null()) {
    if (o.params.kind() != Value::Kind::kMap) {
      return absl::InvalidArgumentError("params must be a map");
    }
    RUNLOG_RETURN_IF_ERROR(ValidateValue(o.params));
  }
  return absl::OkStatus();
}

}  // namespace

absl::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kFinished:
      return "finished";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kCrashed:
      return "crashed";
    case RunStatus::kAbandoned:
      return "abandoned";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<Repo>> Repo::Open(std::string path,
                                                 RepoOptions options) {
  storage::RunStoreOptions so;
  so.create_if_missing = options.create_if_missing;
  so.staleness = options.staleness;
  so.fs = options.fs;
  so.clock = options.clock;
  so.probe = options.probe;
  so.file_system_clock = options.file_system_clock;
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<storage::RunStore> store,
                          storage::RunStore::Open(std::move(path), so));
  return std::unique_ptr<Repo>(
      new Repo(std::shared_ptr<storage::RunStore>(std::move(store))));
}

absl::StatusOr<std::unique_ptr<Run>> Repo::CreateRun(
    const RunOptions& options) {
  RUNLOG_RETURN_IF_ERROR(ValidateRunOptions(options));
  storage::RunWriterOptions wo;
  wo.sync_policy = options.sync_policy;
  wo.segment_roll_size = options.segment_roll_size;
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<storage::RunWriter> writer,
                          store_->CreateRun(wo));
  std::unique_ptr<Run> run(new Run(store_, std::move(writer), options));
  absl::Status s = run->Init(options);
  if (!s.ok()) {
    // Options were validated above, so this is a storage error: the run is
    // unusable; remove what was created rather than leave an empty run.
    const std::string id = run->id();
    run->CloseForDeletion();
    run.reset();
    store_->DeleteRun(id).IgnoreError();
    return s;
  }
  return run;
}

absl::Status Repo::DeleteRun(absl::string_view id, DeleteOptions options) {
  RUNLOG_RETURN_IF_ERROR(storage::ValidateRunId(id));
  const std::string dir = store_->RunDir(id);
  // A writer open in this process is closed first, so nothing it still
  // buffers can be written into the deleted run.
  const bool ours = internal::OpenRunRegistry::CloseForDeletion(dir);
  if (ours || options.force) return store_->DeleteRun(id);
  // Ages are judged on the file system's clock, as recovery judges them.
  RUNLOG_ASSIGN_OR_RETURN(const absl::Time now, store_->FileSystemNow());
  RUNLOG_ASSIGN_OR_RETURN(storage::RunEntry entry, store_->GetRun(id, now));
  auto refuse = [&](absl::string_view why) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", id, " ", why, " (", entry.detail,
        "); delete it with force (segtool rm --force) to remove it anyway"));
  };
  switch (entry.state) {
    case RunState::kCommitted:
      return store_->DeleteRun(id);
    case RunState::kLive: {
      absl::StatusOr<std::string> owner = storage::ReadFileToString(
          *store_->fs(),
          storage::JoinPath(dir, storage::format::kOwnerFileName),
          storage::format::kMaxOwnerFileSize);
      absl::StatusOr<storage::OwnerRecord> rec =
          owner.ok() ? storage::DecodeOwner(*owner, dir)
                     : absl::StatusOr<storage::OwnerRecord>(owner.status());
      if (rec.ok() && rec->pid == store_->probe()->SelfPid()) {
        return store_->DeleteRun(id);
      }
      return refuse("is being written by a live process");
    }
    case RunState::kUnknown:
      return refuse("may still be written by another process or host");
    case RunState::kAbandoned:
      break;
  }
  RUNLOG_ASSIGN_OR_RETURN(storage::RemovalOutcome outcome,
                          store_->RemoveIfAbandoned(id, now));
  if (outcome.removed) return absl::OkStatus();
  // Put back: it committed (deletable like any committed run) or showed
  // life since it was judged.
  absl::StatusOr<storage::RunEntry> again = store_->GetRun(id);
  if (again.ok() && again->state == RunState::kCommitted) {
    return store_->DeleteRun(id);
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "run ", id, " was kept: ", outcome.reason,
      "; delete it with force (segtool rm --force) to remove it anyway"));
}

absl::StatusOr<RunRecord> Repo::Describe(const storage::RunEntry& entry,
                                         bool measured) {
  RunRecord r;
  r.id = entry.id;
  r.state = entry.state;
  r.status = StatusOf(entry);
  r.detail = entry.detail;
  if (measured) r.bytes_on_disk = entry.bytes_on_disk;
  if (entry.state == RunState::kCommitted) {
    if (!entry.manifest) {
      r.error = entry.manifest_error;
      return r;
    }
    r.ended = entry.manifest->end_time;
    r.failure_reason = entry.manifest->reason;
    // Named by its file name only, so listing builds no path per run; an
    // error gets the run's directory in front.
    absl::StatusOr<RunSummary> summary = DecodeRunSummary(
        entry.manifest->summary, storage::format::kCommitFileName);
    if (summary.ok()) {
      r.summary = *std::move(summary);
    } else {
      r.error = absl::Status(summary.status().code(),
                             absl::StrCat(store_->RunDir(entry.id), "/",
                                          summary.status().message()));
    }
    return r;
  }
  if (!entry.manifest_error.ok()) {
    // Its directory could not be read at all (storage::RunStore::ListRuns).
    r.error = entry.manifest_error;
    return r;
  }
  // Uncommitted: rebuild from the records. A torn tail is the end of data.
  RunLogDecoder decoder(std::nullopt, /*want_summaries=*/true);
  absl::Status s =
      DecodeRunLog(store_->fs(), store_->RunDir(entry.id), entry.id, &decoder);
  if (!s.ok()) {
    // Committed since it was listed, and maybe compacted (its log segments
    // gone): describe it from its COMMIT instead.
    absl::StatusOr<storage::RunEntry> now = store_->GetRun(entry.id);
    if (now.ok() && now->state == RunState::kCommitted) {
      return Describe(*now, measured);
    }
  }
  if (absl::IsNotFound(s)) return s;  // deleted meanwhile
  r.error = s;
  r.summary = std::move(decoder.summary());
  return r;
}

absl::StatusOr<std::vector<RunRecord>> Repo::ListRuns(const RunFilter& filter) {
  // Compiled before listing, so a malformed query costs no I/O.
  RUNLOG_ASSIGN_OR_RETURN(
      query::RunQuery q,
      query::RunQuery::Compile(filter.where, filter.order_by));
  const absl::Time now = store_->clock()->Now();
  RUNLOG_ASSIGN_OR_RETURN(
      std::vector<storage::RunEntry> entries,
      store_->ListRuns(filter.disk_usage
                           ? storage::RunStore::ListDetail::kFull
                           : storage::RunStore::ListDetail::kSummary));
  std::vector<RunRecord> out;
  out.reserve(entries.size());
  RunSummaryView view;  // reused: its vectors keep their capacity
  for (const storage::RunEntry& entry : entries) {
    if (filter.status && StatusOf(entry) != *filter.status) continue;
    if (filter.state && entry.state != *filter.state) continue;
    // A committed run the query rejects on its encoded summary is never
    // decoded (most of listing's time is building params trees); runs it
    // selects, or cannot judge in place, are described and judged whole.
    if (q.filters() && entry.state == RunState::kCommitted && entry.manifest &&
        ParseRunSummaryView(entry.manifest->summary,
                            storage::format::kCommitFileName, &view,
                            /*with_series=*/false)
            .ok()) {
      query::EncodedRun encoded;
      encoded.id = &entry.id;
      encoded.state = entry.state;
      encoded.status = StatusOf(entry);
      encoded.ended = entry.manifest->end_time;
      encoded.summary = &view;
      const std::optional<bool> match = q.Matches(encoded, now);
      if (match.has_value() && !*match) continue;
    }
    RUNLOG_ASSIGN_OR_RETURN(std::optional<RunRecord> r,
                            DescribeIfSelected(entry, filter, q, now));
    if (r.has_value()) out.push_back(*std::move(r));
  }
  q.SortAndPage(&out, filter.offset, filter.limit, now);
  return out;
}

absl::StatusOr<std::optional<RunRecord>> Repo::DescribeIfSelected(
    const storage::RunEntry& entry, const RunFilter& filter,
    const query::RunQuery& q, absl::Time now) {
  absl::StatusOr<RunRecord> r = Describe(entry, filter.disk_usage);
  if (absl::IsNotFound(r.status())) return std::nullopt;
  RUNLOG_RETURN_IF_ERROR(r.status());
  if (filter.experiment && r->summary.experiment != *filter.experiment) {
    return std::nullopt;
  }
  if (filter.tag && r->summary.tags.count(*filter.tag) == 0) {
    return std::nullopt;
  }
  if (!q.Matches(*r, now)) return std::nullopt;
  return *std::move(r);
}

absl::StatusOr<RunTable> Repo::ListRunTable(const RunFilter& filter) {
  RUNLOG_ASSIGN_OR_RETURN(
      query::RunQuery q,
      query::RunQuery::Compile(filter.where, filter.order_by));
  RunTable table;
  if (q.sorts()) {
    // Sort keys are looked up on decoded records (query::RunQuery).
    RUNLOG_ASSIGN_OR_RETURN(std::vector<RunRecord> records, ListRuns(filter));
    for (RunRecord& r : records) table.AddDescribed(std::move(r));
    return table;
  }
  const absl::Time now = store_->clock()->Now();
  RUNLOG_ASSIGN_OR_RETURN(
      table.entries_,
      store_->ListRuns(filter.disk_usage
                           ? storage::RunStore::ListDetail::kFull
                           : storage::RunStore::ListDetail::kSummary));
  table.rows_.reserve(table.entries_.size());
  size_t skipped = 0;  // filter.offset
  const auto full = [&] {
    return filter.limit && table.rows_.size() >= *filter.limit;
  };
  // Decides on `row` (its summary parsed): whether it is selected.
  const auto selects_row = [&](const storage::RunEntry& entry,
                               RunTable::Row& row) {
    if (filter.experiment && row.summary.experiment != *filter.experiment) {
      return false;
    }
    if (filter.tag &&
        !std::binary_search(row.summary.tags.begin(), row.summary.tags.end(),
                            absl::string_view(*filter.tag))) {
      return false;
    }
    if (!q.filters()) return true;
    query::EncodedRun encoded;
    encoded.id = &entry.id;
    encoded.state = entry.state;
    encoded.status = row.status;
    encoded.ended = row.ended;
    encoded.summary = &row.summary;
    if (const std::optional<bool> match = q.Matches(encoded, now)) {
      return *match;
    }
    absl::StatusOr<RunRecord> r = RunTable::Record(row);
    return r.ok() && q.Matches(*r, now);
  };
  for (const storage::RunEntry& entry : table.entries_) {
    if (full()) break;
    if (filter.status && StatusOf(entry) != *filter.status) continue;
    if (filter.state && entry.state != *filter.state) continue;
    if (entry.state == RunState::kCommitted && entry.manifest) {
      RunTable::Row& row = table.rows_.emplace_back();
      if (ParseRunSummaryView(entry.manifest->summary,
                              storage::format::kCommitFileName, &row.summary)
              .ok()) {
        row.id = entry.id;
        row.state = entry.state;
        row.status = StatusOf(entry);
        row.ended = entry.manifest->end_time;
        row.failure_reason = entry.manifest->reason;
        row.detail = entry.detail;
        if (filter.disk_usage) row.bytes_on_disk = entry.bytes_on_disk;
        row.summary_bytes = entry.manifest->summary;
        if (!selects_row(entry, row) || skipped++ < filter.offset) {
          table.rows_.pop_back();
        }
        continue;
      }
      table.rows_.pop_back();  // damaged: described below, with its error
    }
    RUNLOG_ASSIGN_OR_RETURN(std::optional<RunRecord> r,
                            DescribeIfSelected(entry, filter, q, now));
    if (!r.has_value() || skipped++ < filter.offset) continue;
    table.AddDescribed(*std::move(r));
  }
  return table;
}

absl::StatusOr<RunRecord> Repo::GetRun(absl::string_view id) {
  RUNLOG_ASSIGN_OR_RETURN(storage::RunEntry entry, store_->GetRun(id));
  absl::StatusOr<RunRecord> r = Describe(entry, /*measured=*/true);
  if (absl::IsNotFound(r.status())) {
    return absl::NotFoundError(
        absl::StrCat("run ", id, " not found in ", path()));
  }
  return r;
}

absl::StatusOr<std::string> Repo::ResolveRunId(absl::string_view prefix) {
  RUNLOG_RETURN_IF_ERROR(storage::ValidateRunId(prefix));
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          store_->fs()->ListDir(storage::JoinPath(
                              path(), storage::format::kRunsDirName)));
  std::vector<std::string> matches;
  for (std::string& name : names) {
    if (!storage::IsValidRunId(name)) continue;  // .creating.<id> and such
    if (name == prefix) return std::move(name);
    if (absl::StartsWith(name, prefix)) matches.push_back(std::move(name));
  }
  if (matches.size() == 1) return std::move(matches[0]);
  if (matches.empty()) {
    return absl::NotFoundError(absl::StrCat("run ", prefix, " not found in ",
                                            path(),
                                            " (no run id begins with it)"));
  }
  std::sort(matches.begin(), matches.end());
  const size_t shown = std::min<size_t>(matches.size(), 5);
  return absl::InvalidArgumentError(absl::StrCat(
      "run id prefix '", prefix, "' is ambiguous: ", matches.size(),
      " runs begin with it (",
      absl::StrJoin(matches.begin(), matches.begin() + shown, ", "),
      matches.size() > shown ? ", ..." : "", ")"));
}

absl::StatusOr<std::unique_ptr<RunView>> Repo::OpenRun(absl::string_view id) {
  RUNLOG_ASSIGN_OR_RETURN(RunRecord record, GetRun(id));
  if (!record.error.ok() && record.state == RunState::kCommitted) {
    return record.error;
  }
  return std::unique_ptr<RunView>(new RunView(store_, std::move(record)));
}

absl::StatusOr<storage::RecoveryReport> Repo::Recover(bool dry_run) {
  return storage::Recover(*store_, dry_run);
}

absl::StatusOr<storage::RecoveryReport> Repo::Recover(
    const RecoverOptions& options) {
  storage::RecoveryOptions o;
  o.dry_run = options.dry_run;
  if (options.salvage) {
    o.salvage = [this](const storage::RunEntry& run) {
      return SalvageRun(*store_, run.id,
                        absl::StrCat("salvaged by recovery: ", run.detail));
    };
  }
  return storage::Recover(*store_, o);
}

absl::StatusOr<CompactionReport> Repo::CompactRun(absl::string_view id) {
  return runlog::CompactRun(*store_, id);
}

namespace {

// The byte offset a DataLoss message names ("... offset 123 ..."), or 0.
uint64_t OffsetIn(absl::string_view message) {
  const size_t at = message.rfind("offset ");
  if (at == absl::string_view::npos) return 0;
  uint64_t v = 0;
  for (size_t i = at + 7;
       i < message.size() &&
       absl::ascii_isdigit(static_cast<unsigned char>(message[i]));
       ++i) {
    v = v * 10 + static_cast<uint64_t>(message[i] - '0');
  }
  return v;
}

}  // namespace

absl::StatusOr<VerifyReport> Repo::VerifyRun(absl::string_view id) {
  RUNLOG_ASSIGN_OR_RETURN(storage::RunEntry entry, store_->GetRun(id));
  storage::FileSystem& fs = *store_->fs();
  const std::string dir = store_->RunDir(id);
  VerifyReport report;
  report.run_id = std::string(id);
  report.state = entry.state;
  auto problem = [&](const std::string& file, absl::Status s) {
    report.problems.push_back(
        VerifyProblem{file, OffsetIn(s.message()), std::move(s)});
  };
  const std::string commit_path =
      storage::JoinPath(dir, storage::format::kCommitFileName);
  if (entry.state == storage::RunState::kCommitted && !entry.manifest) {
    problem(commit_path, entry.manifest_error);
    return report;
  }
  std::optional<RunSummary> committed_summary;
  if (entry.manifest) {
    absl::StatusOr<RunSummary> summary =
        DecodeRunSummary(entry.manifest->summary, commit_path);
    if (summary.ok()) {
      committed_summary = *std::move(summary);
    } else {
      problem(commit_path, summary.status());
    }
  }
  std::map<SeriesKey, int64_t> counts;
  if (entry.manifest) {
    for (const storage::SegmentInfo& info : entry.manifest->segments) {
      const std::string path =
          storage::JoinPath(dir, storage::FileNameOf(info));
      report.bytes_checked += info.length;
      if (info.kind == storage::format::SegmentKind::kColumn) {
        absl::StatusOr<std::unique_ptr<CompactedRunReader>> reader =
            CompactedRunReader::Open(&fs, dir, report.run_id, info);
        if (!reader.ok()) {
          problem(path, reader.status());
          continue;
        }
        std::vector<absl::Status> found;
        report.points += (*reader)->Verify(info, &found);
        for (absl::Status& s : found) problem(path, std::move(s));
        for (const CompactedSeries& s : (*reader)->footer().series) {
          counts[s.key] += s.count();
        }
        continue;
      }
    }
  }
  // Log segments: committed ones exactly as the manifest says, live ones up
  // to their torn tail. The decoder checks every record.
  const bool has_log =
      !entry.manifest ||
      std::any_of(entry.manifest->segments.begin(),
                  entry.manifest->segments.end(),
                  [](const storage::SegmentInfo& s) {
                    return s.kind == storage::format::SegmentKind::kLog;
                  });
  if (has_log) {
    RunLogDecoder decoder(std::nullopt, /*want_summaries=*/true);
    if (entry.manifest) {
      // Segment by segment, so each problem names its file; a damaged
      // segment does not hide the state of the next one.
      for (const storage::SegmentInfo& info : entry.manifest->segments) {
        if (info.kind != storage::format::SegmentKind::kLog) continue;
        const std::string path =
            storage::JoinPath(dir, storage::FileNameOf(info));
        absl::Status s = [&]() -> absl::Status {
          RUNLOG_ASSIGN_OR_RETURN(
              std::unique_ptr<storage::SegmentReader> reader,
              storage::SegmentReader::Open(&fs, path, report.run_id,
                                           storage::TailPolicy::kExactManifest,
                                           info));
          storage::Chunk chunk;
          while (true) {
            RUNLOG_ASSIGN_OR_RETURN(bool more, reader->Next(&chunk));
            if (!more) return absl::OkStatus();
            RUNLOG_RETURN_IF_ERROR(decoder.Apply(chunk, path));
          }
        }();
        if (absl::IsNotFound(s)) {
          s = absl::DataLossError(absl::StrCat(
              path, ": missing, but COMMIT of run ", id, " lists it"));
        }
        if (!s.ok()) problem(path, std::move(s));
      }
    } else {
      std::string current = dir;
      LogTail tail;
      absl::Status s =
          DecodeRunLog(&fs, dir, report.run_id, &decoder, &current, &tail);
      if (!s.ok()) problem(current, std::move(s));
      // What a live read drops: a torn tail is where the writer stopped (a
      // note); a complete chunk that fails its checks is damage (a problem).
      if (tail.uncommitted) {
        report.dropped_bytes = tail.dropped_bytes;
        if (!tail.damage.ok()) {
          problem(tail.damage_file, tail.damage);
        } else if (report.dropped_bytes > 0) {
          report.notes.push_back(absl::StrCat(
              report.dropped_bytes,
              " bytes at the end of the last segment are an incomplete "
              "chunk (where the writer ",
              entry.state == RunState::kLive ? "is writing" : "stopped",
              "); not read"));
        }
      }
    }
    for (const SeriesSummary& ss : decoder.summary().series) {
      report.points += ss.count;
      counts[ss.key] += ss.count;
    }
    if (!entry.manifest) report.bytes_checked = entry.bytes_on_disk;
  }
  // COMMIT's summaries must describe exactly the points the files hold.
  if (committed_summary && report.problems.empty()) {
    for (const SeriesSummary& ss : committed_summary->series) {
      const int64_t held = counts.count(ss.key) ? counts[ss.key] : 0;
      if (held != ss.count) {
        problem(commit_path, absl::DataLossError(absl::StrCat(
                                 commit_path, ": series ", ss.key.ToString(),
                                 ": COMMIT says ", ss.count,
                                 " points, the segments hold ", held)));
      }
    }
  }
  return report;
}

// ---- RunView ----------------------------------------------------------------

namespace {

bool IsCompacted(const storage::CommitManifest& m) {
  for (const storage::SegmentInfo& s : m.segments) {
    if (s.kind == storage::format::SegmentKind::kColumn) return true;
  }
  return false;
}

template <typename Columns>
absl::Status AssignTo(absl::StatusOr<Columns> columns, Columns* out) {
  RUNLOG_RETURN_IF_ERROR(columns.status());
  *out = *std::move(columns);
  return absl::OkStatus();
}

// A scalar read without downsampling goes through ReadScalarsInto, which
// clears `out` and keeps its capacity; the others replace `out`.
template <typename Columns>
absl::Status ReadCompacted(CompactedRunReader& reader, const CompactedSeries& s,
                           StepRange range, size_t max_points,
                           ColumnSet columns, Columns* out) {
  if constexpr (std::is_same_v<Columns, ScalarColumns>) {
    if (max_points > 0) {
      return AssignTo(reader.ReadScalarsDownsampled(s, max_points, range), out);
    }
    return reader.ReadScalarsInto(s, range, out, columns);
  } else if constexpr (std::is_same_v<Columns, TextColumns>) {
    return AssignTo(reader.ReadTexts(s, range), out);
  } else if constexpr (std::is_same_v<Columns, HistogramColumns>) {
    return AssignTo(reader.ReadHistograms(s, range), out);
  } else {
    return AssignTo(reader.ReadBlobs(s, range), out);
  }
}

absl::Status NoSuchSeries(const std::string& run_id, const SeriesKey& key) {
  return absl::NotFoundError(
      absl::StrCat("run ", run_id, " has no series ", key.ToString()));
}

absl::Status WrongKind(const std::string& run_id, const SeriesKey& key,
                       SeriesKind actual, SeriesKind wanted) {
  return absl::InvalidArgumentError(absl::StrCat(
      "series ", key.ToString(), " of run ", run_id, " holds ",
      SeriesKindName(actual), " values, not ", SeriesKindName(wanted)));
}

// A compaction may replace the files while we read: when a read fails and
// COMMIT has changed since `before` was read, the caller retries on the new
// form. So may a commit followed by a compaction while a live run is read.
// Returns `s`, or NotFound when the run was deleted meanwhile.
absl::Status NoteChange(storage::FileSystem& fs, const std::string& dir,
                        const std::string& run_id,
                        const absl::StatusOr<storage::CommitManifest>& before,
                        const absl::Status& s, bool* manifest_changed) {
  if (s.ok()) return s;
  absl::StatusOr<storage::CommitManifest> now =
      storage::ReadCommitManifest(fs, dir);
  if (now.ok() && (!before.ok() || now->segments != before->segments)) {
    *manifest_changed = true;
  }
  // Deleted while being read (perhaps after a compaction changed its
  // files under the read): gone, whatever the read tripped over.
  if (absl::IsNotFound(now.status()) &&
      absl::IsNotFound(fs.Stat(dir).status())) {
    return absl::NotFoundError(
        absl::StrCat("run ", run_id, " was deleted while being read"));
  }
  // The manifest could not be read for a moment (a network file system's
  // stale handle): look again.
  if (absl::IsUnavailable(now.status())) *manifest_changed = true;
  return s;
}

// Runs `attempt(&manifest_changed)` again while it fails because COMMIT
// changed under it, at most four times: each retry follows a COMMIT
// replaced by a compaction, and runs are compacted once, so a second change
// during one read is already unusual.
template <typename Attempt>
absl::Status RetryWhileManifestChanges(Attempt attempt) {
  for (int i = 0;; ++i) {
    bool manifest_changed = false;
    absl::Status st = attempt(&manifest_changed);
    if (st.ok() || !manifest_changed || i == 3) return st;
  }
}

}  // namespace

template <typename Columns>
absl::Status RunView::ReadOnce(const SeriesKey& key, SeriesKind kind,
                               StepRange range, size_t max_points,
                               KindCheck kind_check, Columns* out,
                               ColumnSet columns, bool* manifest_changed) {
  const std::string dir = store_->RunDir(record_.id);
  storage::FileSystem& fs = *store_->fs();
  absl::StatusOr<storage::CommitManifest> manifest =
      storage::ReadCommitManifest(fs, dir);
  if (!manifest.ok() && !absl::IsNotFound(manifest.status())) {
    return manifest.status();
  }
  auto not_found = [&] { return NoSuchSeries(record_.id, key); };
  auto wrong_kind = [&](SeriesKind actual) {
    return WrongKind(record_.id, key, actual, kind);
  };
  auto changed = [&](const absl::Status& s) {
    return NoteChange(fs, dir, record_.id, manifest, s, manifest_changed);
  };
  if (manifest.ok() && IsCompacted(*manifest)) {
    const storage::SegmentInfo& info = manifest->segments.front();
    absl::StatusOr<std::unique_ptr<CompactedRunReader>> reader =
        OpenCompacted(dir, info);
    RUNLOG_RETURN_IF_ERROR(changed(reader.status()));
    const CompactedSeries* s = (*reader)->Find(key);
    if (s == nullptr) return not_found();
    if (kind_check == KindCheck::kHere && s->kind != kind) {
      return wrong_kind(s->kind);
    }
    return changed(
        ReadCompacted(**reader, *s, range, max_points, columns, out));
  }
  RunLogDecoder decoder(RunLogDecoder::Target{key, range},
                        /*want_summaries=*/false);
  absl::Status st = DecodeRunLog(&fs, dir, record_.id, &decoder);
  RUNLOG_RETURN_IF_ERROR(changed(st));
  if (!decoder.target_found()) return not_found();
  if (decoder.target_kind() != kind) return wrong_kind(decoder.target_kind());
  if constexpr (std::is_same_v<Columns, ScalarColumns>) {
    if (max_points > 0) {
      return AssignTo(Downsample(std::move(decoder.scalars()), max_points),
                      out);
    }
    *out = std::move(decoder.scalars());
    if (!Has(columns, ColumnSet::kSteps)) out->steps = {};
    if (!Has(columns, ColumnSet::kValues)) out->values = {};
    if (!Has(columns, ColumnSet::kEpochs)) out->epochs = {};
    if (!Has(columns, ColumnSet::kTimes)) out->times_us = {};
  } else if constexpr (std::is_same_v<Columns, TextColumns>) {
    *out = std::move(decoder.texts());
  } else if constexpr (std::is_same_v<Columns, HistogramColumns>) {
    *out = std::move(decoder.histograms());
  } else {
    *out = std::move(decoder.blobs());
  }
  return absl::OkStatus();
}

template <typename Columns>
absl::Status RunView::ReadRetrying(const SeriesKey& key, SeriesKind kind,
                                   StepRange range, size_t max_points,
                                   KindCheck kind_check, Columns* out,
                                   ColumnSet columns) {
  return RetryWhileManifestChanges([&](bool* manifest_changed) {
    return ReadOnce(key, kind, range, max_points, kind_check, out, columns,
                    manifest_changed);
  });
}

template <typename Columns>
absl::StatusOr<Columns> RunView::Read(const SeriesKey& key, SeriesKind kind,
                                      StepRange range, size_t max_points) {
  Columns out;
  RUNLOG_RETURN_IF_ERROR(
      ReadRetrying(key, kind, range, max_points, KindCheck::kHere, &out));
  return out;
}

absl::StatusOr<std::unique_ptr<CompactedRunReader>> RunView::OpenCompacted(
    const std::string& dir, const storage::SegmentInfo& info) {
  const bool same = compacted_index_ != nullptr && compacted_info_ == info;
  absl::StatusOr<std::unique_ptr<CompactedRunReader>> reader =
      CompactedRunReader::Open(store_->fs(), dir, record_.id, info,
                               same ? compacted_index_ : nullptr);
  if (reader.ok()) {
    compacted_info_ = info;
    compacted_index_ = (*reader)->index();
  }
  return reader;
}

absl::StatusOr<ScalarColumns> RunView::ReadScalars(const SeriesKey& key,
                                                   StepRange range) {
  return Read<ScalarColumns>(key, SeriesKind::kScalar, range);
}

absl::Status RunView::ReadScalarsInto(const SeriesKey& key, StepRange range,
                                      ScalarColumns* out, ColumnSet columns) {
  return ReadRetrying(key, SeriesKind::kScalar, range, /*max_points=*/0,
                      KindCheck::kByCompactedReader, out, columns);
}

absl::StatusOr<ScalarColumns> RunView::ReadScalarsDownsampled(
    const SeriesKey& key, size_t max_points, StepRange range) {
  if (max_points < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_points must be at least 2; got ", max_points));
  }
  return Read<ScalarColumns>(key, SeriesKind::kScalar, range, max_points);
}

absl::StatusOr<TextColumns> RunView::ReadTexts(const SeriesKey& key,
                                               StepRange range) {
  return Read<TextColumns>(key, SeriesKind::kText, range);
}

absl::StatusOr<HistogramColumns> RunView::ReadHistograms(const SeriesKey& key,
                                                         StepRange range) {
  return Read<HistogramColumns>(key, SeriesKind::kHistogram, range);
}

absl::StatusOr<BlobColumns> RunView::ReadBlobs(const SeriesKey& key,
                                               StepRange range) {
  return Read<BlobColumns>(key, SeriesKind::kBlob, range);
}

absl::Status RunView::ReadAll(const SeriesSink& sink) {
  // As ReadRetrying; `at` carries over, so a retry resumes where the sink
  // left off and no series is handed over twice.
  PieceProgress at;
  return RetryWhileManifestChanges([&](bool* manifest_changed) {
    return ReadAllPiecesOnce([&](const SeriesSummary& s, SeriesPoints* points,
                                 bool) { return sink(s, std::move(*points)); },
                             /*whole_series=*/true, &at, manifest_changed);
  });
}

absl::Status RunView::ReadAllPieces(const SeriesPieceSink& sink) {
  PieceProgress at;
  return RetryWhileManifestChanges([&](bool* manifest_changed) {
    return ReadAllPiecesOnce([&](const SeriesSummary& s, SeriesPoints* points,
                                 bool last) { return sink(s, *points, last); },
                             /*whole_series=*/false, &at, manifest_changed);
  });
}

namespace {

void DropFront(size_t n, SeriesPoints* p) {
  if (n == 0) return;
  DropFrontPoints(n, &p->scalars);
  DropFrontPoints(n, &p->texts);
  DropFrontPoints(n, &p->histograms);
  DropFrontPoints(n, &p->blobs);
}

size_t PointCount(const SeriesPoints& p) {
  return p.scalars.size() + p.texts.size() + p.histograms.size() +
         p.blobs.size();
}

}  // namespace

absl::Status RunView::ReadAllPiecesOnce(PieceSink sink, bool whole_series,
                                        PieceProgress* at,
                                        bool* manifest_changed) {
  const std::string dir = store_->RunDir(record_.id);
  storage::FileSystem& fs = *store_->fs();
  absl::StatusOr<storage::CommitManifest> manifest =
      storage::ReadCommitManifest(fs, dir);
  if (!manifest.ok() && !absl::IsNotFound(manifest.status())) {
    return manifest.status();
  }
  auto changed = [&](const absl::Status& s) {
    return NoteChange(fs, dir, record_.id, manifest, s, manifest_changed);
  };
  // The sink's own error is returned as is, never taken for a change of
  // the files (and so never retried).
  absl::Status sink_error;
  auto hand_over = [&](const SeriesSummary& ss, SeriesPoints* points,
                       bool last) {
    const size_t n = PointCount(*points);
    sink_error = sink(ss, points, last);
    if (!sink_error.ok()) return sink_error;
    if (last) {
      ++at->series;
      at->points = 0;
    } else {
      at->points += n;
    }
    return absl::OkStatus();
  };
  const std::vector<SeriesSummary>& wanted = series();
  if (manifest.ok() && IsCompacted(*manifest)) {
    // One footer decode for the whole run (each per-series read decodes it
    // again), then one series at a time.
    absl::StatusOr<std::unique_ptr<CompactedRunReader>> reader =
        OpenCompacted(dir, manifest->segments.front());
    RUNLOG_RETURN_IF_ERROR(changed(reader.status()));
    SeriesPoints block;  // reused from block to block
    while (at->series < wanted.size()) {
      const SeriesSummary& ss = wanted[at->series];
      const CompactedSeries* s = (*reader)->Find(ss.key);
      if (s == nullptr) return NoSuchSeries(record_.id, ss.key);
      if (s->kind != ss.kind) {
        return WrongKind(record_.id, ss.key, s->kind, ss.kind);
      }
      const size_t series_before = at->series;
      absl::Status st;
      if (ss.kind == SeriesKind::kScalar && !whole_series) {
        st =
            (*reader)->ForEachScalarBlock(*s, at->points, &block.scalars,
                                          [&](const ScalarColumns&, bool last) {
                                            return hand_over(ss, &block, last);
                                          });
      } else {
        SeriesPoints whole;
        switch (ss.kind) {
          case SeriesKind::kScalar:
            st = ReadCompacted(**reader, *s, {}, 0, ColumnSet::kAll,
                               &whole.scalars);
            break;
          case SeriesKind::kText:
            st = ReadCompacted(**reader, *s, {}, 0, ColumnSet::kAll,
                               &whole.texts);
            break;
          case SeriesKind::kHistogram:
            st = ReadCompacted(**reader, *s, {}, 0, ColumnSet::kAll,
                               &whole.histograms);
            break;
          case SeriesKind::kBlob:
            st = ReadCompacted(**reader, *s, {}, 0, ColumnSet::kAll,
                               &whole.blobs);
            break;
        }
        if (st.ok()) {
          DropFront(at->points, &whole);
          st = hand_over(ss, &whole, /*last=*/true);
        }
      }
      if (!sink_error.ok()) return sink_error;
      RUNLOG_RETURN_IF_ERROR(changed(st));
      if (at->series == series_before) {
        // No last piece came: the series has no points.
        SeriesPoints none;
        RUNLOG_RETURN_IF_ERROR(hand_over(ss, &none, /*last=*/true));
      }
    }
    return absl::OkStatus();
  }
  // A series' points may sit anywhere in the log, so the whole log is
  // decoded before the first series is handed over.
  RunLogDecoder decoder = RunLogDecoder::CollectingAll();
  RUNLOG_RETURN_IF_ERROR(changed(DecodeRunLog(&fs, dir, record_.id, &decoder)));
  const std::vector<SeriesSummary>& found = decoder.summary().series;
  std::map<SeriesKey, size_t> index;
  for (size_t i = 0; i < found.size(); ++i) index.emplace(found[i].key, i);
  while (at->series < wanted.size()) {
    const SeriesSummary& ss = wanted[at->series];
    auto it = index.find(ss.key);
    if (it == index.end()) return NoSuchSeries(record_.id, ss.key);
    const SeriesKind kind = found[it->second].kind;
    if (kind != ss.kind) return WrongKind(record_.id, ss.key, kind, ss.kind);
    SeriesPoints& points = decoder.all_points()[it->second];
    DropFront(at->points, &points);
    RUNLOG_RETURN_IF_ERROR(hand_over(ss, &points, /*last=*/true));
  }
  return absl::OkStatus();
}

}  // namespace runlog
