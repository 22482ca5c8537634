#include "storage/run_store.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/os_random.h"
#include "storage/run_catalog.h"
#include "storage/run_id.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

absl::StatusOr<OwnerRecord> ReadOwnerFile(FileSystem& fs,
                                          const std::string& path) {
  RUNLOG_ASSIGN_OR_RETURN(
      std::string text, ReadFileToString(fs, path, format::kMaxOwnerFileSize));
  return DecodeOwner(text, path);
}

// Whether an OWNER read as `text` holds nothing a writer wrote: missing (its
// directory entry was never made durable), empty, or only zero bytes (its
// bytes were not).
bool OwnerLostInPowerLoss(const absl::StatusOr<std::string>& text) {
  if (absl::IsNotFound(text.status())) return true;
  return text.ok() && text->find_first_not_of('\0') == std::string::npos;
}

std::string EncodeRepoMarker() {
  std::string out(format::kRepoMarkerSize, '\0');
  std::memcpy(out.data(), format::kRepoMagic, 8);
  EncodeFixed16(out.data() + 8, format::kRepoFormatVersion);
  EncodeFixed64(out.data() + 16, Checksum64(absl::string_view(out.data(), 16)));
  return out;
}

absl::Status CheckRepoMarker(absl::string_view bytes, const std::string& path) {
  if (bytes.size() != format::kRepoMarkerSize) {
    return absl::DataLossError(absl::StrCat(path, ": ", bytes.size(),
                                            " bytes, expected ",
                                            format::kRepoMarkerSize));
  }
  if (bytes.substr(0, 8) != absl::string_view(format::kRepoMagic, 8)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": offset 0: not a runlog repository marker"));
  }
  if (DecodeFixed64(bytes.data() + 16) != Checksum64(bytes.substr(0, 16))) {
    return absl::DataLossError(
        absl::StrCat(path, ": offset 16: checksum mismatch"));
  }
  const uint16_t version = DecodeFixed16(bytes.data() + 8);
  if (version > format::kRepoFormatVersion) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": offset 8: repository format version ", version,
        " is newer than this build (", format::kRepoFormatVersion, ")"));
  }
  if (version == 0) {
    return absl::DataLossError(absl::StrCat(path, ": offset 8: version 0"));
  }
  return absl::OkStatus();
}

absl::Status IgnoreAlreadyExists(absl::Status s) {
  return absl::IsAlreadyExists(s) ? absl::OkStatus() : s;
}

absl::Status IgnoreNotFound(absl::Status s) {
  return absl::IsNotFound(s) ? absl::OkStatus() : s;
}

// Creates a missing repository. The marker goes last, so a repository with a
// marker has its subdirectories. Concurrent creators are safe: each writes
// its marker under a unique temporary name and renames it into place, and the
// markers are identical, so whichever rename lands last changes nothing.
absl::Status CreateRepo(FileSystem& fs, const std::string& root) {
  absl::Status made = fs.CreateDir(root);
  if (made.ok()) {
    // The repository's own entry in its parent must survive a power loss.
    RUNLOG_RETURN_IF_ERROR(fs.SyncDir(ParentDir(root)));
  } else {
    RUNLOG_RETURN_IF_ERROR(IgnoreAlreadyExists(made));
  }
  RUNLOG_RETURN_IF_ERROR(
      IgnoreAlreadyExists(fs.CreateDir(JoinPath(root, format::kRunsDirName))));
  RUNLOG_RETURN_IF_ERROR(
      IgnoreAlreadyExists(fs.CreateDir(JoinPath(root, format::kTrashDirName))));
  const std::string tmp = JoinPath(
      root, absl::StrCat(format::kRepoMarkerName, ".tmp.", OsRandom64()));
  absl::Status written = WriteNewFileSynced(fs, tmp, EncodeRepoMarker());
  if (written.ok()) {
    written = fs.Rename(tmp, JoinPath(root, format::kRepoMarkerName));
  }
  if (!written.ok()) {
    fs.RemoveFile(tmp).IgnoreError();
    return written;
  }
  return fs.SyncDir(root);
}

