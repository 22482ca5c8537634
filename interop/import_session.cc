#include "interop/import_session.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "storage/status_macros.h"

namespace runlog::interop {
// ---- RunSink ----------------------------------------------------------------

void RunSink::SetTime(int64_t time_us) {
  if (time_us == kNoTime) {
    clock_->Unset();
  } else {
    clock_->Set(time_us);
  }
}

absl::StatusOr<RunSink::SeriesEntry*> RunSink::Entry(absl::string_view name,
                                                     const Context& context,
                                                     SeriesKind kind) {
  absl::string_view id = name;
  if (!context.empty()) {
    key_scratch_.assign(name.data(), name.size());
    for (const auto& [k, v] : context) {
      absl::StrAppend(&key_scratch_, absl::string_view("\0", 1), k,
                      absl::string_view("\0", 1), v);
    }
    id = key_scratch_;
  }
  if (auto it = series_.find(id); it != series_.end()) {
    if (it->second.kind != kind) {
      return absl::InvalidArgumentError(absl::StrCat(
          "series ", name, " holds ", SeriesKindName(it->second.kind),
          " points, not ", SeriesKindName(kind)));
    }
    return &it->second;
  }
  SeriesEntry entry{kind, {}};
  if (run_ != nullptr && kind == SeriesKind::kScalar) {
    absl::StatusOr<ScalarSeries> s = run_->Series(name, context);
    if (!s.ok()) return s.status();
    entry.scalar = *s;
  } else if (absl::Status v =
                 ValidateSeriesKey(SeriesKey{std::string(name), context});
             !v.ok()) {
    return v;
  }
  ++report_.series;
  return &series_.emplace(std::string(id), entry).first->second;
}

absl::Status RunSink::Scalar(absl::string_view name, const Context& context,
                             int64_t step, double value, int64_t time_us,
                             double epoch) {
  absl::StatusOr<SeriesEntry*> e = Entry(name, context, SeriesKind::kScalar);
  if (!e.ok()) return e.status();
  if (run_ != nullptr) {
    SetTime(time_us);
    absl::Status s = std::isnan(epoch) ? (*e)->scalar.Track(step, value)
                                       : (*e)->scalar.Track(step, value, epoch);
    clock_->Unset();
    if (!s.ok()) return s;
  }
  ++report_.points;
  return absl::OkStatus();
}

absl::Status RunSink::Text(absl::string_view name, const Context& context,
                           int64_t step, absl::string_view text,
                           int64_t time_us) {
  absl::StatusOr<SeriesEntry*> e = Entry(name, context, SeriesKind::kText);
  if (!e.ok()) return e.status();
  if (run_ != nullptr) {
    SetTime(time_us);
    absl::Status s = run_->TrackText(name, text, step, context);
    clock_->Unset();
    if (!s.ok()) return s;
  }
  ++report_.points;
  return absl::OkStatus();
}

absl::Status RunSink::Hist(absl::string_view name, const Context& context,
                           int64_t step, Histogram histogram, int64_t time_us) {
  if (absl::Status v = ValidateHistogram(histogram); !v.ok()) return v;
  absl::StatusOr<SeriesEntry*> e = Entry(name, context, SeriesKind::kHistogram);
  if (!e.ok()) return e.status();
  if (run_ != nullptr) {
    SetTime(time_us);
    absl::Status s =
        run_->TrackHistogram(name, std::move(histogram), step, context);
    clock_->Unset();
    if (!s.ok()) return s;
  }
  ++report_.points;
  return absl::OkStatus();
}

absl::Status RunSink::BlobPoint(absl::string_view name, const Context& context,
                                int64_t step, const Blob& blob,
                                int64_t time_us) {
  absl::StatusOr<SeriesEntry*> e = Entry(name, context, SeriesKind::kBlob);
  if (!e.ok()) return e.status();
  if (run_ != nullptr) {
    SetTime(time_us);
    absl::Status s = run_->TrackBlob(name, blob, step, context);
    clock_->Unset();
    if (!s.ok()) return s;
  }
  ++report_.points;
  return absl::OkStatus();
}

absl::Status RunSink::Param(absl::string_view key, Value value) {
  if (key == kImportParam) {
    ++report_.skipped[absl::StrCat("param ", kImportParam,
                                   ": reserved for provenance")];
    return absl::OkStatus();
  }
  Value::Map patch;
  patch.emplace(std::string(key), std::move(value));
  return Params(Value(std::move(patch)));
}

absl::Status RunSink::Params(const Value& params) {
  if (run_ != nullptr) return run_->SetParams(params);
  Value scratch;
  return MergeInto(scratch, params);
}

absl::Status RunSink::Tag(absl::string_view tag) {
  return run_ != nullptr ? run_->AddTag(tag) : absl::OkStatus();
}

// ---- ImportSession ----------------------------------------------------------

absl::StatusOr<std::unique_ptr<ImportSession>> ImportSession::Open(
    const std::string& repo_path, const RepoOptions& base, std::string format,
    ImportOptions options) {
  std::unique_ptr<ImportSession> session(
      new ImportSession(std::move(format), std::move(options)));
  session->report_.format = session->format_;
  session->clock_ = std::make_unique<ReplayClock>(base.clock);
  RepoOptions repo_options = base;
  repo_options.clock = session->clock_.get();
  repo_options.create_if_missing = !session->options_.dry_run;
  absl::StatusOr<std::unique_ptr<Repo>> repo =
      Repo::Open(repo_path, repo_options);
  if (!repo.ok()) {
    // A dry run into a repository that does not exist yet imports all.
    if (session->options_.dry_run && absl::IsNotFound(repo.status())) {
      return session;
    }
    return repo.status();
  }
  session->repo_ = *std::move(repo);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<RunRecord> runs,
                          session->repo_->ListRuns());
  for (const RunRecord& r : runs) {
    const Value* p = r.summary.params.Find(kImportParam);
    if (p == nullptr || !p->is_map()) continue;
    const Value* source = p->Find("source");
    const Value* fingerprint = p->Find("fingerprint");
    if (source == nullptr || !source->is_string()) continue;
    // An uncommitted import (a crash mid-import) is not an import.
    if (r.state != storage::RunState::kCommitted) continue;
    session->known_[source->as_string()] = {
        r.id, fingerprint && fingerprint->is_string() ? fingerprint->as_string()
                                                      : std::string()};
  }
  return session;
}

