#include "tools/segtool/cli.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <utility>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "tools/segtool/format.h"
#include "tools/segtool/version.h"
#include "tools/serve/serve_command.h"
#include "tracking/query/suggest.h"

namespace runlog::segtool {
namespace {

constexpr const char* kStates[] = {"committed", "live", "abandoned", "unknown"};
constexpr const char* kStatuses[] = {"running", "finished",  "failed",
                                     "crashed", "abandoned", "damaged"};

// The values a run selector accepts, for --help and validation.
std::vector<std::string> Names(const char* const* begin,
                               const char* const* end) {
  return std::vector<std::string>(begin, end);
}

absl::StatusOr<int64_t> ParseStep(absl::string_view text,
                                  absl::string_view whole) {
  int64_t step = 0;
  if (!absl::SimpleAtoi(text, &step)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--steps ", QuoteArg(whole), ": '", QuoteArg(text),
                     "' is not an integer step (expected A:B, A:, :B or A)"));
  }
  return step;
}

std::vector<CLI::App*> Children(CLI::App* app) {
  return app->get_subcommands(std::function<bool(CLI::App*)>());
}

// The flags `app` takes ("--json", "-h", ...).
std::vector<std::string> FlagNames(const CLI::App* app) {
  std::vector<std::string> names;
  for (const CLI::Option* o : app->get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& n : o->get_snames()) names.push_back("-" + n);
  }
  return names;
}

std::string DidYouMean(absl::string_view word,
                       const std::vector<std::string>& candidates) {
  const std::string pick = query::ClosestMatch(word, candidates);
  return pick.empty() ? "" : absl::StrCat(" (did you mean ", pick, "?)");
}