// Whether `name` is one CreateRepo makes before the marker lands: a
// directory holding only these is a creation under way (another process,
// maybe on another host) or one a crash interrupted, and finishing it is
// what that creator would do.
bool IsCreationEntry(absl::string_view name) {
  return name == format::kRunsDirName || name == format::kTrashDirName ||
         absl::StartsWith(name, absl::StrCat(format::kRepoMarkerName, ".tmp."));
}

absl::Status NotADirectory(const std::string& root) {
  return absl::FailedPreconditionError(absl::StrCat(
      root, ": is not a runlog repository: it is a file, not a directory"));
}

// A repository is made only where nothing else lives: a missing directory,
// an empty one, or one holding only a creation's own entries. Anything else
// (a mistyped path to a data folder) is refused rather than turned into a
// repository beside the user's files.
absl::Status CheckCreatable(FileSystem& fs, const std::string& root) {
  absl::StatusOr<FileInfo> info = fs.Stat(root);
  if (absl::IsNotFound(info.status())) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(info.status());
  if (info->type != FileType::kDirectory) return NotADirectory(root);
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(root));
  std::vector<std::string> foreign;
  for (std::string& name : names) {
    if (!IsCreationEntry(name)) foreign.push_back(std::move(name));
  }
  if (foreign.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      root, ": is not a runlog repository: it holds ", foreign.size(),
      foreign.size() == 1 ? " entry" : " entries", " (e.g. '", foreign[0],
      "'); runlog creates repositories only in missing or empty "
      "directories"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RunStore>> RunStore::Open(
    std::string root, RunStoreOptions options) {
  if (root.empty()) {
    return absl::InvalidArgumentError("repository path is empty");
  }
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  FileSystem* fs = options.fs ? options.fs : FileSystem::Default();
  const std::string marker = JoinPath(root, format::kRepoMarkerName);
  absl::StatusOr<FileInfo> info = fs->Stat(marker);
  if (!info.ok() && !absl::IsNotFound(info.status())) {
    // ENOTDIR: `root` is a file.
    if (absl::StatusOr<FileInfo> dir = fs->Stat(root);
        dir.ok() && dir->type != FileType::kDirectory) {
      return NotADirectory(root);
    }
  }
  if (absl::IsNotFound(info.status())) {
    if (!options.create_if_missing) {
      absl::StatusOr<FileInfo> dir = fs->Stat(root);
      if (dir.ok()) {
        return absl::FailedPreconditionError(
            absl::StrCat(root, ": not a runlog repository (no ",
                         format::kRepoMarkerName, " file)"));
      }
      return absl::NotFoundError(absl::StrCat(root, ": no such repository"));
    }
    RUNLOG_RETURN_IF_ERROR(CheckCreatable(*fs, root));
    if (absl::Status made = CreateRepo(*fs, root); !made.ok()) {
      return absl::Status(
          made.code(),
          absl::StrCat("creating repository ", root, ": ", made.message()));
    }
  } else if (!info.ok()) {
    return info.status();
  }
  RUNLOG_ASSIGN_OR_RETURN(
      std::string bytes,
      ReadFileToString(*fs, marker, format::kRepoMarkerSize * 4));
  RUNLOG_RETURN_IF_ERROR(CheckRepoMarker(bytes, marker));
  for (const char* sub : {format::kRunsDirName, format::kTrashDirName}) {
    const std::string path = JoinPath(root, sub);
    absl::StatusOr<FileInfo> st = fs->Stat(path);
    if (!st.ok() || st->type != FileType::kDirectory) {
      return absl::DataLossError(
          absl::StrCat(path, ": missing or not a directory"));
    }
  }
  return std::unique_ptr<RunStore>(
      new RunStore(std::move(root), std::move(options)));
}

RunStore::RunStore(std::string root, RunStoreOptions options)
    : root_(std::move(root)),
      options_(std::move(options)),
      fs_(options_.fs ? options_.fs : FileSystem::Default()),
      clock_(options_.clock ? options_.clock : Clock::Default()),
      probe_(options_.probe ? options_.probe : SystemProbe::Default()),
      shared_(fs_->IsShared(root_)) {}

std::string RunStore::RunDir(absl::string_view id) const {
  return JoinPath(root_, format::kRunsDirName, id);
}

absl::StatusOr<std::unique_ptr<RunWriter>> RunStore::CreateRun(
    const RunWriterOptions& options) {
  absl::BitGen gen = OsSeededBitGen();
  const std::string runs = JoinPath(root_, format::kRunsDirName);
  const std::string owner_text =
      EncodeOwner(CurrentOwner(*probe_, clock_->Now()));
  // The run is built under a name no listing takes for a run, then renamed
  // into place holding its OWNER, so a crash at any point leaves either
  // nothing in runs/ or a run recovery can judge. Nothing is synced here: a
  // power loss may forget an uncommitted run, and Commit() syncs runs/
  // before it reports success (docs/design.md, "flushes per run").
  // Ids carry 8 random base-36 digits after the millisecond time, drawn
  // from the kernel (os_random.h), so a collision needs two creators in the
  // same millisecond drawing the same 41 bits; mkdir or the rename refuses
  // the loser, which simply draws again.
  std::string id;
  std::string dir;
  for (int attempt = 0;; ++attempt) {
    id = NewRunId(clock_->Now(), gen);
    dir = RunDir(id);
    const std::string staging =
        JoinPath(runs, absl::StrCat(format::kCreatingPrefix, id));
    absl::Status made = fs_->CreateDir(staging);
    if (made.ok()) {
      absl::Status s = [&]() -> absl::Status {
        RUNLOG_ASSIGN_OR_RETURN(auto f, fs_->NewWritableFile(JoinPath(
                                            staging, format::kOwnerFileName)));
        RUNLOG_RETURN_IF_ERROR(f->Append(owner_text));
        RUNLOG_RETURN_IF_ERROR(f->Close());
        return fs_->Rename(staging, dir);
      }();
      if (s.ok()) break;
      RemoveDirectoryTree(*fs_, staging).IgnoreError();
      made = s;
    }
    if (!absl::IsAlreadyExists(made) || attempt == 8) return made;
  }
  absl::StatusOr<std::unique_ptr<RunWriter>> writer =
      RunWriter::Start(fs_, dir, id, options);
  if (!writer.ok()) {
    // Nothing was written into the run yet: take it back rather than leave
    // a run that recovery could only remove once it is stale.
    RemoveDirectoryTree(*fs_, dir).IgnoreError();
  }
  return writer;
}

absl::StatusOr<absl::Time> RunStore::FileSystemNow() {
  if (options_.file_system_clock != nullptr) {
    return options_.file_system_clock->Now();
  }
  const std::string path = JoinPath(
      root_, format::kTrashDirName,
      absl::StrFormat("%s%016x", format::kClockProbePrefix, OsRandom64()));
  absl::StatusOr<FileInfo> info = [&]() -> absl::StatusOr<FileInfo> {
    RUNLOG_ASSIGN_OR_RETURN(auto f, fs_->NewWritableFile(path));
    RUNLOG_RETURN_IF_ERROR(f->Close());
    return fs_->Stat(path);
  }();
  fs_->RemoveFile(path).IgnoreError();
  if (!info.ok()) {
    return absl::Status(info.status().code(),
                        absl::StrCat("reading the file system's clock: ",
                                     info.status().message()));
  }
  return info->modified;
}

absl::Status RunStore::PurgeTrashEntry(absl::string_view name) {
  const std::string dir = JoinPath(root_, format::kTrashDirName, name);
  absl::StatusOr<FileInfo> info = fs_->Stat(dir);
  if (absl::IsNotFound(info.status())) return absl::OkStatus();
  RUNLOG_RETURN_IF_ERROR(info.status());
  // Only run directories are moved here; anything else (a stray file or a
  // symlink, which is never followed) is simply unlinked.
  if (info->type != FileType::kDirectory) {
    return IgnoreNotFound(fs_->RemoveFile(dir));
  }
  // Entries already gone (a racing peer) are fine.
  return IgnoreNotFound(RemoveDirectoryTree(*fs_, dir));
}

absl::Status RunStore::DeleteRun(absl::string_view id) {
  RUNLOG_RETURN_IF_ERROR(ValidateRunId(id));
  const std::string from = RunDir(id);
  const std::string to = JoinPath(root_, format::kTrashDirName, id);
  absl::Status moved = fs_->Rename(from, to);
  if (absl::IsNotFound(moved)) {
    return absl::NotFoundError(
        absl::StrCat("run ", id, " not found in ", root_));
  }
  RUNLOG_RETURN_IF_ERROR(moved);
  return FinishDeletion(id);
}

absl::Status RunStore::FinishDeletion(absl::string_view id) {
  // The rename is the deletion: make it durable in both directories before
  // unlinking, so a power loss can never resurrect a half-emptied run.
  RUNLOG_RETURN_IF_ERROR(fs_->SyncDir(JoinPath(root_, format::kRunsDirName)));
  RUNLOG_RETURN_IF_ERROR(fs_->SyncDir(JoinPath(root_, format::kTrashDirName)));
  return PurgeTrashEntry(id);
}

absl::StatusOr<RemovalOutcome> RunStore::RemoveIfAbandoned(absl::string_view id,
                                                           absl::Time now) {
  // One removal is a batch of one: the same move, judgement and syncs.
  const std::string ids[] = {std::string(id)};
  RUNLOG_ASSIGN_OR_RETURN(std::vector<absl::StatusOr<RemovalOutcome>> outcomes,
                          RemoveIfAbandoned(ids, now));
  return std::move(outcomes.front());
}

absl::StatusOr<RemovalOutcome> RunStore::RecheckTrashEntry(
    absl::string_view name, absl::Time now) {
  RUNLOG_ASSIGN_OR_RETURN(RemovalOutcome outcome, JudgeTrashEntry(name, now));
  if (outcome.removed) {
    absl::string_view id = name;
    absl::ConsumeSuffix(&id, format::kRecheckSuffix);
    RUNLOG_RETURN_IF_ERROR(FinishDeletion(id));
  }
  return outcome;
}

absl::StatusOr<std::vector<absl::StatusOr<RemovalOutcome>>>
RunStore::RemoveIfAbandoned(absl::Span<const std::string> ids, absl::Time now) {
  std::vector<absl::StatusOr<RemovalOutcome>> outcomes;
  outcomes.reserve(ids.size());
  bool any_removed = false;
  for (const std::string& id : ids) {
    absl::StatusOr<RemovalOutcome>& outcome =
        outcomes.emplace_back([&]() -> absl::StatusOr<RemovalOutcome> {
          RUNLOG_RETURN_IF_ERROR(ValidateRunId(id));
          const std::string check_name =
              absl::StrCat(id, format::kRecheckSuffix);
          absl::Status moved = fs_->Rename(
              RunDir(id), JoinPath(root_, format::kTrashDirName, check_name));
          if (absl::IsNotFound(moved)) {
            return absl::NotFoundError(
                absl::StrCat("run ", id, " not found in ", root_));
          }
          RUNLOG_RETURN_IF_ERROR(moved);
          return JudgeTrashEntry(check_name, now);
        }());
    any_removed = any_removed || (outcome.ok() && outcome->removed);
  }
  if (!any_removed) return outcomes;
  // The renames are the deletions: durable in both directories before any
  // unlink, as FinishDeletion() makes one, but two syncs for them all.
  RUNLOG_RETURN_IF_ERROR(fs_->SyncDir(JoinPath(root_, format::kRunsDirName)));
  RUNLOG_RETURN_IF_ERROR(fs_->SyncDir(JoinPath(root_, format::kTrashDirName)));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!outcomes[i].ok() || !outcomes[i]->removed) continue;
    absl::Status purged = PurgeTrashEntry(ids[i]);
    if (!purged.ok()) outcomes[i] = purged;
  }
  return outcomes;
}

