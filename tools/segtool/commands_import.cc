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
  interop::ImportOptions options;
  options.experiment = args.experiment;
  options.dry_run = args.dry_run;
  options.update = args.update;
  options.skip_damaged = args.skip_damaged;
  // Drawn once the importer knows how many source runs there are.
  std::optional<Progress> progress;
  size_t drawn_total = 0;
  if (env.progress) {
    options.progress = [&](size_t i, size_t total, absl::string_view name) {
      if (!progress || total != drawn_total) {
        progress.emplace(err, true, "importing", total);
        drawn_total = total;
      }
      progress->Step(i, name);
    };
  }
  // A missing source must not leave a new, empty repository behind.
  if (absl::StatusOr<std::string> source = interop::CanonicalPath(args.source);
      !source.ok()) {
    PrintError(err, source.status());
    return kExitProblem;
  }
  RepoOptions repo_options;
  repo_options.fs = env.fs;
  repo_options.clock = env.clock;
  repo_options.file_system_clock = env.file_system_clock;
  repo_options.probe = env.probe;
  repo_options.staleness = env.staleness;
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
  std::optional<Selection> selection =
      OpenAndSelect(args.repo, args.runs, env, err);
  if (!selection) return kExitProblem;
  auto& [repo, ids, failed] = *selection;
  Progress progress(err, env.progress, "exporting", ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    progress.Step(i, ids[i]);
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
