#include "storage/recovery.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/format.h"
#include "storage/segment.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

using Kind = RecoveryAction::Kind;

bool Gone(const absl::Status& s) { return absl::IsNotFound(s); }

absl::Status CleanCommittedRun(RunStore& store, const RunEntry& run,
                               bool dry_run, RecoveryReport& report) {
  FileSystem& fs = *store.fs();
  const std::string dir = store.RunDir(run.id);
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (Gone(names.status())) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(names.status());
  std::set<uint32_t> referenced;
  for (const SegmentInfo& s : run.manifest->segments) {
    referenced.insert(s.number);
  }
  const absl::Time now = store.clock()->Now();
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    RecoveryAction action;
    if (name == format::kCommitTempFileName) {
      // COMMIT exists, so this is a leftover of an interrupted commit or
      // compaction. Removing it can at worst make a running compaction fail
      // its rename; the committed run is untouched.
      action = {Kind::kRemoveTempFile, path, "COMMIT already exists"};
    } else if (std::optional<uint32_t> n = ParseSegmentFileName(name);
               n && referenced.count(*n) == 0) {
      absl::StatusOr<FileInfo> info = fs.Stat(path);
      if (!info.ok()) continue;
      // A compaction writes its new segments before the COMMIT that names
      // them; only files older than the staleness period are surely garbage.
      if (now - info->modified < store.options().staleness) continue;
      action = {Kind::kRemoveUnreferencedSegment, path,
                "not referenced by COMMIT"};
    } else {
      continue;
    }
    if (!dry_run) {
      absl::Status s = fs.RemoveFile(path);
      if (!s.ok() && !Gone(s)) return s;
      action.done = s.ok();
    }
    report.actions.push_back(std::move(action));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecoveryReport> Recover(RunStore& store, bool dry_run) {
  FileSystem& fs = *store.fs();
  RecoveryReport report;

  // Trash first: it holds only runs whose deletion already happened.
  const std::string trash = JoinPath(store.root(), format::kTrashDirName);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> trashed, fs.ListDir(trash));
  for (const std::string& name : trashed) {
    RecoveryAction action{Kind::kPurgeTrash, JoinPath(trash, name),
                          "interrupted deletion"};
    if (!dry_run) {
      RUNLOG_RETURN_IF_ERROR(store.PurgeTrashEntry(name));
      action.done = true;
    }
    report.actions.push_back(std::move(action));
  }

  RUNLOG_ASSIGN_OR_RETURN(std::vector<RunEntry> runs, store.ListRuns());
  for (const RunEntry& run : runs) {
    switch (run.state) {
      case RunState::kCommitted:
        if (run.manifest.has_value()) {
          RUNLOG_RETURN_IF_ERROR(
              CleanCommittedRun(store, run, dry_run, report));
        }
        break;
      case RunState::kAbandoned: {
        RecoveryAction action{Kind::kDeleteAbandonedRun, store.RunDir(run.id),
                              run.detail};
        if (!dry_run) {
          absl::Status s = store.DeleteRun(run.id);
          if (!s.ok() && !Gone(s)) return s;
          action.done = s.ok();
        }
        report.actions.push_back(std::move(action));
        break;
      }
      case RunState::kLive:
      case RunState::kUnknown:
        report.kept.emplace_back(run.id, run.detail);
        break;
    }
  }
  return report;
}

}  // namespace runlog::storage