absl::StatusOr<RemovalOutcome> RunStore::JudgeTrashEntry(absl::string_view name,
                                                         absl::Time now) {
  absl::string_view id = name;
  if (!absl::ConsumeSuffix(&id, format::kRecheckSuffix) || !IsValidRunId(id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("trash entry ", name, " is not a run being rechecked"));
  }
  const std::string trash = JoinPath(root_, format::kTrashDirName);
  const std::string dir = JoinPath(trash, name);
  // Moved out of runs/, the run takes no more path-based writes: a writer's
  // commit (its rename and directory sync) and new segments now fail. What
  // it did before the move is all here, so this judgement is final.
  absl::StatusOr<RunEntry> entry = DescribeDir(std::string(id), dir, now);
  if (absl::IsNotFound(entry.status())) {
    // A racing recheck of the same run finished first.
    return absl::NotFoundError(absl::StrCat("run ", id, " was removed"));
  }
  RemovalOutcome outcome;
  if (entry.ok() && entry->state == RunState::kAbandoned) {
    const std::string final_name(id);
    absl::Status s = fs_->Rename(dir, JoinPath(trash, final_name));
    if (absl::IsNotFound(s)) {
      return absl::NotFoundError(absl::StrCat("run ", id, " was removed"));
    }
    RUNLOG_RETURN_IF_ERROR(s);
    outcome.removed = true;
    outcome.reason = entry->detail;
    return outcome;
  }
  // Committed, written to, or now alive since it was judged (or it cannot
  // be judged any more): put it back. An acknowledged commit is never lost
  // (invariant 6).
  outcome.reason = entry.ok()
                       ? (entry->state == RunState::kCommitted
                              ? std::string("committed while being removed")
                              : absl::StrCat("written to while being removed: ",
                                             entry->detail))
                       : absl::StrCat("could not be judged again: ",
                                      entry.status().message());
  absl::Status back = fs_->Rename(dir, RunDir(id));
  if (absl::IsNotFound(back)) {
    return absl::NotFoundError(absl::StrCat("run ", id, " was removed"));
  }
  if (!back.ok()) {
    return absl::Status(
        back.code(),
        absl::StrCat("run ", id, " must be restored from ", dir, " (",
                     outcome.reason,
                     "), but the rename failed: ", back.message()));
  }
  return outcome;
}