// After CLI11 refused `args`: the first word that looks like a flag but is
// none of the flags of the (sub)command it follows, as "unknown flag '--x'
// for segtool cat (did you mean --y?)"; "" when there is none (the error is
// of another kind). CLI11 reports such a word as an unexpected argument, or
// not at all when a required subcommand is missing ("segtool --versoin").
std::string UnknownFlagMessage(const std::vector<std::string>& args,
                               CLI::App* app) {
  CLI::App* current = app;
  std::string path = "segtool";
  for (const std::string& arg : args) {
    if (arg == "--") break;
    const bool flag_like = arg.size() > 1 && arg[0] == '-' &&
                           !absl::ascii_isdigit(arg[1]) && arg[1] != '.';
    if (flag_like) {
      const std::string name = arg.substr(0, arg.find('='));
      const std::vector<std::string> known = FlagNames(current);
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      return absl::StrCat("unknown flag '", QuoteArg(name), "' for ", path,
                          DidYouMean(name, known), " (try ", path, " --help)");
    }
    for (CLI::App* child : Children(current)) {
      if (child->get_name() == arg) {
        current = child;
        absl::StrAppend(&path, " ", arg);
        break;
      }
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<StepRange> ParseSteps(absl::string_view text) {
  StepRange range;
  const size_t colon = text.find(':');
  if (colon == absl::string_view::npos) {
    absl::StatusOr<int64_t> step = ParseStep(text, text);
    if (!step.ok()) return step.status();
    range.first = range.last = *step;
    return range;
  }
  const absl::string_view a = text.substr(0, colon);
  const absl::string_view b = text.substr(colon + 1);
  if (a.empty() && b.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--steps ", QuoteArg(text), ": give at least one end (A:B, A: or :B)"));
  }
  if (!a.empty()) {
    absl::StatusOr<int64_t> first = ParseStep(a, text);
    if (!first.ok()) return first.status();
    range.first = *first;
  }
  if (!b.empty()) {
    absl::StatusOr<int64_t> last = ParseStep(b, text);
    if (!last.ok()) return last.status();
    range.last = *last;
  }
  if (range.first > range.last) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--steps ", QuoteArg(text), ": the first step is after the last"));
  }
  return range;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseContextEntry(
    absl::string_view text) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--context ", QuoteArg(text), ": expected key=value"));
  }
  return std::make_pair(std::string(text.substr(0, eq)),
                        std::string(text.substr(eq + 1)));
}

int RunCli(const std::vector<std::string>& args, const Env& env,
           std::ostream& out, std::ostream& err) {
  CLI::App app(
      "Inspect, verify, recover, delete, compact and export the runs of a "
      "runlog repository.",
      "segtool");
  app.set_version_flag("--version", absl::StrCat("segtool ", kVersion),
                       "Print the version and exit");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 success; 1 a problem found or an operation failed (a "
      "missing repository or run, damage, a refused deletion or copy); 2 "
      "usage error (an unknown command or flag, a bad value, an empty path, "
      "a malformed run id), reported before any file is touched.");

  // ---- ls ----
  LsArgs ls_args;
  std::string ls_state, ls_status, ls_experiment, ls_tag, ls_columns;
  size_t ls_limit = 0;
  CLI::App* ls = app.add_subcommand("ls", "List the runs of a repository");
  ls->add_option("repo", ls_args.repo, "Repository directory")->required();
  CLI::Option* ls_json_opt =
      ls->add_flag("--json", ls_args.json, "JSON output");
  CLI::Option* ls_exp_opt = ls->add_option("--experiment", ls_experiment,
                                           "Only runs of this experiment");
  CLI::Option* ls_tag_opt =
      ls->add_option("--tag", ls_tag, "Only runs with this tag");
  CLI::Option* ls_state_opt =
      ls->add_option("--state", ls_state, "Only runs in this state")
          ->check(CLI::IsMember(Names(std::begin(kStates), std::end(kStates))));
  CLI::Option* ls_status_opt =
      ls->add_option("--status", ls_status, "Only runs with this status")
          ->check(
              CLI::IsMember(Names(std::begin(kStatuses), std::end(kStatuses))));
  ls->add_option("--where", ls_args.where,
                 "Only runs the query selects (docs/query.md), e.g. "
                 "\"metrics.acc > 0.9 and params.model = 'resnet'\"");
  ls->add_option("--sort", ls_args.sort,
                 "Sort by FIELD[:desc] (repeatable; missing values last)");
  CLI::Option* ls_limit_opt =
      ls->add_option("--limit", ls_limit, "At most N runs")
          ->check(CLI::NonNegativeNumber);
  ls->add_option("--offset", ls_args.offset, "Skip the first N runs")
      ->check(CLI::NonNegativeNumber);
  CLI::Option* ls_columns_opt = ls->add_option(
      "--columns", ls_columns,
      "Comma-separated fields to show, e.g. params.lr,metrics.loss.min "
      "(default: params that differ and the last value of shared metrics)");
  ls->add_flag("--csv", ls_args.csv, "CSV output")->excludes(ls_json_opt);

  // ---- show ----
  ShowArgs show_args;
  CLI::App* show =
      app.add_subcommand("show", "Metadata, params and series of one run");
  show->add_option("repo", show_args.repo, "Repository directory")->required();
  show->add_option("run", show_args.run, "Run id")->required();
  show->add_flag("--json", show_args.json, "JSON output");

  // ---- cat ----
  CatArgs cat_args;
  std::vector<std::string> cat_context;
  std::string cat_steps;
  int64_t cat_max_points = 0;
  bool cat_csv = false, cat_json = false;
  CLI::App* cat = app.add_subcommand("cat", "The points of one series");
  cat->add_option("repo", cat_args.repo, "Repository directory")->required();
  cat->add_option("run", cat_args.run, "Run id")->required();
  cat->add_option("series", cat_args.series.name, "Series name")->required();
  cat->add_option("--context", cat_context,
                  "Context entry key=value of the series (repeatable)")
      ->expected(1)
      ->take_all();
  cat->add_option("--steps", cat_steps,
                  "Inclusive step range A:B; A: and :B leave an end open");
  CLI::Option* cat_max_opt =
      cat->add_option("--max-points", cat_max_points,
                      "Downsample a scalar series to at most N points (N >= 2)")
          ->type_name("N");
  CLI::Option* cat_csv_opt = cat->add_flag("--csv", cat_csv, "CSV output");
  CLI::Option* cat_json_opt = cat->add_flag("--json", cat_json, "JSON output");
  cat_csv_opt->excludes(cat_json_opt);

  // ---- rm ----
  RmArgs rm_args;
  CLI::App* rm = app.add_subcommand("rm", "Delete runs");
  rm->add_option("repo", rm_args.repo, "Repository directory")->required();
  rm->add_option("runs", rm_args.runs, "Run ids")->required();
  rm->add_flag("--force", rm_args.force,
               "Delete even runs whose writer is alive, or may be (another "
               "host's uncommitted run)");
  rm->add_flag("--json", rm_args.json, "JSON output");

  // ---- recover ----
  RecoverArgs recover_args;
  CLI::App* recover = app.add_subcommand(
      "recover", "Delete abandoned runs and leftovers of interrupted work");
  recover->add_option("repo", recover_args.repo, "Repository directory")
      ->required();
  recover->add_flag("--dry-run", recover_args.dry_run,
                    "Report what would be done; change nothing");
  recover->add_flag("--salvage", recover_args.salvage,
                    "Keep abandoned runs: commit their readable prefix with "
                    "status crashed instead of deleting them");
  recover->add_flag("--json", recover_args.json, "JSON output");
  std::string recover_staleness;
  CLI::Option* recover_staleness_opt = recover->add_option(
      "--staleness", recover_staleness,
      "How long an uncommitted run of another host (or one whose writer "
      "cannot be probed) must show no sign of life before it counts as "
      "abandoned, e.g. 90m, 6h (default 24h; measured on the file system's "
      "clock)");

  // ---- verify ----
  VerifyArgs verify_args;
  CLI::App* verify = app.add_subcommand(
      "verify", "Check every checksum, length and manifest of runs");
  verify->add_option("repo", verify_args.repo, "Repository directory")
      ->required();
  verify->add_option("runs", verify_args.runs, "Run ids (default: all runs)");
  verify->add_flag("--json", verify_args.json, "JSON output");

  // ---- compact ----
  CompactArgs compact_args;
  CLI::App* compact = app.add_subcommand(
      "compact", "Rewrite committed runs into compact column segments");
  compact->add_option("repo", compact_args.repo, "Repository directory")
      ->required();
  compact->add_option("runs", compact_args.runs,
                      "Run ids (default: all committed runs)");
  compact->add_flag("--json", compact_args.json, "JSON output");

  // ---- cp, mv ----
  // One positional list, split here: REPO first, DEST_REPO last, the runs
  // between (CLI11 cannot put a positional after a list of them).
  std::vector<std::string> cp_words, mv_words;
  bool cp_json = false, mv_json = false;
  CLI::App* cp = app.add_subcommand(
      "cp", "Copy committed runs into another repository (same ids)");
  cp->add_option("args", cp_words,
                 "REPO RUN... DEST_REPO: the source repository, run ids "
                 "(or unique prefixes), the destination repository (created "
                 "when missing or empty)")
      ->required();
  cp->add_flag("--json", cp_json, "JSON output");
  CLI::App* mv = app.add_subcommand(
      "mv",
      "Move committed runs into another repository (copied, verified, then "
      "deleted from REPO)");
  mv->add_option("args", mv_words,
                 "REPO RUN... DEST_REPO: the source repository, run ids "
                 "(or unique prefixes), the destination repository (created "
                 "when missing or empty)")
      ->required();
  mv->add_flag("--json", mv_json, "JSON output");

  // ---- export ----
  ExportArgs export_args;
  std::string export_format = "jsonl";
  CLI::App* exp = app.add_subcommand(
      "export", "Every point (and, in JSONL, the metadata) of runs");
  exp->add_option("repo", export_args.repo, "Repository directory")->required();
  exp->add_option("runs", export_args.runs, "Run ids (default: all runs)");
  exp->add_option("--format", export_format,
                  "csv, jsonl or tensorboard (default jsonl)")
      ->check(CLI::IsMember({"csv", "jsonl", "tensorboard"}));
  exp->add_option("--output", export_args.output,
                  "Write to FILE instead of standard output (tensorboard: "
                  "the directory to write one event file per run into)");

  // ---- import ----
  ImportArgs import_args;
  std::string import_experiment;
  CLI::App* imp = app.add_subcommand(
      "import",
      "Import TensorBoard, MLflow, W&B offline, CSV or HF Trainer logs");
  imp->require_subcommand(1);
  std::vector<std::pair<CLI::App*, ImportFormat>> import_formats;
  for (const auto& [name, format, source_help] :
       std::vector<std::tuple<const char*, ImportFormat, const char*>>{
           {"tensorboard", ImportFormat::kTensorBoard, "TensorBoard logdir"},
           {"mlflow", ImportFormat::kMlflow, "mlruns directory or mlflow.db"},
           {"wandb", ImportFormat::kWandb,
            "wandb directory (offline runs run-*/run-*.wandb)"},
           {"csv", ImportFormat::kCsv, "CSV or TSV file"},
           {"hf-trainer-state", ImportFormat::kHfTrainerState,
            "Hugging Face Trainer trainer_state.json"}}) {
    CLI::App* sub = imp->add_subcommand(name, source_help);
    sub->add_option("source", import_args.source, source_help)->required();
    sub->add_option("repo", import_args.repo, "Repository directory")
        ->required();
    sub->add_option("--experiment", import_experiment,
                    "Experiment of the runs made");
    sub->add_flag("--dry-run", import_args.dry_run,
                  "Read everything, report what would be imported, write "
                  "nothing");
    sub->add_flag("--update", import_args.update,
                  "Import sources that changed since their import again, "
                  "replacing the old run");
    sub->add_flag("--skip-damaged", import_args.skip_damaged,
                  "Skip damaged records instead of failing the run");
    if (format == ImportFormat::kMlflow) {
      sub->add_option("--experiment-id", import_args.experiment_ids,
                      "Only runs of this MLflow experiment (repeatable)");
    }
    import_formats.emplace_back(sub, format);
  }

  // ---- serve ----
  serve::ServeArgs serve_args;
  CLI::App* serve_cmd = app.add_subcommand(
      "serve", "Serve the web UI and its JSON API until Ctrl-C (docs/ui.md)");
  serve_cmd->add_option("repo", serve_args.repo, "Repository directory")
      ->required();
  serve_cmd->add_option("--host", serve_args.host,
                        "Address to listen on (default 127.0.0.1; another "
                        "one makes the runs readable from the network)");
  serve_cmd
      ->add_option("--port", serve_args.port,
                   "Port (default 43800; 0 picks a free one)")
      ->check(CLI::Range(0, 65535));

  // A first word that is not an option nor a command would otherwise be
  // reported as an unexpected argument; name it as the unknown command.
  const std::vector<CLI::App*> commands = Children(&app);
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      std::none_of(commands.begin(), commands.end(),
                   [&](CLI::App* c) { return c->get_name() == args[0]; })) {
    std::vector<std::string> names;
    for (CLI::App* c : commands) names.push_back(c->get_name());
    err << "segtool: unknown command '" << QuoteArg(args[0]) << "'"
        << DidYouMean(args[0], names) << " (try segtool --help)\n";
    return kExitUsage;
  }

  try {
    // CLI11 consumes a reversed argument vector.
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(e, out, err);  // --help or --version
    }
    if (const std::string unknown = UnknownFlagMessage(args, &app);
        !unknown.empty()) {
      err << "segtool: " << unknown << '\n';
      return kExitUsage;
    }
    err << "segtool: " << SingleLine(e.what()) << " (try --help)\n";
    return kExitUsage;
  }

  if (ls->parsed()) {
    if (ls_exp_opt->count()) ls_args.experiment = ls_experiment;
    if (ls_tag_opt->count()) ls_args.tag = ls_tag;
    if (ls_state_opt->count()) ls_args.state = ls_state;
    if (ls_status_opt->count()) ls_args.status = ls_status;
    if (ls_limit_opt->count()) ls_args.limit = ls_limit;
    if (ls_columns_opt->count()) ls_args.columns = ls_columns;
    return Ls(ls_args, env, out, err);
  }
  if (show->parsed()) return Show(show_args, env, out, err);
  if (cat->parsed()) {
    for (const std::string& entry : cat_context) {
      absl::StatusOr<std::pair<std::string, std::string>> kv =
          ParseContextEntry(entry);
      if (!kv.ok()) {
        err << "segtool: " << SingleLine(kv.status().message()) << '\n';
        return kExitUsage;
      }
      if (!cat_args.series.context.insert(*std::move(kv)).second) {
        err << "segtool: --context " << QuoteArg(entry)
            << ": key given twice\n";
        return kExitUsage;
      }
    }
    if (!cat_steps.empty()) {
      absl::StatusOr<StepRange> range = ParseSteps(cat_steps);
      if (!range.ok()) {
        err << "segtool: " << SingleLine(range.status().message()) << '\n';
        return kExitUsage;
      }
      cat_args.steps = *range;
    }
    if (cat_max_opt->count()) cat_args.max_points = cat_max_points;
    cat_args.format = cat_csv    ? CatFormat::kCsv
                      : cat_json ? CatFormat::kJson
                                 : CatFormat::kText;
    return Cat(cat_args, env, out, err);
  }
  if (rm->parsed()) return Rm(rm_args, env, out, err);
  if (recover->parsed()) {
    if (recover_staleness_opt->count()) {
      absl::Duration d;
      if (!absl::ParseDuration(recover_staleness, &d) ||
          d <= absl::ZeroDuration()) {
        err << "segtool: --staleness " << QuoteArg(recover_staleness)
            << ": not a positive duration (e.g. 90m, 6h, 2h30m)\n";
        return kExitUsage;
      }
      Env with = env;
      with.staleness = d;
      return Recover(recover_args, with, out, err);
    }
    return Recover(recover_args, env, out, err);
  }
  if (verify->parsed()) return Verify(verify_args, env, out, err);
  for (auto [sub, words, json] : {std::make_tuple(cp, &cp_words, cp_json),
                                  std::make_tuple(mv, &mv_words, mv_json)}) {
    if (!sub->parsed()) continue;
    if (words->size() < 3) {
      err << "segtool: " << sub->get_name()
          << " needs REPO, at least one RUN and DEST_REPO (try segtool "
          << sub->get_name() << " --help)\n";
      return kExitUsage;
    }
    CopyArgs copy;
    copy.repo = words->front();
    copy.runs.assign(words->begin() + 1, words->end() - 1);
    copy.dest = words->back();
    copy.json = json;
    copy.move = sub == mv;
    return Copy(copy, env, out, err);
  }
  if (compact->parsed()) return Compact(compact_args, env, out, err);
  if (exp->parsed() && export_format == "tensorboard") {
    if (export_args.output.empty()) {
      err << "segtool: export --format tensorboard needs --output DIR\n";
      return kExitUsage;
    }
    return ExportTensorBoard(
        {export_args.repo, export_args.runs, export_args.output}, env, out,
        err);
  }
  for (const auto& [sub, format] : import_formats) {
    if (!sub->parsed()) continue;
    import_args.format = format;
    for (const auto& [other, unused] : import_formats) {
      if (other->get_option("--experiment")->count()) {
        import_args.experiment = import_experiment;
      }
    }
    return Import(import_args, env, out, err);
  }
  if (exp->parsed()) {
    export_args.format =
        export_format == "csv" ? ExportFormat::kCsv : ExportFormat::kJsonl;
    return Export(export_args, env, out, err);
  }
  if (serve_cmd->parsed()) return serve::RunServe(serve_args, out, err);
  err << "segtool: no command given (try segtool --help)\n";
  return kExitUsage;
}

}  // namespace runlog::segtool
