// rm, recover, verify and compact: the commands that check or change runs.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "storage/run_id.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/text_table.h"

namespace runlog::segtool {
namespace {

using storage::RecoveryAction;

absl::string_view ActionName(RecoveryAction::Kind kind) {
  switch (kind) {
    case RecoveryAction::Kind::kDeleteAbandonedRun:
      return "delete abandoned run";
    case RecoveryAction::Kind::kPurgeTrash:
      return "purge trash";
    case RecoveryAction::Kind::kRemoveTempFile:
      return "remove temp file";
    case RecoveryAction::Kind::kRemoveUnreferencedSegment:
      return "remove unreferenced segment";
    case RecoveryAction::Kind::kSalvageAbandonedRun:
      return "salvage abandoned run";
    case RecoveryAction::Kind::kRemoveStaleCompaction:
      return "remove stale compaction";
    case RecoveryAction::Kind::kRecheckRemoval:
      return "finish interrupted removal";
    case RecoveryAction::Kind::kRemoveOldManifest:
      return "remove superseded manifest";
    case RecoveryAction::Kind::kRepairManifest:
      return "repair manifest";
    case RecoveryAction::Kind::kRemoveUnfinishedCreation:
      return "remove unfinished creation";
  }
  return "unknown action";
}

std::string Percent(uint64_t part, uint64_t whole) {
  if (whole == 0) return "-";
  return absl::StrFormat(
      "%.1f%%", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

int Rm(const RmArgs& args, const Env& env, std::ostream& out,
       std::ostream& err) {
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  bool failed = false;
  for (std::string id : args.runs) {
    if (!ResolveRun(**repo, &id, err)) {
      failed = true;
      continue;
    }
    DeleteOptions options;
    options.force = args.force;
    absl::Status s = (*repo)->DeleteRun(id, options);
    if (!s.ok()) {
      PrintRunError(err, id, s);
      failed = true;
      continue;
    }
    out << "deleted " << id << '\n';
  }
  return failed ? kExitProblem : kExitOk;
}

int Recover(const RecoverArgs& args, const Env& env, std::ostream& out,
            std::ostream& err) {
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  runlog::RecoverOptions options;
  options.dry_run = args.dry_run;
  options.salvage = args.salvage;
  absl::StatusOr<storage::RecoveryReport> report = (*repo)->Recover(options);
  if (!report.ok()) {
    PrintError(err, report.status());
    return kExitProblem;
  }
  const std::string& root = (*repo)->path();
  if (report->actions.empty()) {
    out << "nothing to recover\n";
  } else {
    TextTable t({"ACTION", "PATH", "DONE", "REASON"});
    for (const RecoveryAction& a : report->actions) {
      // Not done outside a dry run means a racing process did it first.
      const char* done = args.dry_run ? "no (dry run)"
                         : a.done     ? "yes"
                                      : "no (already done)";
      t.AddRow({std::string(ActionName(a.kind)),
                SingleLine(RelativeTo(a.path, root)), done,
                SingleLine(a.reason)});
    }
    t.Print(out);
  }
  if (!report->kept.empty()) {
    out << '\n';
    TextTable t({"KEPT RUN", "WHY"});
    for (const auto& [id, why] : report->kept) {
      t.AddRow({id, SingleLine(why)});
    }
    t.Print(out);
  }
  if (args.dry_run) out << "\ndry run: nothing was changed\n";
  return kExitOk;
}

int Verify(const VerifyArgs& args, const Env& env, std::ostream& out,
           std::ostream& err) {
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  const std::string& root = repo->path();
  Progress progress(err, env.progress, "verifying", ids.size());
  TextTable runs({"RUN", "STATE", "RESULT", "CHECKED", "POINTS"});
  runs.SetAlign(3, TextTable::Align::kRight);
  runs.SetAlign(4, TextTable::Align::kRight);
  TextTable problems({"RUN", "FILE", "OFFSET", "PROBLEM"});
  std::vector<std::string> notes;
  problems.SetAlign(2, TextTable::Align::kRight);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    progress.Step(i, id);
    absl::StatusOr<VerifyReport> report = repo->VerifyRun(id);
    if (!report.ok()) {
      progress.Clear();
      PrintRunError(err, id, report.status());
      failed = true;
      continue;
    }
    runs.AddRow({id, std::string(RunStateName(report->state)),
                 report->problems.empty()
                     ? "ok"
                     : absl::StrCat(report->problems.size(), " problem",
                                    report->problems.size() == 1 ? "" : "s"),
                 FormatBytes(report->bytes_checked),
                 absl::StrCat(report->points)});
    for (const std::string& note : report->notes) {
      notes.push_back(absl::StrCat(id, ": ", note));
    }
    for (const VerifyProblem& p : report->problems) {
      problems.AddRow({id, SingleLine(RelativeTo(p.file, root)),
                       absl::StrCat(p.offset),
                       // Paths inside the repository print relative to it,
                       // like the FILE column.
                       SingleLine(absl::StrReplaceAll(p.status.ToString(),
                                                      {{root + "/", ""}}))});
      failed = true;
    }
  }
  progress.Clear();
  runs.Print(out);
  if (problems.rows() > 0) {
    out << '\n';
    problems.Print(out);
  }
  if (!notes.empty()) {
    out << '\n';
    for (const std::string& note : notes) out << "note: " << note << '\n';
  }
  return failed ? kExitProblem : kExitOk;
}

int Compact(const CompactArgs& args, const Env& env, std::ostream& out,
            std::ostream& err) {
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  Progress progress(err, env.progress, "compacting", ids.size());
  TextTable t({"RUN", "BEFORE", "AFTER", "RATIO", "POINTS", "NOTE"});
  for (size_t c = 1; c < 5; ++c) t.SetAlign(c, TextTable::Align::kRight);
  uint64_t total_before = 0;
  uint64_t total_after = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    progress.Step(i, id);
    // Listing first keeps uncommitted runs out of compaction with a note,
    // rather than a FailedPrecondition error for what is normal.
    absl::StatusOr<storage::RunEntry> entry = repo->store().GetRun(id);
    if (!entry.ok()) {
      progress.Clear();
      PrintRunError(err, id, entry.status());
      failed = true;
      continue;
    }
    if (entry->state != storage::RunState::kCommitted) {
      t.AddRow({id, FormatBytes(entry->bytes_on_disk), "-", "-", "-",
                absl::StrCat("skipped: not committed (",
                             RunStateName(entry->state), ")")});
      continue;
    }
    absl::StatusOr<CompactionReport> report = repo->CompactRun(id);
    if (!report.ok()) {
      progress.Clear();
      PrintRunError(err, id, report.status());
      failed = true;
      continue;
    }
    total_before += report->bytes_before;
    total_after += report->bytes_after;
    t.AddRow({id, FormatBytes(report->bytes_before),
              FormatBytes(report->bytes_after),
              Percent(report->bytes_after, report->bytes_before),
              absl::StrCat(report->points),
              report->already_compacted ? "already compacted" : ""});
  }
  progress.Clear();
  t.AddRow({"total", FormatBytes(total_before), FormatBytes(total_after),
            Percent(total_after, total_before), "", ""});
  t.Print(out);
  return failed ? kExitProblem : kExitOk;
}

}  // namespace runlog::segtool