absl::StatusOr<RunEntry> RunStore::DescribeDir(const std::string& id,
                                               const std::string& dir,
                                               absl::Time now) {
  RUNLOG_ASSIGN_OR_RETURN(FileInfo dir_info, fs_->Stat(dir));
  if (dir_info.type != FileType::kDirectory) {
    // Never follow a symlink (or anything else) planted under runs/ out of
    // the repository.
    return absl::FailedPreconditionError(
        absl::StrCat(dir, ": not a run directory"));
  }
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs_->ListDir(dir));
  RunEntry entry;
  entry.id = id;
  // The directory's own mtime counts as a write: a run just created has no
  // files yet and must look fresh, not infinitely stale.
  entry.last_write = dir_info.modified;
  bool has_commit = false;
  for (const std::string& name : names) {
    // By name, before the stat: a COMMIT that vanishes now means the run is
    // being deleted, not that it is uncommitted.
    if (ParseCommitFileName(name)) has_commit = true;
    absl::StatusOr<FileInfo> info = fs_->Stat(JoinPath(dir, name));
    if (!info.ok()) continue;  // removed meanwhile
    entry.bytes_on_disk += info->size;
    if (info->modified > entry.last_write) entry.last_write = info->modified;
  }
  if (has_commit) {
    entry.state = RunState::kCommitted;
    ManifestSource source;
    absl::StatusOr<CommitManifest> m = ReadCommitManifest(*fs_, dir, &source);
    entry.manifest_generation = source.generation;
    entry.manifest_rebuilt = source.from_record;
    if (m.ok()) {
      entry.manifest = *std::move(m);
    } else if (absl::IsNotFound(m.status())) {
      return absl::NotFoundError(absl::StrCat("run ", id, " was deleted"));
    } else {
      entry.manifest_error = m.status();
      entry.detail = std::string(m.status().message());
    }
    return entry;
  }
  const std::string owner_path = JoinPath(dir, format::kOwnerFileName);
  const absl::StatusOr<std::string> owner_text =
      ReadFileToString(*fs_, owner_path, format::kMaxOwnerFileSize);
  const absl::StatusOr<OwnerRecord> owner =
      owner_text.ok() ? DecodeOwner(*owner_text, owner_path)
                      : absl::StatusOr<OwnerRecord>(owner_text.status());
  // Deletion renames the directory away (invariant 5): OWNER missing with
  // the directory gone is a run deleted since we listed it.
  if (absl::IsNotFound(owner.status()) &&
      absl::IsNotFound(fs_->Stat(dir).status())) {
    return absl::NotFoundError(absl::StrCat("run ", id, " was deleted"));
  }
  LivenessVerdict verdict =
      DecideLiveness(owner, probe_->LocalIdentity(), *probe_, entry.last_write,
                     now, options_.staleness);
  if (!owner.ok() && !shared_ && verdict.state == RunState::kUnknown &&
      OwnerLostInPowerLoss(owner_text)) {
    // OWNER is written whole before the run is renamed into runs/, so a
    // missing, empty or zeroed one is what a power loss (or kernel crash)
    // leaves of a creation nothing synced (or what a runlog before 0.2 left
    // when killed inside CreateRun). On a disk only this machine reaches,
    // the writer ran here and died with it.
    verdict = {RunState::kAbandoned,
               absl::StrCat("OWNER lost its bytes in a power loss (",
                            verdict.reason, ")")};
  }
  entry.state = verdict.state;
  entry.detail = std::move(verdict.reason);
  return entry;
}

