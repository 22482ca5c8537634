#include "storage/recovery.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/format.h"
#include "storage/run_catalog.h"
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
  const std::optional<LivenessVerdict> compaction =
      store.JudgeOwnerFile(JoinPath(dir, format::kCompactingFileName));
  if (compaction && compaction->state != RunState::kAbandoned) {
    // A compaction is (or may be) running: everything unreferenced may be
    // its output, and COMMIT.tmp its next manifest.
    report.kept.emplace_back(
        run.id, absl::StrCat("being compacted: ", compaction->reason));
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (Gone(names.status())) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(names.status());
  std::set<std::string> referenced;
  for (const SegmentInfo& s : run.manifest->segments) {
    referenced.insert(FileNameOf(s));
  }
  const absl::Time now = store.clock()->Now();
  bool garbage_left = false;
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    RecoveryAction action;
    if (name == format::kCommitTempFileName) {
      // COMMIT exists and no compaction runs, so this is a leftover of an
      // interrupted commit or compaction.
      action = {Kind::kRemoveTempFile, path, "COMMIT already exists"};
    } else if ((ParseSegmentFileName(name) || ParseColumnFileName(name)) &&
               referenced.count(name) == 0) {
      absl::StatusOr<FileInfo> info = fs.Stat(path);
      if (!info.ok()) continue;
      // Even with COMPACTING gone, a file this young may belong to a
      // compaction that started a moment ago; only older ones are surely
      // garbage.
      if (now - info->modified < store.options().staleness) {
        garbage_left = true;
        continue;
      }
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
  if (compaction && !garbage_left) {
    RecoveryAction action{Kind::kRemoveStaleCompaction,
                          JoinPath(dir, format::kCompactingFileName),
                          compaction->reason};
    if (!dry_run) {
      absl::Status s = fs.RemoveFile(action.path);
      if (!s.ok() && !Gone(s)) return s;
      action.done = s.ok();
    }
    report.actions.push_back(std::move(action));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecoveryReport> Recover(RunStore& store, bool dry_run) {
  return Recover(store, RecoveryOptions{dry_run, nullptr});
}

absl::StatusOr<RecoveryReport> Recover(RunStore& store,
                                       const RecoveryOptions& options) {
  const bool dry_run = options.dry_run;
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

  // A catalog temporary is garbage once stale: younger ones may belong to a
  // listing that is writing its catalog right now.
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> top,
                          fs.ListDir(store.root()));
  const absl::Time now = store.clock()->Now();
  for (const std::string& name : top) {
    if (!IsCatalogTempFileName(name)) continue;
    const std::string path = JoinPath(store.root(), name);
    absl::StatusOr<FileInfo> info = fs.Stat(path);
    if (!info.ok() || info->type != FileType::kRegular ||
        now - info->modified < store.options().staleness) {
      continue;
    }
    RecoveryAction action{Kind::kRemoveTempFile, path,
                          "left by an interrupted catalog write"};
    if (!dry_run) {
      absl::Status s = fs.RemoveFile(path);
      if (!s.ok() && !Gone(s)) return s;
      action.done = s.ok();
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
        if (options.salvage) {
          RecoveryAction action{Kind::kSalvageAbandonedRun,
                                store.RunDir(run.id), run.detail};
          if (!dry_run) {
            absl::Status s = options.salvage(run);
            action.done = s.ok();
            if (!s.ok()) {
              action.reason = absl::StrCat("kept: ", s.message());
              report.kept.emplace_back(run.id, std::string(s.message()));
            }
          }
          report.actions.push_back(std::move(action));
          break;
        }
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
