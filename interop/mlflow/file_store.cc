// The MLflow file store: mlruns/<experiment id>/meta.yaml and
// mlruns/<experiment id>/<run id>/{meta.yaml,params/,tags/,metrics/}.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "interop/mlflow/metric_line.h"
#include "interop/mlflow/mlflow_run.h"
#include "interop/source_files.h"

namespace runlog::interop {
namespace {

// The flat "key: value" lines MLflow's meta.yaml files hold (yaml.safe_dump
// of a flat dict); quoted scalars are unquoted, nested or multi-line values
// are not needed and ignored.
std::map<std::string, std::string> ParseFlatYaml(absl::string_view text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == ' ' || line[0] == '-' || line[0] == '#') {
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    absl::string_view v = absl::StripAsciiWhitespace(line.substr(colon + 1));
    if (v.size() >= 2 && ((v.front() == '\'' && v.back() == '\'') ||
                          (v.front() == '"' && v.back() == '"'))) {
      v = v.substr(1, v.size() - 2);
    }
    out[std::string(absl::StripAsciiWhitespace(line.substr(0, colon)))] =
        std::string(v);
  }
  return out;
}

std::string StatusName(absl::string_view code) {
  // RunStatus of mlflow/protos/service.proto.
  if (code == "1") return "RUNNING";
  if (code == "2") return "SCHEDULED";
  if (code == "3") return "FINISHED";
  if (code == "4") return "FAILED";
  if (code == "5") return "KILLED";
  return std::string(code);
}

}  // namespace

absl::Status VisitFileStore(const std::string& root, uint64_t* bytes_read,
                            std::vector<std::string>* notes,
                            const MlflowRunVisitor& visit) {
  absl::StatusOr<SourceWalk> walk = WalkSource(root);
  if (!walk.ok()) return walk.status();
  for (const std::string& s : walk->skipped) notes->push_back(s);
  // Files by run directory "<exp>/<run>"; experiment metas by "<exp>".
  std::map<std::string, std::vector<const SourceFile*>> runs;
  std::map<std::string, std::string> experiment_names;
  for (const SourceFile& f : walk->files) {
    std::vector<std::string> parts = absl::StrSplit(f.relative, '/');
    if (parts.empty() || parts[0] == ".trash") continue;
    if (parts.size() == 2 && parts[1] == "meta.yaml") {
      absl::StatusOr<std::string> text = ReadSourceFile(f.path, 1 << 20);
      if (!text.ok()) continue;
      *bytes_read += text->size();
      experiment_names[parts[0]] = ParseFlatYaml(*text)["name"];
    } else if (parts.size() >= 3) {
      runs[absl::StrCat(parts[0], "/", parts[1])].push_back(&f);
    }
  }
  for (auto& [dir, files] : runs) {
    const size_t slash = dir.find('/');
    MlflowRun run;
    run.experiment_id = dir.substr(0, slash);
    run.id = dir.substr(slash + 1);
    run.experiment_name = experiment_names[run.experiment_id];
    bool has_meta = false;
    std::vector<const SourceFile*> metrics;
    for (const SourceFile* f : files) {
      const std::string rel = f->relative.substr(dir.size() + 1);
      if (rel == "meta.yaml") {
        absl::StatusOr<std::string> text = ReadSourceFile(f->path, 1 << 20);
        if (!text.ok()) return text.status();
        *bytes_read += text->size();
        std::map<std::string, std::string> meta = ParseFlatYaml(*text);
        has_meta = true;
        if (!meta["run_id"].empty()) run.id = meta["run_id"];
        run.name = meta["run_name"];
        run.status = StatusName(meta["status"]);
        run.lifecycle_stage = meta["lifecycle_stage"];
      } else if (absl::StartsWith(rel, "params/") ||
                 absl::StartsWith(rel, "tags/")) {
        absl::StatusOr<std::string> text = ReadSourceFile(f->path, 1 << 20);
        if (!text.ok()) return text.status();
        *bytes_read += text->size();
        const bool param = absl::StartsWith(rel, "params/");
        (param ? run.params : run.tags)
            .emplace_back(rel.substr(param ? 7 : 5), *std::move(text));
      } else if (absl::StartsWith(rel, "metrics/")) {
        metrics.push_back(f);
      }
    }
    if (!has_meta) continue;  // not a run directory
    std::vector<SourceFile> listed;
    for (const SourceFile* f : files) listed.push_back(*f);
    run.fingerprint = FingerprintFiles(listed);
    run.write_metrics = [metrics, dir, bytes_read](RunSink& sink) {
      for (const SourceFile* f : metrics) {
        const std::string key = f->relative.substr(dir.size() + 9);
        absl::StatusOr<std::string> text = ReadSourceFile(f->path);
        if (!text.ok()) return text.status();
        *bytes_read += text->size();
        MetricLine m;
        int64_t bad = 0;
        for (absl::string_view line : absl::StrSplit(*text, '\n')) {
          if (line.empty()) continue;
          if (!ParseMetricLine(line, &m)) {
            ++bad;
            continue;
          }
          absl::Status s =
              sink.Scalar(key, {}, m.step, m.value, m.timestamp_ms * 1000);
          if (absl::IsInvalidArgument(s)) {
            ++sink.report()
                  .skipped[absl::StrCat("metric ", key, ": ", s.message())];
          } else if (!s.ok()) {
            return s;
          }
        }
        if (bad > 0) {
          sink.report().skipped[absl::StrCat(
              "metrics/", key, ": line that is not 'timestamp value step'")] +=
              bad;
        }
      }
      return absl::OkStatus();
    };
    absl::Status s = visit(run);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace runlog::interop