std::optional<LivenessVerdict> RunStore::JudgeOwnerFile(
    const std::string& path, std::optional<absl::Time> now) {
  absl::StatusOr<FileInfo> info = fs_->Stat(path);
  if (!info.ok()) return std::nullopt;
  absl::StatusOr<OwnerRecord> owner = ReadOwnerFile(*fs_, path);
  if (absl::IsNotFound(owner.status())) return std::nullopt;
  return DecideLiveness(owner, probe_->LocalIdentity(), *probe_, info->modified,
                        now ? *now : clock_->Now(), options_.staleness);
}

absl::StatusOr<RunEntry> RunStore::GetRun(absl::string_view id,
                                          std::optional<absl::Time> now) {
  RUNLOG_RETURN_IF_ERROR(ValidateRunId(id));
  absl::StatusOr<RunEntry> entry =
      DescribeDir(std::string(id), RunDir(id), now ? *now : clock_->Now());
  if (absl::IsNotFound(entry.status())) {
    return absl::NotFoundError(
        absl::StrCat("run ", id, " not found in ", root_));
  }
  return entry;
}

absl::StatusOr<std::vector<RunEntry>> RunStore::ListRuns(
    ListDetail detail, std::optional<absl::Time> now) {
  const absl::Time judged_at = now ? *now : clock_->Now();
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          fs_->ListDir(JoinPath(root_, format::kRunsDirName)));
  // kSummary: committed runs come from the catalog where it has them. A
  // missing, damaged or unreadable catalog only costs speed: everything is
  // read from the runs and the catalog is rewritten.
  std::vector<CommitManifest> catalog;
  bool catalog_read = false;
  if (detail == ListDetail::kSummary) {
    absl::StatusOr<std::vector<CommitManifest>> read =
        ReadRunCatalog(*fs_, root_);
    catalog_read = read.ok();
    if (read.ok()) catalog = *std::move(read);
  }
  absl::flat_hash_map<absl::string_view, size_t> cached;
  cached.reserve(catalog.size());
  for (size_t i = 0; i < catalog.size(); ++i) {
    cached.emplace(catalog[i].run_id, i);
  }
  std::vector<RunEntry> runs;
  runs.reserve(names.size());
  size_t hits = 0;     // catalog entries still in runs/
  bool fresh = false;  // a readable committed run the catalog lacks
  for (const std::string& name : names) {
    if (!IsValidRunId(name)) continue;
    if (detail == ListDetail::kSummary && cached.find(name) == cached.end()) {
      std::optional<CommitManifest> here;
      {
        absl::MutexLock lock(&committed_mu_);
        auto it = committed_here_.find(name);
        if (it != committed_here_.end()) here = it->second;
      }
      // Committed by this process: what its COMMIT holds, without reading
      // it, as long as runs/<id> is still the directory (one lstat) and not,
      // say, a symlink put in its place, which DescribeDir refuses.
      absl::StatusOr<FileInfo> dir =
          here ? fs_->Stat(RunDir(name)) : absl::StatusOr<FileInfo>();
      if (here && dir.ok() && dir->type == FileType::kDirectory) {
        RunEntry& entry = runs.emplace_back();
        entry.id = name;
        entry.state = RunState::kCommitted;
        entry.manifest = *std::move(here);
        fresh = true;  // not in the catalog yet
        continue;
      }
    }
    auto hit = cached.find(name);
    if (hit != cached.end()) {
      // Committed runs never change what the catalog holds, so the entry is
      // good for as long as runs/<id> exists, which this listing just saw.
      ++hits;
      RunEntry& entry = runs.emplace_back();
      entry.id = name;
      entry.state = RunState::kCommitted;
      // The key views the entry's id: drop it before moving the entry out.
      const size_t index = hit->second;
      cached.erase(hit);
      entry.manifest = std::move(catalog[index]);
      continue;
    }
    absl::StatusOr<RunEntry> entry = DescribeDir(name, RunDir(name), judged_at);
    // A network file system can answer ESTALE for one directory another
    // client renamed moments ago; a second look resolves the name afresh.
    if (absl::IsUnavailable(entry.status())) {
      entry = DescribeDir(name, RunDir(name), judged_at);
    }
    // Deleted meanwhile, or not a run directory (a stray file or symlink).
    if (absl::IsNotFound(entry.status()) ||
        absl::IsFailedPrecondition(entry.status())) {
      continue;
    }
    if (absl::IsUnavailable(entry.status())) {
      // One run that cannot be read now must not hide every other run (nor
      // fail a recovery): it is listed as unknown, which nothing deletes.
      RunEntry& unreadable = runs.emplace_back();
      unreadable.id = name;
      unreadable.state = RunState::kUnknown;
      unreadable.detail = absl::StrCat("cannot be read now (retryable): ",
                                       entry.status().message());
      unreadable.manifest_error = entry.status();
      continue;
    }
    if (!entry.ok()) return entry.status();
    fresh = fresh || (entry->state == RunState::kCommitted && entry->manifest);
    runs.push_back(*std::move(entry));
  }
  // Entries of deleted runs are dropped once they are a quarter of the
  // catalog, so it neither grows without bound in a repository where runs
  // come and go nor is rewritten at every deletion.
  const bool stale = (catalog.size() - hits) * 4 > catalog.size();
  if (detail == ListDetail::kSummary && (!catalog_read || fresh || stale) &&
      RewriteCatalog(runs)) {
    // The catalog holds them now (it holds every committed run listed).
    absl::MutexLock lock(&committed_mu_);
    for (const RunEntry& entry : runs) committed_here_.erase(entry.id);
    catalog_runs_ = runs.size();
  } else if (catalog_read) {
    absl::MutexLock lock(&committed_mu_);
    catalog_runs_ = catalog.size();
  }
  return runs;
}

void RunStore::NoteCommitted(CommitManifest manifest) {
  manifest.segments.clear();
  bool refresh = false;
  {
    absl::MutexLock lock(&committed_mu_);
    std::string id = manifest.run_id;
    committed_here_.insert_or_assign(std::move(id), std::move(manifest));
    refresh = committed_here_.size() >=
              std::max(kCatalogRefreshMin, catalog_runs_ / 8);
  }
  // The listing writes the catalog and forgets what it now holds.
  if (refresh) ListRuns(ListDetail::kSummary).IgnoreError();
}

bool RunStore::RewriteCatalog(const std::vector<RunEntry>& runs) {
  // Every committed run with a readable COMMIT, cached or just read; the
  // encoder leaves segment lists out.
  std::vector<CommitManifest> all;
  all.reserve(runs.size());
  for (const RunEntry& entry : runs) {
    if (entry.state == RunState::kCommitted && entry.manifest) {
      all.push_back(*entry.manifest);
    }
  }
  // A cache: a failure to write it (a read-only repository) is ignored.
  return WriteRunCatalog(*fs_, root_, all,
                         absl::StrFormat("%016x", OsRandom64()))
      .ok();
}

}  // namespace runlog::storage
