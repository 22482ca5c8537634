#include "storage/recovery.h"

#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/commit_manifest.h"
#include "storage/format.h"
#include "storage/run_catalog.h"
#include "storage/segment.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

using Kind = RecoveryAction::Kind;

bool Gone(const absl::Status& s) { return absl::IsNotFound(s); }

// Creation takes milliseconds; a run directory still unfinished after this
// long (by the file system's clock) has lost its creator.
constexpr absl::Duration kCreationGrace = absl::Minutes(10);

// An uncommitted run with no OWNER at all whose files hold no chunk (only
// segment headers), older than the creation grace: what a kill inside
// CreateRun left before runs were built under a temporary name.
bool IsEmptyOwnerlessRun(RunStore& store, const RunEntry& run, absl::Time now) {
  if (now - run.last_write < kCreationGrace) return false;
  FileSystem& fs = *store.fs();
  const std::string dir = store.RunDir(run.id);
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) return false;
  for (const std::string& name : *names) {
    if (!ParseSegmentFileName(name)) return false;  // OWNER, or anything else
    absl::StatusOr<FileInfo> info = fs.Stat(JoinPath(dir, name));
    if (!info.ok() || info->size > format::kSegmentHeaderSize) return false;
  }
  return true;
}

absl::Status CleanCommittedRun(RunStore& store, const RunEntry& run,
                               absl::Time now, bool dry_run,
                               RecoveryReport& report) {
  FileSystem& fs = *store.fs();
  const std::string dir = store.RunDir(run.id);
  const std::optional<LivenessVerdict> compaction =
      store.JudgeOwnerFile(JoinPath(dir, format::kCompactingFileName), now);
  if (compaction && compaction->state != RunState::kAbandoned) {
    // A compaction is (or may be) running: everything unreferenced may be
    // its output, and COMMIT.tmp its next manifest.
    report.kept.emplace_back(
        run.id, absl::StrCat("being compacted: ", compaction->reason));
    return absl::OkStatus();
  }
  uint32_t current_generation = run.manifest_generation;
  if (run.manifest_rebuilt) {
    // A power loss tore COMMIT (its bytes are not synced; the commit record
    // is): write the manifest anew, under the next generation's name.
    RecoveryAction action{
        Kind::kRepairManifest,
        JoinPath(dir, CommitFileName(run.manifest_generation + 1)),
        "COMMIT was damaged; rebuilt from the commit record"};
    if (!dry_run) {
      absl::Status s = WriteCommitManifest(fs, dir, *run.manifest, true,
                                           run.manifest_generation + 1);
      if (!s.ok() && !Gone(s)) return s;
      action.done = s.ok();
      if (s.ok()) current_generation = run.manifest_generation + 1;
    }
    report.actions.push_back(std::move(action));
  }
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (Gone(names.status())) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(names.status());
  std::set<std::string> referenced;
  for (const SegmentInfo& s : run.manifest->segments) {
    referenced.insert(FileNameOf(s));
  }
  bool garbage_left = false;
  for (const std::string& name : *names) {
    const std::string path = JoinPath(dir, name);
    RecoveryAction action;
    const std::optional<uint32_t> generation = ParseCommitFileName(name);
    if (generation && *generation < current_generation) {
      // Superseded by a compaction's manifest. A reader on another client
      // may still hold it open (removing it there means ESTALE), so it goes
      // only once it is older than the staleness period.
      absl::StatusOr<FileInfo> info = fs.Stat(path);
      if (!info.ok()) continue;
      if (now - info->modified < store.options().staleness) continue;
      action = {
          Kind::kRemoveOldManifest, path,
          absl::StrCat("superseded by ", CommitFileName(current_generation))};
    } else if (name == format::kCommitTempFileName) {
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
  const absl::Duration staleness = store.options().staleness;

  // Every age below is measured on the file system's clock, the one that
  // stamped the files, so a skewed local clock cannot make a live run of
  // another host look stale. A dry run may be on a read-only repository,
  // where the probe file cannot be made: it falls back to the local clock.
  absl::StatusOr<absl::Time> fs_now = store.FileSystemNow();
  if (!fs_now.ok() && !dry_run) return fs_now.status();
  const absl::Time now = fs_now.ok() ? *fs_now : store.clock()->Now();

  // Trash first: it holds runs whose deletion already happened, and runs a
  // crashed remover left between its move and its second look.
  const std::string trash = JoinPath(store.root(), format::kTrashDirName);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> trashed, fs.ListDir(trash));
  for (const std::string& name : trashed) {
    if (absl::StartsWith(name, format::kClockProbePrefix)) {
      // Another process reading the clock right now; a leftover only once
      // it is old.
      absl::StatusOr<FileInfo> info = fs.Stat(JoinPath(trash, name));
      if (!info.ok() || now - info->modified < absl::Hours(1)) continue;
    }
    if (absl::EndsWith(name, format::kRecheckSuffix)) {
      RecoveryAction action{Kind::kRecheckRemoval, JoinPath(trash, name),
                            "interrupted removal of an abandoned run"};
      if (!dry_run) {
        absl::StatusOr<RemovalOutcome> outcome =
            store.RecheckTrashEntry(name, now);
        if (!outcome.ok() && !Gone(outcome.status())) return outcome.status();
        action.done = outcome.ok();
        if (outcome.ok()) {
          action.reason = outcome->removed
                              ? absl::StrCat("removed: ", outcome->reason)
                              : absl::StrCat("restored: ", outcome->reason);
        }
      }
      report.actions.push_back(std::move(action));
      continue;
    }
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
  for (const std::string& name : top) {
    if (!IsCatalogTempFileName(name)) continue;
    const std::string path = JoinPath(store.root(), name);
    absl::StatusOr<FileInfo> info = fs.Stat(path);
    if (!info.ok() || info->type != FileType::kRegular ||
        now - info->modified < staleness) {
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

  // Runs still being built (runs/.creating.<id>): never visible as runs and
  // never holding data, so one whose creator is gone, or that is far older
  // than any creation takes, is simply removed.
  const std::string runs_dir = JoinPath(store.root(), format::kRunsDirName);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> run_names,
                          fs.ListDir(runs_dir));
  for (const std::string& name : run_names) {
    if (!absl::StartsWith(name, format::kCreatingPrefix)) continue;
    const std::string dir = JoinPath(runs_dir, name);
    absl::StatusOr<FileInfo> info = fs.Stat(dir);
    if (!info.ok() || info->type != FileType::kDirectory) continue;
    const std::optional<LivenessVerdict> owner =
        store.JudgeOwnerFile(JoinPath(dir, format::kOwnerFileName), now);
    std::string why;
    if (owner && owner->state == RunState::kAbandoned) {
      why = owner->reason;
    } else if (now - info->modified >= kCreationGrace) {
      why = absl::StrCat("creation started ",
                         absl::FormatDuration(now - info->modified), " ago");
    } else {
      continue;
    }
    RecoveryAction action{Kind::kRemoveUnfinishedCreation, dir, why};
    if (!dry_run) {
      absl::Status s = RemoveDirectoryTree(fs, dir);
      if (!s.ok() && !Gone(s)) return s;
      action.done = s.ok();
    }
    report.actions.push_back(std::move(action));
  }

  RUNLOG_ASSIGN_OR_RETURN(std::vector<RunEntry> runs,
                          store.ListRuns(RunStore::ListDetail::kFull, now));
  std::vector<std::string> abandoned;
  std::vector<size_t> abandoned_actions;  // their places in report.actions
  for (const RunEntry& run : runs) {
    switch (run.state) {
      case RunState::kCommitted:
        if (run.manifest.has_value()) {
          RUNLOG_RETURN_IF_ERROR(
              CleanCommittedRun(store, run, now, dry_run, report));
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
        // Removed together after the loop: two directory syncs for all of
        // them instead of two per run.
        abandoned.push_back(run.id);
        abandoned_actions.push_back(report.actions.size());
        report.actions.push_back(RecoveryAction{
            Kind::kDeleteAbandonedRun, store.RunDir(run.id), run.detail});
        break;
      }
      case RunState::kLive:
      case RunState::kUnknown:
        if (!dry_run && IsEmptyOwnerlessRun(store, run, now)) {
          // Left by an older runlog killed inside CreateRun, before OWNER:
          // no data, and nothing recovery could ever judge it by.
          RecoveryAction action{Kind::kRemoveUnfinishedCreation,
                                store.RunDir(run.id),
                                "no OWNER and no data (interrupted creation)"};
          absl::Status s = store.DeleteRun(run.id);
          if (!s.ok() && !Gone(s)) return s;
          action.done = s.ok();
          report.actions.push_back(std::move(action));
          break;
        }
        report.kept.emplace_back(run.id, run.detail);
        break;
    }
  }
  if (dry_run || abandoned.empty()) return report;
  RUNLOG_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<RemovalOutcome>> outcomes,
                          store.RemoveIfAbandoned(abandoned, now));
  std::vector<bool> put_back(report.actions.size(), false);
  for (size_t i = 0; i < abandoned.size(); ++i) {
    const absl::StatusOr<RemovalOutcome>& outcome = outcomes[i];
    if (!outcome.ok() && !Gone(outcome.status())) return outcome.status();
    if (outcome.ok() && !outcome->removed) {
      // Looked at again from trash/, it had committed or written: back in
      // runs/, kept.
      report.kept.emplace_back(abandoned[i], outcome->reason);
      put_back[abandoned_actions[i]] = true;
      continue;
    }
    report.actions[abandoned_actions[i]].done = outcome.ok();
  }
  size_t kept_actions = 0;
  for (size_t i = 0; i < report.actions.size(); ++i) {
    if (put_back[i]) continue;
    if (kept_actions != i) {
      report.actions[kept_actions] = std::move(report.actions[i]);
    }
    ++kept_actions;
  }
  report.actions.resize(kept_actions);
  return report;
}

}  // namespace runlog::storage
