#include "interop/wandb/importer.h"

#include <cmath>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "interop/proto/wandb.pb.h"
#include "interop/source_files.h"
#include "interop/wandb/log_reader.h"
#include "tracking/value_json.h"

namespace runlog::interop {
namespace {

std::string ItemKey(const wandb::Item& item) {
  if (item.nested_key_size() == 0) return item.key();
  return absl::StrJoin(item.nested_key(), "/");
}

// Sets `value` at the item's path (nested keys are map levels), keys kept
// whole even when they hold dots.
Value NestedPatch(const wandb::Item& item, Value value) {
  std::vector<std::string> path;
  if (item.nested_key_size() == 0) {
    path.push_back(item.key());
  } else {
    path.assign(item.nested_key().begin(), item.nested_key().end());
  }
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Value::Map m;
    m.emplace(*it, std::move(value));
    value = Value(std::move(m));
  }
  return value;
}

bool AsNumber(const Value& v, double* out) {
  switch (v.kind()) {
    case Value::Kind::kInt:
      *out = static_cast<double>(v.as_int());
      return true;
    case Value::Kind::kDouble:
      *out = v.as_double();
      return true;
    case Value::Kind::kBool:
      *out = v.as_bool() ? 1 : 0;
      return true;
    default:
      return false;
  }
}

int64_t TimestampMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

struct RunState {
  std::optional<int> exit_code;
  Value summary = Value::EmptyMap();
  std::map<std::string, int64_t> stats_index;
  int64_t out_lines[2] = {0, 0};
  int64_t next_step = 0;
};

absl::Status Skip(RunSink& sink, absl::Status s, absl::string_view what) {
  if (absl::IsInvalidArgument(s)) {
    ++sink.report().skipped[absl::StrCat(what, ": ", s.message())];
    return absl::OkStatus();
  }
  return s;
}

absl::Status ApplyConfig(const wandb::ConfigRecord& c, RunSink& sink) {
  for (const wandb::Item& item : c.update()) {
    absl::StatusOr<Value> v = ParseJson(item.value_json());
    if (!v.ok()) {
      ++sink.report().skipped["config item whose value is not JSON"];
      continue;
    }
    if (item.nested_key_size() == 0 && item.key() == kImportParam) {
      ++sink.report().skipped["config runlog_import: reserved"];
      continue;
    }
    absl::Status s = Skip(sink, sink.Params(NestedPatch(item, *std::move(v))),
                          absl::StrCat("config ", ItemKey(item)));
    if (!s.ok()) return s;
  }
  if (c.remove_size() > 0) {
    sink.report().skipped["config removal: params only grow"] +=
        c.remove_size();
  }
  return absl::OkStatus();
}

absl::Status ApplyHistory(const wandb::HistoryRecord& h, RunSink& sink,
                          RunState& state) {
  std::vector<std::pair<std::string, Value>> values;
  std::optional<int64_t> step;
  int64_t time = kNoTime;
  if (h.has_step()) step = h.step().num();
  for (const wandb::Item& item : h.item()) {
    absl::StatusOr<Value> v = ParseJson(item.value_json());
    if (!v.ok()) {
      ++sink.report().skipped["history value that is not JSON"];
      continue;
    }
    const std::string key = ItemKey(item);
    double d;
    if (key == "_step" && AsNumber(*v, &d)) {
      if (!step) step = static_cast<int64_t>(d);
      continue;
    }
    if (key == "_timestamp" && AsNumber(*v, &d)) {
      if (std::isfinite(d)) time = std::llround(d * 1e6);
      continue;
    }
    values.emplace_back(key, *std::move(v));
  }
  const int64_t st = step ? *step : state.next_step;
  state.next_step = st + 1;
  for (auto& [key, v] : values) {
    double d;
    absl::Status s;
    if (AsNumber(v, &d)) {
      s = sink.Scalar(key, {}, st, d, time);
    } else if (v.is_string()) {
      s = sink.Text(key, {}, st, v.as_string(), time);
    } else if (v.is_null()) {
      continue;
    } else {
      const Value* type = v.Find("_type");
      ++sink.report().skipped[absl::StrCat(
          "history value of type ",
          type && type->is_string() ? type->as_string() : KindName(v.kind()),
          ": not imported")];
      continue;
    }
    s = Skip(sink, std::move(s), absl::StrCat("history ", key));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ApplyRecord(const wandb::Record& r, RunSink& sink,
                         RunState& state) {
  switch (r.record_type_case()) {
    case wandb::Record::kHistory:
      return ApplyHistory(r.history(), sink, state);
    case wandb::Record::kConfig:
      return ApplyConfig(r.config(), sink);
    case wandb::Record::kRun:
      return r.run().has_config() ? ApplyConfig(r.run().config(), sink)
                                  : absl::OkStatus();
    case wandb::Record::kSummary:
      for (const wandb::Item& item : r.summary().update()) {
        absl::StatusOr<Value> v = ParseJson(item.value_json());
        if (!v.ok()) {
          ++sink.report().skipped["summary value that is not JSON"];
          continue;
        }
        MergeInto(state.summary, NestedPatch(item, *std::move(v)))
            .IgnoreError();  // re-checked when set as a param at the end
      }
      return absl::OkStatus();
    case wandb::Record::kStats: {
      const int64_t time = TimestampMicros(r.stats().timestamp());
      for (const wandb::Item& item : r.stats().item()) {
        absl::StatusOr<Value> v = ParseJson(item.value_json());
        double d;
        if (!v.ok() || !AsNumber(*v, &d)) {
          ++sink.report().skipped["system metric that is not a number"];
          continue;
        }
        const std::string name = absl::StrCat("system/", item.key());
        absl::Status s = Skip(
            sink, sink.Scalar(name, {}, state.stats_index[name]++, d, time),
            name);
        if (!s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case wandb::Record::kOutput:
    case wandb::Record::kOutputRaw: {
      const wandb::OutputRecord& o =
          r.record_type_case() == wandb::Record::kOutput ? r.output()
                                                         : r.output_raw();
      const int which = o.output_type() == 1 ? 1 : 0;  // STDOUT = 1
      return Skip(sink,
                  sink.Text(which ? "output/stdout" : "output/stderr", {},
                            state.out_lines[which]++, o.line(),
                            o.has_timestamp() ? TimestampMicros(o.timestamp())
                                              : kNoTime),
                  "output");
    }
    case wandb::Record::kExit:
      state.exit_code = r.exit().exit_code();
      return absl::OkStatus();
    case wandb::Record::RECORD_TYPE_NOT_SET:
      ++sink.report().skipped["record of a kind runlog does not know"];
      return absl::OkStatus();
    default: {
      const auto* field = wandb::Record::descriptor()->FindFieldByNumber(
          static_cast<int>(r.record_type_case()));
      ++sink.report().skipped[absl::StrCat(field ? field->name() : "unknown",
                                           " record: not imported")];
      return absl::OkStatus();
    }
  }
}

// The run record (the first one) or nullopt, for naming the run.
std::optional<wandb::RunRecord> FindRunRecord(absl::string_view bytes,
                                              absl::string_view file) {
  std::optional<wandb::RunRecord> found;
  WandbLogScan scan;
  wandb::Record r;
  ScanWandbLog(
      bytes, file, /*skip_damaged=*/true,
      [&](absl::string_view data, uint64_t) {
        if (r.ParseFromArray(data.data(), static_cast<int>(data.size())) &&
            r.has_run()) {
          found = r.run();
          return absl::CancelledError("found");
        }
        return absl::OkStatus();
      },
      &scan)
      .IgnoreError();
  return found;
}

}  // namespace

absl::Status ImportWandbBytes(absl::string_view bytes, absl::string_view path,
                              bool skip_damaged, RunSink& sink) {
  RunState state;
  wandb::Record r;
  WandbLogScan scan;
  absl::Status s = ScanWandbLog(
      bytes, path, skip_damaged,
      [&](absl::string_view data, uint64_t offset) -> absl::Status {
        if (!r.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
          if (skip_damaged) {
            ++sink.report().skipped["record that is not a W&B Record"];
            return absl::OkStatus();
          }
          return absl::DataLossError(
              absl::StrCat(path, ": offset ", offset, ": not a W&B Record (",
                           data.size(), " bytes that do not parse)"));
        }
        return ApplyRecord(r, sink, state);
      },
      &scan);
  if (!s.ok()) return s;
  if (scan.torn_at) {
    sink.report().warnings.push_back(
        absl::StrCat("torn record at offset ", *scan.torn_at, " (",
                     bytes.size() - *scan.torn_at,
                     " bytes); imported the records before it"));
  }
  for (const std::string& d : scan.damage) {
    sink.report().warnings.push_back(absl::StrCat("skipped damage: ", d));
  }
  if (!state.summary.as_map().empty()) {
    Value::Map patch;
    patch["wandb_summary"] = std::move(state.summary);
    s = Skip(sink, sink.Params(Value(std::move(patch))), "summary");
    if (!s.ok()) return s;
  }
  if (!state.exit_code) {
    sink.SetFailure(
        "wandb: no exit record (the process died, or is still running)");
  } else if (*state.exit_code != 0) {
    sink.SetFailure(absl::StrCat("wandb exit code ", *state.exit_code));
  }
  return absl::OkStatus();
}

absl::Status ImportWandb(const std::string& dir, ImportSession* session) {
  ImportReport& report = session->report();
  report.source = dir;
  absl::StatusOr<std::string> root = CanonicalPath(dir);
  if (!root.ok()) return root.status();
  absl::StatusOr<SourceWalk> walk = WalkSource(*root);
  if (!walk.ok()) return walk.status();
  for (const std::string& s : walk->skipped) report.notes.push_back(s);
  std::vector<const SourceFile*> files;
  for (const SourceFile& f : walk->files) {
    const std::string name = f.path.substr(f.path.find_last_of('/') + 1);
    if (absl::StartsWith(name, "run-") && absl::EndsWith(name, ".wandb")) {
      files.push_back(&f);
    }
  }
  if (files.empty()) report.notes.push_back("no run-*.wandb files");
  for (size_t i = 0; i < files.size(); ++i) {
    const SourceFile& f = *files[i];
    absl::StatusOr<std::string> bytes = ReadSourceFile(f.path);
    if (!bytes.ok()) return bytes.status();
    report.bytes_read += bytes->size();
    std::optional<wandb::RunRecord> run = FindRunRecord(*bytes, f.path);
    SourceRun src;
    src.key = absl::StrCat(
        "wandb:", run && !run->run_id().empty() ? run->run_id() : f.path);
    src.fingerprint = FingerprintFiles({f});
    src.experiment =
        run && !run->project().empty() ? run->project() : kWandbFormat;
    src.name =
        run && !run->display_name().empty()
            ? run->display_name()
            : (run && !run->run_id().empty() ? run->run_id() : f.relative);
    if (run) {
      src.description = run->notes();
      src.tags.assign(run->tags().begin(), run->tags().end());
    }
    src.tags.push_back("imported");
    if (session->options().progress) {
      session->options().progress(i, files.size(), src.name);
    }
    absl::StatusOr<std::unique_ptr<RunSink>> sink = session->Begin(src);
    if (!sink.ok()) return sink.status();
    if (*sink == nullptr) continue;
    absl::Status s = ImportWandbBytes(*bytes, f.path,
                                      session->options().skip_damaged, **sink);
    if (!s.ok()) {
      session->Abandon(*std::move(sink), s);
      continue;
    }
    session->End(*std::move(sink)).IgnoreError();  // in the report
  }
  return absl::OkStatus();
}

}  // namespace runlog::interop
