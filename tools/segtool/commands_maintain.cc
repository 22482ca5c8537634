// rm, recover, verify and compact: the commands that check or change runs.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "storage/run_id.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/progress_bar.h"
#include "tools/segtool/text_table.h"
#include "tracking/value_json.h"

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

// One run a command could not work on, for --json (the error also goes to
// stderr, as without --json).
Value RunErrorValue(absl::string_view run, const absl::Status& status) {
  Value::Map m;
  m["run"] = Value(std::string(run));
  m["error"] = Value(status.ToString());
  return Value(std::move(m));
}

void PrintJson(Value::Map doc, std::ostream& out) {
  out << ToJson(Value(std::move(doc)), /*pretty=*/true) << '\n';
}

}  // namespace

int Rm(const RmArgs& args, const Env& env, std::ostream& out,
       std::ostream& err) {
  if (!CheckArgs(args.repo, args.runs, err)) return kExitUsage;
  absl::StatusOr<std::unique_ptr<Repo>> repo = OpenRepo(args.repo, env);
  if (!repo.ok()) {
    PrintError(err, repo.status());
    return kExitProblem;
  }
  bool failed = false;
  Value::List deleted, errors;
  for (std::string id : args.runs) {
    const std::string given = id;
    absl::StatusOr<std::string> resolved = (*repo)->ResolveRunId(id);
    if (!resolved.ok()) {
      PrintRunError(err, id, resolved.status());
      errors.push_back(RunErrorValue(given, resolved.status()));
      failed = true;
      continue;
    }
    id = *std::move(resolved);
    DeleteOptions options;
    options.force = args.force;
    absl::Status s = (*repo)->DeleteRun(id, options);
    if (!s.ok()) {
      PrintRunError(err, id, s);
      errors.push_back(RunErrorValue(id, s));
      failed = true;
      continue;
    }
    if (args.json) {
      deleted.emplace_back(id);
    } else {
      out << "deleted " << id << '\n';
    }
  }
  if (args.json) {
    Value::Map doc;
    doc["deleted"] = Value(std::move(deleted));
    doc["errors"] = Value(std::move(errors));
    PrintJson(std::move(doc), out);
  }
  return failed ? kExitProblem : kExitOk;
}

