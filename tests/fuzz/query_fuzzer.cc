// Fuzz target: the query language (tracking/query/). The input is query
// text. It is parsed as a filter, as one field and as a sort key; a filter
// that parses is evaluated over a few runs with params, tags, series of
// every kind and NaNs, and sorted by the field when that parses.
// Properties: no crash, leak or hang; every error is InvalidArgument whose
// message starts with the source name given ("query:", "field:",
// "order_by:") and, past the length check, a line and column.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tracking/query/fields.h"
#include "tracking/query/parser.h"
#include "tracking/query/query.h"
#include "tracking/repo.h"
#include "tracking/value_json.h"

namespace runlog::fuzz {
namespace {

void CheckError(const absl::Status& s, absl::string_view source) {
  if (s.ok()) return;
  if (!absl::IsInvalidArgument(s) ||
      !absl::StartsWith(s.message(), absl::StrCat(source, ":"))) {
    std::fprintf(stderr, "unexpected error: %s\n", s.ToString().c_str());
    std::abort();
  }
}

std::vector<RunRecord> MakeRuns() {
  std::vector<RunRecord> runs;
  const char* params[] = {
      R"({"lr": 0.001, "model": "resnet", "layers": [64, 128],
          "opt": {"name": "adam", "beta": 0.9}, "amp": true, "n": null})",
      R"({"lr": "0.01", "model": "ViT-B/16", "seed": -3, "flat.key": 1e300})",
      R"({})"};
  for (int i = 0; i < 3; ++i) {
    RunRecord r;
    r.id = absl::StrCat("run", i);
    r.state = i == 2 ? storage::RunState::kLive : storage::RunState::kCommitted;
    r.status = i == 2 ? RunStatus::kRunning : RunStatus::kFinished;
    r.summary.experiment = i ? "sweep" : "";
    r.summary.name = absl::StrCat("n", i);
    r.summary.created = absl::FromUnixSeconds(1'700'000'000 + i);
    r.ended =
        i == 2 ? absl::InfinitePast() : r.summary.created + absl::Hours(i);
    r.summary.params = *ParseJson(params[i]);
    r.summary.tags = {"baseline", "env=prod"};
    SeriesSummary s;
    s.key = SeriesKey{"loss", i ? Context{{"subset", "train"}} : Context{}};
    s.Add(0, 1.5);
    s.Add(10, i == 1 ? std::nan("") : -0.0);
    r.summary.series.push_back(s);
    SeriesSummary t;
    t.key = SeriesKey{"notes", {}};
    t.kind = SeriesKind::kText;
    t.AddStep(3);
    r.summary.series.push_back(t);
    runs.push_back(std::move(r));
  }
  return runs;
}

void FuzzQuery(absl::string_view text) {
  static const std::vector<RunRecord>* runs =
      new std::vector<RunRecord>(MakeRuns());
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  absl::StatusOr<query::Field> field = query::ParseField(text, "field");
  CheckError(field.status(), "field");
  if (field.ok()) {
    for (const RunRecord& r : *runs) query::FieldValue(*field, r, now);
  }
  absl::StatusOr<query::OrderKey> key = query::ParseOrderKey(text, "order_by");
  CheckError(key.status(), "order_by");
  absl::StatusOr<query::RunQuery> q = query::RunQuery::Compile(
      text, key.ok() ? std::vector<std::string>{std::string(text)}
                     : std::vector<std::string>{});
  CheckError(q.status(), "query");
  if (!q.ok()) return;
  std::vector<RunRecord> picked;
  for (const RunRecord& r : *runs) {
    if (q->Matches(r, now)) picked.push_back(r);
  }
  q->SortAndPage(&picked, 0, std::nullopt, now);
}

}  // namespace
}  // namespace runlog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  runlog::fuzz::FuzzQuery(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
