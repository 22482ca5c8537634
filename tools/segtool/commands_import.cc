// import (every format) and export --format tensorboard: thin shells over
// interop/.
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "interop/csv/importer.h"
#include "interop/hf/trainer_state_importer.h"
#include "interop/import_session.h"
#include "interop/mlflow/importer.h"
#include "interop/source_files.h"
#include "interop/tensorboard/exporter.h"
#include "interop/tensorboard/importer.h"
#include "interop/wandb/importer.h"
#include "tools/segtool/commands.h"
#include "tools/segtool/common.h"
#include "tools/segtool/format.h"
#include "tools/segtool/progress_bar.h"

namespace runlog::segtool {
namespace {

const char* FormatName(ImportFormat f) {
  switch (f) {
    case ImportFormat::kTensorBoard:
      return interop::kTensorBoardFormat;
    case ImportFormat::kMlflow:
      return interop::kMlflowFormat;
    case ImportFormat::kWandb:
      return interop::kWandbFormat;
    case ImportFormat::kCsv:
      return interop::kCsvFormat;
    case ImportFormat::kHfTrainerState:
      return interop::kTrainerStateFormat;
  }
  return "";
}

}  // namespace

int Import(const ImportArgs& args, const Env& env, std::ostream& out,
           std::ostream& err) {
  if (!CheckArgs(args.repo, {}, err)) return kExitUsage;
  if (args.source.empty()) {
    err << "segtool: source path is empty\n";
    return kExitUsage;
  }
  interop::ImportOptions options;
  options.experiment = args.experiment;
  options.dry_run = args.dry_run;
  options.update = args.update;
  options.skip_damaged = args.skip_damaged;
  // Drawn once the importer knows how many source runs there are.
  std::optional<ProgressBar> progress;
  size_t drawn_total = 0;
  if (env.progress) {
    options.progress = [&](size_t i, size_t total, absl::string_view) {
      if (!progress || total != drawn_total) {
        progress.emplace(err, true, "import", total, "runs", env.clock);
        drawn_total = total;
      }
      progress->Update(i);
    };
  }
  // A missing source must not leave a new, empty repository behind.
  if (absl::StatusOr<std::string> source = interop::CanonicalPath(args.source);
      !source.ok()) {
    PrintError(err, source.status());
    return kExitProblem;
  }
  // ImportSession decides create_if_missing (not in a dry run).
  const RepoOptions repo_options = RepoOptionsFor(env);
  absl::StatusOr<std::unique_ptr<interop::ImportSession>> session =
      interop::ImportSession::Open(args.repo, repo_options,
                                   FormatName(args.format), options);
  if (!session.ok()) {
    PrintError(err, session.status());
    return kExitProblem;
  }
  absl::Status s;
  switch (args.format) {
    case ImportFormat::kTensorBoard:
      s = interop::ImportTensorBoard(args.source, session->get());
      break;
    case ImportFormat::kCsv:
      s = interop::ImportCsv(args.source, session->get());
      break;
    case ImportFormat::kHfTrainerState:
      s = interop::ImportTrainerState(args.source, session->get());
      break;
    case ImportFormat::kMlflow:
      s = interop::ImportMlflow(args.source, args.experiment_ids,
                                session->get());
      break;
    case ImportFormat::kWandb:
      s = interop::ImportWandb(args.source, session->get());
      break;
  }
  if (progress) progress->Clear();
  const interop::ImportReport& report = (*session)->report();
  // What was imported before an error is reported too.
  if (s.ok() || !report.runs.empty()) {
    out << interop::FormatImportReport(report);
  }
  if (!s.ok()) {
    PrintError(err, s);
    return kExitProblem;
  }
  return report.failed() > 0 ? kExitProblem : kExitOk;
}

int ExportTensorBoard(const TensorBoardExportArgs& args, const Env& env,
                      std::ostream& out, std::ostream& err) {
  if (!CheckArgs(args.repo, args.runs, err)) return kExitUsage;
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  // Every id is checked before anything is written (see Export).
  if (failed) return kExitProblem;
  ProgressBar progress(err, env.progress, "export", ids.size(), "runs",
                       env.clock);
  for (size_t i = 0; i < ids.size(); ++i) {
    progress.Update(i);
    absl::StatusOr<interop::TensorBoardExport> e =
        interop::ExportRunToTensorBoard(*repo, ids[i], args.output, env.fs);
    if (!e.ok()) {
      progress.Clear();
      PrintRunError(err, ids[i], e.status());
      failed = true;
      continue;
    }
    out << "exported " << ids[i] << ": " << e->series << " series, "
        << e->points << " points to " << e->file << '\n';
    for (const auto& [why, n] : e->skipped) {
      out << "  skipped " << n << " x " << why << '\n';
    }
  }
  progress.Clear();
  return failed ? kExitProblem : kExitOk;
}

}  // namespace runlog::segtool