int Recover(const RecoverArgs& args, const Env& env, std::ostream& out,
            std::ostream& err) {
  if (!CheckArgs(args.repo, {}, err)) return kExitUsage;
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
  // Not done outside a dry run means a racing process did it first.
  auto done_text = [&](const RecoveryAction& a) {
    return args.dry_run ? "no (dry run)" : a.done ? "yes" : "no (already done)";
  };
  if (args.json) {
    Value::List actions, kept;
    for (const RecoveryAction& a : report->actions) {
      Value::Map m;
      m["action"] = Value(ActionName(a.kind));
      m["path"] = Value(RelativeTo(a.path, root));
      m["done"] = Value(!args.dry_run && a.done);
      m["already_done"] = Value(!args.dry_run && !a.done);
      m["reason"] = Value(a.reason);
      actions.emplace_back(std::move(m));
    }
    for (const auto& [id, why] : report->kept) {
      Value::Map m;
      m["run"] = Value(id);
      m["why"] = Value(why);
      kept.emplace_back(std::move(m));
    }
    Value::Map doc;
    doc["dry_run"] = Value(args.dry_run);
    doc["actions"] = Value(std::move(actions));
    doc["kept"] = Value(std::move(kept));
    PrintJson(std::move(doc), out);
    return kExitOk;
  }
  if (report->actions.empty()) {
    out << "nothing to recover\n";
  } else {
    TextTable t({"ACTION", "PATH", "DONE", "REASON"});
    for (const RecoveryAction& a : report->actions) {
      t.AddRow({std::string(ActionName(a.kind)),
                SingleLine(RelativeTo(a.path, root)), done_text(a),
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
  if (!CheckArgs(args.repo, args.runs, err)) return kExitUsage;
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  const std::string& root = repo->path();
  ProgressBar progress(err, env.progress, "verify", ids.size(), "runs",
                       env.clock);
  TextTable runs({"RUN", "STATE", "RESULT", "CHECKED", "POINTS"});
  runs.SetAlign(3, TextTable::Align::kRight);
  runs.SetAlign(4, TextTable::Align::kRight);
  TextTable problems({"RUN", "FILE", "OFFSET", "PROBLEM"});
  std::vector<std::string> notes;
  problems.SetAlign(2, TextTable::Align::kRight);
  Value::List json_runs, json_errors;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    progress.Update(i);
    absl::StatusOr<VerifyReport> report = repo->VerifyRun(id);
    if (!report.ok()) {
      progress.Clear();
      PrintRunError(err, id, report.status());
      json_errors.push_back(RunErrorValue(id, report.status()));
      failed = true;
      continue;
    }
    const std::string result =
        report->problems.empty()
            ? "ok"
            : absl::StrCat(report->problems.size(), " problem",
                           report->problems.size() == 1 ? "" : "s");
    runs.AddRow({id, std::string(RunStateName(report->state)), result,
                 FormatBytes(report->bytes_checked),
                 absl::StrCat(report->points)});
    Value::List json_problems, json_notes;
    for (const std::string& note : report->notes) {
      notes.push_back(absl::StrCat(id, ": ", note));
      json_notes.emplace_back(note);
    }
    for (const VerifyProblem& p : report->problems) {
      // Paths inside the repository print relative to it, like the FILE
      // column.
      const std::string problem =
          absl::StrReplaceAll(p.status.ToString(), {{root + "/", ""}});
      problems.AddRow({id, SingleLine(RelativeTo(p.file, root)),
                       absl::StrCat(p.offset), SingleLine(problem)});
      Value::Map m;
      m["file"] = Value(RelativeTo(p.file, root));
      m["offset"] = Value(p.offset);
      m["problem"] = Value(problem);
      json_problems.emplace_back(std::move(m));
      failed = true;
    }
    Value::Map m;
    m["run"] = Value(id);
    m["state"] = Value(RunStateName(report->state));
    m["ok"] = Value(report->problems.empty());
    m["bytes_checked"] = Value(report->bytes_checked);
    m["points"] = Value(report->points);
    m["problems"] = Value(std::move(json_problems));
    m["notes"] = Value(std::move(json_notes));
    json_runs.emplace_back(std::move(m));
  }
  progress.Clear();
  if (args.json) {
    Value::Map doc;
    doc["runs"] = Value(std::move(json_runs));
    doc["errors"] = Value(std::move(json_errors));
    PrintJson(std::move(doc), out);
    return failed ? kExitProblem : kExitOk;
  }
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
  if (!CheckArgs(args.repo, args.runs, err)) return kExitUsage;
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  ProgressBar progress(err, env.progress, "compact", ids.size(), "runs",
                       env.clock);
  TextTable t({"RUN", "BEFORE", "AFTER", "RATIO", "POINTS", "NOTE"});
  for (size_t c = 1; c < 5; ++c) t.SetAlign(c, TextTable::Align::kRight);
  uint64_t total_before = 0;
  uint64_t total_after = 0;
  Value::List json_runs, json_errors;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    progress.Update(i);
    // Listing first keeps uncommitted runs out of compaction with a note,
    // rather than a FailedPrecondition error for what is normal.
    absl::StatusOr<storage::RunEntry> entry = repo->store().GetRun(id);
    if (!entry.ok()) {
      progress.Clear();
      PrintRunError(err, id, entry.status());
      json_errors.push_back(RunErrorValue(id, entry.status()));
      failed = true;
      continue;
    }
    Value::Map m;
    m["run"] = Value(id);
    if (entry->state != storage::RunState::kCommitted) {
      const std::string note = absl::StrCat("skipped: not committed (",
                                            RunStateName(entry->state), ")");
      t.AddRow({id, FormatBytes(entry->bytes_on_disk), "-", "-", "-", note});
      m["bytes_before"] = Value(entry->bytes_on_disk);
      m["bytes_after"] = Value();
      m["points"] = Value();
      m["compacted"] = Value(false);
      m["note"] = Value(note);
      json_runs.emplace_back(std::move(m));
      continue;
    }
    absl::StatusOr<CompactionReport> report = repo->CompactRun(id);
    if (!report.ok()) {
      progress.Clear();
      PrintRunError(err, id, report.status());
      json_errors.push_back(RunErrorValue(id, report.status()));
      failed = true;
      continue;
    }
    total_before += report->bytes_before;
    total_after += report->bytes_after;
    const std::string note =
        report->already_compacted ? "already compacted" : "";
    t.AddRow({id, FormatBytes(report->bytes_before),
              FormatBytes(report->bytes_after),
              Percent(report->bytes_after, report->bytes_before),
              absl::StrCat(report->points), note});
    m["bytes_before"] = Value(report->bytes_before);
    m["bytes_after"] = Value(report->bytes_after);
    m["points"] = Value(report->points);
    m["compacted"] = Value(true);
    m["note"] = Value(note);
    json_runs.emplace_back(std::move(m));
  }
  progress.Clear();
  if (args.json) {
    Value::Map doc;
    doc["runs"] = Value(std::move(json_runs));
    doc["bytes_before"] = Value(total_before);
    doc["bytes_after"] = Value(total_after);
    doc["errors"] = Value(std::move(json_errors));
    PrintJson(std::move(doc), out);
    return failed ? kExitProblem : kExitOk;
  }
  t.AddRow({"total", FormatBytes(total_before), FormatBytes(total_after),
            Percent(total_after, total_before), "", ""});
  t.Print(out);
  return failed ? kExitProblem : kExitOk;
}

}  // namespace runlog::segtool
