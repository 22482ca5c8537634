#include "interop/hf/trainer_state_importer.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "interop/source_files.h"
#include "tracking/value_json.h"

namespace runlog::interop {
namespace {

bool Number(const Value& v, double* out) {
  if (v.is_int()) {
    *out = static_cast<double>(v.as_int());
    return true;
  }
  if (v.is_double()) {
    *out = v.as_double();
    return true;
  }
  return false;
}

}  // namespace

absl::Status ImportTrainerState(const std::string& file,
                                ImportSession* session) {
  ImportReport& report = session->report();
  report.source = file;
  absl::StatusOr<std::string> path = CanonicalPath(file);
  if (!path.ok()) return path.status();
  absl::StatusOr<SourceWalk> walk = WalkSource(*path);
  if (!walk.ok()) return walk.status();
  if (walk->files.size() != 1 || !walk->files[0].relative.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(file, ": not a regular file"));
  }
  absl::StatusOr<std::string> text = ReadSourceFile(*path);
  if (!text.ok()) return text.status();
  report.bytes_read += text->size();
  SourceRun src;
  src.key = absl::StrCat(kTrainerStateFormat, ":", *path);
  src.fingerprint = FingerprintFiles(walk->files);
  src.experiment = kTrainerStateFormat;
  src.name = path->substr(path->find_last_of('/') + 1);
  src.tags = {"imported"};
  absl::StatusOr<std::unique_ptr<RunSink>> opened = session->Begin(src);
  if (!opened.ok()) return opened.status();
  if (*opened == nullptr) return absl::OkStatus();
  std::unique_ptr<RunSink> sink = *std::move(opened);
  absl::StatusOr<Value> state = ParseJson(*text);
  if (!state.ok() || !state->is_map()) {
    session->Abandon(
        std::move(sink),
        absl::DataLossError(absl::StrCat(
            *path, ": not a trainer_state.json: ",
            state.ok() ? "not a JSON object" : state.status().message())));
    return absl::OkStatus();
  }
  Value::Map rest;
  const Value* history = nullptr;
  for (const auto& [k, v] : state->as_map()) {
    if (k == "log_history") {
      history = &v;
    } else {
      rest.emplace(k, v);
    }
  }
  absl::Status s;
  if (!rest.empty()) {
    Value::Map patch;
    patch["trainer_state"] = Value(std::move(rest));
    s = sink->Params(Value(std::move(patch)));
    if (absl::IsInvalidArgument(s)) {
      ++sink->report()
            .skipped[absl::StrCat("trainer_state fields: ", s.message())];
      s = absl::OkStatus();
    }
  }
  if (history != nullptr && history->is_list()) {
    int64_t index = 0;
    for (const Value& entry : history->as_list()) {
      const int64_t i = index++;
      if (!s.ok()) break;
      if (!entry.is_map()) {
        ++sink->report().skipped["log_history entry that is not an object"];
        continue;
      }
      double d;
      int64_t step = i;
      if (const Value* st = entry.Find("step"); st && Number(*st, &d)) {
        step = static_cast<int64_t>(d);
      }
      double epoch = std::nan("");
      if (const Value* ep = entry.Find("epoch"); ep && Number(*ep, &d)) {
        epoch = d;
      }
      for (const auto& [k, v] : entry.as_map()) {
        if (k == "step" || k == "epoch") continue;
        if (!Number(v, &d)) continue;  // strings, nulls: not metrics
        s = sink->Scalar(k, {}, step, d, kNoTime, epoch);
        if (absl::IsInvalidArgument(s)) {
          ++sink->report()
                .skipped[absl::StrCat("point of ", k, ": ", s.message())];
          s = absl::OkStatus();
        }
        if (!s.ok()) break;
      }
    }
  } else {
    ++sink->report().skipped["no log_history list"];
  }
  if (!s.ok()) {
    session->Abandon(std::move(sink), s);
    return absl::OkStatus();
  }
  session->End(std::move(sink)).IgnoreError();  // in the report
  return absl::OkStatus();
}

}  // namespace runlog::interop
