#include "tools/segtool/common.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/run_id.h"
#include "tools/segtool/format.h"

namespace runlog::segtool {
namespace {

std::string Describe(const absl::Status& status) {
  // DataLoss is the one code whose meaning the message may not carry by
  // itself ("checksum mismatch at ..."), and the one users must not miss.
  if (absl::IsDataLoss(status)) {
    return absl::StrCat("data loss: ", status.message());
  }
  return std::string(status.message());
}

}  // namespace

RepoOptions RepoOptionsFor(const Env& env) {
  RepoOptions options;
  options.create_if_missing = false;
  options.staleness = env.staleness;
  options.fs = env.fs;
  options.clock = env.clock;
  options.probe = env.probe;
  options.file_system_clock = env.file_system_clock;
  return options;
}

absl::StatusOr<std::unique_ptr<Repo>> OpenRepo(const std::string& path,
                                               const Env& env) {
  return Repo::Open(path, RepoOptionsFor(env));
}

bool CheckArgs(absl::string_view repo, const std::vector<std::string>& runs,
               std::ostream& err) {
  if (repo.empty()) {
    err << "segtool: repository path is empty\n";
    return false;
  }
  for (const std::string& run : runs) {
    if (absl::Status s = storage::ValidateRunId(run); !s.ok()) {
      PrintRunError(err, run, s);
      return false;
    }
  }
  return true;
}

void PrintError(std::ostream& err, const absl::Status& status) {
  err << "segtool: " << SingleLine(Describe(status)) << '\n';
}

void PrintRunError(std::ostream& err, absl::string_view run,
                   const absl::Status& status) {
  // Most library messages already begin by naming the run.
  if (absl::StartsWith(status.message(), absl::StrCat("run ", run, " "))) {
    PrintError(err, status);
    return;
  }
  err << "segtool: run " << QuoteArg(run) << ": "
      << SingleLine(Describe(status)) << '\n';
}

bool ResolveRun(Repo& repo, std::string* run, std::ostream& err) {
  absl::StatusOr<std::string> id = repo.ResolveRunId(*run);
  if (!id.ok()) {
    PrintRunError(err, *run, id.status());
    return false;
  }
  *run = *std::move(id);
  return true;
}

absl::StatusOr<std::vector<std::string>> SelectRuns(
    Repo& repo, const std::vector<std::string>& given, std::ostream& err,
    bool* failed) {
  std::vector<std::string> ids;
  if (given.empty()) {
    absl::StatusOr<std::vector<storage::RunEntry>> entries =
        repo.store().ListRuns();
    if (!entries.ok()) return entries.status();
    for (const storage::RunEntry& e : *entries) ids.push_back(e.id);
    return ids;
  }
  for (std::string id : given) {
    if (!ResolveRun(repo, &id, err)) {
      *failed = true;
      continue;
    }
    ids.push_back(std::move(id));
  }
  return ids;
}

std::string StatusText(const RunRecord& record) {
  if (!record.error.ok()) return "damaged";
  return std::string(RunStatusName(record.status));
}

int64_t PointCount(const RunRecord& record) {
  int64_t points = 0;
  for (const SeriesSummary& s : record.summary.series) points += s.count;
  return points;
}

Value RunRecordValue(const RunRecord& record, bool full) {
  const RunSummary& sum = record.summary;
  Value::Map m;
  m["id"] = Value(record.id);
  m["state"] = Value(RunStateName(record.state));
  m["status"] = Value(StatusText(record));
  m["experiment"] = Value(sum.experiment);
  m["name"] = Value(sum.name);
  m["description"] = Value(sum.description);
  m["created"] = TimeValue(sum.created);
  m["ended"] = TimeValue(record.ended);
  m["failure_reason"] = Value(record.failure_reason);
  m["detail"] = Value(record.detail);
  Value::List tags(sum.tags.begin(), sum.tags.end());
  m["tags"] = Value(std::move(tags));
  m["series_count"] = Value(sum.series.size());
  m["points"] = Value(PointCount(record));
  m["bytes_on_disk"] =
      record.bytes_on_disk ? Value(*record.bytes_on_disk) : Value();
  if (record.error.ok()) {
    m["error"] = Value();
  } else {
    m["error"] = Value(record.error.ToString());
  }
  if (full) {
    m["params"] = sum.params;
    Value::List series;
    for (const SeriesSummary& s : sum.series) {
      Value::Map e;
      e["name"] = Value(s.key.name);
      e["context"] = ContextValue(s.key.context);
      e["kind"] = Value(SeriesKindName(s.kind));
      e["count"] = Value(s.count);
      e["first_step"] = Value(s.first_step);
      e["last_step"] = Value(s.last_step);
      if (s.kind == SeriesKind::kScalar) {
        e["first"] = Value(s.first);
        e["last"] = Value(s.last);
        e["min"] = Value(s.min);
        e["max"] = Value(s.max);
      }
      series.emplace_back(std::move(e));
    }
    m["series"] = Value(std::move(series));
  }
  return Value(std::move(m));
}

std::optional<Selection> OpenAndSelect(const std::string& path,
                                       const std::vector<std::string>& given,
                                       const Env& env, std::ostream& err) {
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(path, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return std::nullopt;
  }
  Selection selection;
  absl::StatusOr<std::vector<std::string>> ids =
      SelectRuns(**repo, given, err, &selection.failed);
  if (!ids.ok()) {
    PrintError(err, ids.status());
    return std::nullopt;
  }
  selection.repo = *std::move(repo);
  selection.ids = *std::move(ids);
  return selection;
}

}  // namespace runlog::segtool