absl::StatusOr<std::unique_ptr<RunSink>> ImportSession::Begin(
    const SourceRun& source) {
  ImportedRun entry;
  entry.source = source.key;
  entry.name = source.name;
  std::string replaces;
  if (auto it = known_.find(source.key); it != known_.end()) {
    if (it->second.fingerprint == source.fingerprint) {
      entry.action = "unchanged";
      entry.run_id = it->second.run_id;
      report_.runs.push_back(std::move(entry));
      return nullptr;
    }
    if (!options_.update) {
      entry.action = "changed";
      entry.run_id = it->second.run_id;
      entry.warnings.push_back(
          "the source changed since it was imported; --update imports it "
          "again");
      report_.runs.push_back(std::move(entry));
      return nullptr;
    }
    replaces = it->second.run_id;
  }
  entry.action = options_.dry_run
                     ? (replaces.empty() ? "would import" : "would update")
                     : (replaces.empty() ? "imported" : "updated");
  std::unique_ptr<Run> run;
  if (!options_.dry_run) {
    RunOptions ro;
    ro.experiment =
        options_.experiment ? *options_.experiment : source.experiment;
    ro.name = source.name;
    ro.description = source.description;
    ro.tags = source.tags;
    Value::Map provenance;
    provenance["format"] = Value(format_);
    provenance["source"] = Value(source.key);
    provenance["fingerprint"] = Value(source.fingerprint);
    Value::Map params;
    params[kImportParam] = Value(std::move(provenance));
    ro.params = Value(std::move(params));
    // Replayed times jump by hours between points: neither the age of the
    // buffer nor the heartbeat may be judged by them. The import is one
    // short call, which flushes by size and commits at the end.
    ro.max_buffer_age = absl::InfiniteDuration();
    ro.heartbeat_interval = absl::InfiniteDuration();
    ro.on_exception = OnException::kDiscard;
    clock_->Unset();
    RUNLOG_ASSIGN_OR_RETURN(run, repo_->CreateRun(ro));
  }
  auto sink = std::unique_ptr<RunSink>(
      new RunSink(std::move(run), clock_.get(), std::move(entry)));
  sink->replaces_ = std::move(replaces);
  sink->fingerprint_ = source.fingerprint;
  return sink;
}

absl::Status ImportSession::End(std::unique_ptr<RunSink> sink) {
  clock_->Unset();
  ImportedRun& entry = sink->report_;
  if (sink->run_ != nullptr) {
    absl::Status s = sink->failure_ ? sink->run_->Fail(*sink->failure_)
                                    : sink->run_->Commit();
    const std::string id = sink->run_->id();
    if (!s.ok()) {
      sink->run_.reset();
      repo_->DeleteRun(id, {.force = true}).IgnoreError();
      entry.action = "failed";
      entry.error = std::string(s.message());
      report_.runs.push_back(std::move(entry));
      return s;
    }
    entry.run_id = id;
    if (!sink->replaces_.empty()) {
      absl::Status d = repo_->DeleteRun(sink->replaces_);
      if (!d.ok()) {
        entry.warnings.push_back(absl::StrCat(
            "the replaced run ", sink->replaces_, " was kept: ", d.message()));
      }
    }
    known_[entry.source] = {id, sink->fingerprint_};
  }
  report_.runs.push_back(std::move(entry));
  return absl::OkStatus();
}

void ImportSession::Abandon(std::unique_ptr<RunSink> sink,
                            const absl::Status& error) {
  clock_->Unset();
  ImportedRun& entry = sink->report_;
  if (sink->run_ != nullptr) {
    const std::string id = sink->run_->id();
    sink->run_->Close().IgnoreError();
    sink->run_.reset();
    repo_->DeleteRun(id, {.force = true}).IgnoreError();
  }
  entry.action = "failed";
  entry.error = std::string(error.message());
  report_.runs.push_back(std::move(entry));
}

}  // namespace runlog::interop
