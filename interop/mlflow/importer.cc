#include "interop/mlflow/importer.h"

#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "interop/mlflow/mlflow_run.h"
#include "interop/source_files.h"
#include "tracking/codec/record_format.h"

namespace runlog::interop {

std::optional<std::string> MlflowFailure(absl::string_view status) {
  if (status == "FINISHED") return std::nullopt;
  if (status == "FAILED" || status == "KILLED") {
    return absl::StrCat("mlflow status ", status);
  }
  if (status == "RUNNING" || status == "SCHEDULED") {
    return absl::StrCat(
        "mlflow status ", status,
        ": the run never ended in MLflow (its process died, or it is still "
        "running; --update imports it again once it ends)");
  }
  return absl::StrCat("mlflow status '", status, "' unknown");
}

absl::Status ImportMlflow(const std::string& source,
                          const std::vector<std::string>& experiment_ids,
                          ImportSession* session) {
  ImportReport& report = session->report();
  report.source = source;
  absl::StatusOr<std::string> root = CanonicalPath(source);
  if (!root.ok()) return root.status();
  size_t index = 0;
  auto visit = [&](MlflowRun& run) -> absl::Status {
    if (!experiment_ids.empty() &&
        std::find(experiment_ids.begin(), experiment_ids.end(),
                  run.experiment_id) == experiment_ids.end()) {
      return absl::OkStatus();
    }
    if (run.lifecycle_stage == "deleted") {
      report.notes.push_back(
          absl::StrCat("run ", run.id, ": deleted in MLflow, not imported"));
      return absl::OkStatus();
    }
    SourceRun src;
    src.key = absl::StrCat("mlflow:", run.id);
    src.fingerprint = run.fingerprint;
    src.experiment =
        run.experiment_name.empty() ? kMlflowFormat : run.experiment_name;
    src.name = run.name;
    for (const auto& [k, v] : run.tags) {
      if (k == "mlflow.runName" && src.name.empty()) src.name = v;
      if (k == "mlflow.note.content") src.description = v;
    }
    if (src.name.empty()) src.name = run.id;
    src.tags = {"imported"};
    // Also as runlog tags "key=value", which the query language reads as
    // MLflow's valued tags (tags.mlflow.user = 'ann', docs/query.md); the
    // whole set stays in the param map mlflow_tags.
    for (const auto& [k, v] : run.tags) {
      if (src.tags.size() >= record::kMaxTags) break;
      std::string tag = absl::StrCat(k, "=", v);
      if (tag.size() <= record::kMaxMetaStringLength) {
        src.tags.push_back(std::move(tag));
      }
    }
    if (session->options().progress) {
      // The total is unknown until the store is read: the count so far.
      session->options().progress(index, index + 1, src.name);
    }
    ++index;
    absl::StatusOr<std::unique_ptr<RunSink>> sink = session->Begin(src);
    if (!sink.ok()) return sink.status();
    if (*sink == nullptr) return absl::OkStatus();
    RunSink& s = **sink;
    absl::Status st;
    for (const auto& [k, v] : run.params) {
      st = s.Param(k, Value(v));
      if (absl::IsInvalidArgument(st)) {
        ++s.report().skipped[absl::StrCat("param ", k, ": ", st.message())];
        st = absl::OkStatus();
      }
      if (!st.ok()) break;
    }
    if (st.ok() && !run.tags.empty()) {
      Value::Map tags;
      for (const auto& [k, v] : run.tags) tags[k] = Value(v);
      Value::Map patch;
      patch["mlflow_tags"] = Value(std::move(tags));
      st = s.Params(Value(std::move(patch)));
      if (absl::IsInvalidArgument(st)) {
        ++s.report().skipped[absl::StrCat("tags: ", st.message())];
        st = absl::OkStatus();
      }
    }
    if (st.ok()) st = run.write_metrics(s);
    if (!st.ok()) {
      session->Abandon(*std::move(sink), st);
      return absl::OkStatus();
    }
    if (std::optional<std::string> failure = MlflowFailure(run.status)) {
      s.SetFailure(*failure);
    }
    session->End(*std::move(sink)).IgnoreError();  // in the report
    return absl::OkStatus();
  };
  struct stat st;
  if (stat(root->c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    return VisitSqliteStore(*root, &report.bytes_read, visit);
  }
  return VisitFileStore(*root, &report.bytes_read, &report.notes, visit);
}

}  // namespace runlog::interop
