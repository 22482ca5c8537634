#include "interop/csv/importer.h"

#include <cmath>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "interop/csv/context_text.h"
#include "interop/csv/csv_reader.h"
#include "interop/source_files.h"
#include "tracking/value_json.h"

namespace runlog::interop {
namespace {

constexpr const char* kStepColumns[] = {"step",
                                        "global_step",
                                        "steps_done",
                                        "total timesteps",
                                        "total_timesteps",
                                        "timesteps",
                                        "episode",
                                        "num_episodes"};

bool ParseNumber(absl::string_view s, double* v) {
  if (s == "NaN" || s == "nan") {
    *v = std::nan("");
    return true;
  }
  if (s == "Infinity" || s == "inf") {
    *v = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Infinity" || s == "-inf") {
    *v = -std::numeric_limits<double>::infinity();
    return true;
  }
  return absl::SimpleAtod(s, v);
}

// An integer step; also "12.0" (pandas writes integer columns with NaNs as
// floats).
bool ParseStep(absl::string_view s, int64_t* step) {
  if (absl::SimpleAtoi(s, step)) return true;
  double d;
  if (!absl::SimpleAtod(s, &d) || !std::isfinite(d) || d != std::floor(d) ||
      std::fabs(d) > 9e15) {
    return false;
  }
  *step = static_cast<int64_t>(d);
  return true;
}

struct Source {
  std::string path;
  std::string name;
  std::string fingerprint;
};

// Long files: one sink per source run, opened at its first row.
absl::Status ImportLong(absl::string_view text, const Source& src,
                        ImportSession* session) {
  std::map<std::string, std::unique_ptr<RunSink>> sinks;
  std::map<std::string, bool> skipped_runs;  // unchanged/changed
  ImportedRun file_level;
  bool header = true;
  absl::Status read = ReadCsv(
      text, ',',
      [&](const std::vector<absl::string_view>& f,
          int64_t line) -> absl::Status {
        if (header) {
          header = false;
          return absl::OkStatus();
        }
        if (f.size() != 8) {
          ++file_level
                .skipped[absl::StrCat("row of ", f.size(), " cells, not 8")];
          return absl::OkStatus();
        }
        const std::string run(f[0]);
        if (skipped_runs.count(run)) return absl::OkStatus();
        auto it = sinks.find(run);
        if (it == sinks.end()) {
          SourceRun s;
          s.key = absl::StrCat("csv:", src.path, "#", run);
          s.fingerprint = src.fingerprint;
          s.experiment = kCsvFormat;
          s.name = run;
          s.tags = {"imported"};
          absl::StatusOr<std::unique_ptr<RunSink>> sink = session->Begin(s);
          if (!sink.ok()) return sink.status();
          if (*sink == nullptr) {
            skipped_runs[run] = true;
            return absl::OkStatus();
          }
          it = sinks.emplace(run, *std::move(sink)).first;
        }
        RunSink& sink = *it->second;
        auto skip = [&](absl::string_view why) {
          ++sink.report().skipped[std::string(why)];
          return absl::OkStatus();
        };
        absl::StatusOr<Context> context = ParseContextText(f[2]);
        if (!context.ok()) return skip("row with a malformed context");
        int64_t step;
        if (!absl::SimpleAtoi(f[4], &step)) {
          return skip("row whose step is not an integer");
        }
        double epoch = std::nan("");
        if (!f[5].empty() && !ParseNumber(f[5], &epoch)) {
          return skip("row whose epoch is not a number");
        }
        int64_t time = kNoTime;
        if (!f[6].empty()) {
          absl::Time t;
          std::string err;
          if (!absl::ParseTime(absl::RFC3339_full, f[6], &t, &err)) {
            return skip("row whose time is not RFC 3339");
          }
          time = absl::ToUnixMicros(t);
        }
        const absl::string_view kind = f[3];
        absl::Status s;
        if (kind == "scalar") {
          double v;
          if (!ParseNumber(f[7], &v))
            return skip("scalar that is not a number");
          s = sink.Scalar(f[1], *context, step, v, time, epoch);
        } else if (kind == "text") {
          s = sink.Text(f[1], *context, step, f[7], time);
        } else if (kind == "histogram") {
          absl::StatusOr<Value> v = ParseJson(f[7]);
          const Value* edges = v.ok() ? v->Find("edges") : nullptr;
          const Value* counts = v.ok() ? v->Find("counts") : nullptr;
          if (edges == nullptr || counts == nullptr || !edges->is_list() ||
              !counts->is_list()) {
            return skip("histogram that is not {\"edges\", \"counts\"}");
          }
          Histogram h;
          for (const Value& e : edges->as_list()) {
            h.edges.push_back(e.is_int() ? static_cast<double>(e.as_int())
                                         : e.as_double());
          }
          for (const Value& c : counts->as_list()) {
            h.counts.push_back(c.is_int() ? static_cast<double>(c.as_int())
                                          : c.as_double());
          }
          s = sink.Hist(f[1], *context, step, std::move(h), time);
        } else if (kind == "blob") {
          return skip("blob rows: a CSV export holds no blob data");
        } else {
          return skip("row of an unknown kind");
        }
        if (absl::IsInvalidArgument(s)) {
          return skip(absl::StrCat("point: ", s.message()));
        }
        (void)line;
        return s;
      });
  for (auto& [run, sink] : sinks) {
    for (const auto& [why, n] : file_level.skipped) {
      sink->report().skipped[why] += n;
    }
    if (read.ok()) {
      session->End(std::move(sink)).IgnoreError();
    } else {
      session->Abandon(std::move(sink),
                       absl::Status(read.code(), absl::StrCat(src.path, ": ",
                                                              read.message())));
    }
  }
  if (!read.ok() && sinks.empty()) {
    session->report().notes.push_back(
        absl::StrCat(src.path, ": ", read.message()));
  }
  return absl::OkStatus();
}

absl::Status ImportWide(absl::string_view text, char delimiter,
                        const Source& src, ImportSession* session) {
  SourceRun s;
  s.key = absl::StrCat("csv:", src.path);
  s.fingerprint = src.fingerprint;
  s.experiment = kCsvFormat;
  s.name = src.name;
  s.tags = {"imported"};
  absl::StatusOr<std::unique_ptr<RunSink>> opened = session->Begin(s);
  if (!opened.ok()) return opened.status();
  if (*opened == nullptr) return absl::OkStatus();
  std::unique_ptr<RunSink> sink = *std::move(opened);
  std::vector<std::string> columns;
  int step_column = -1;
  int epoch_column = -1;
  std::vector<bool> index_columns;  // step and episode counters, epoch
  int64_t row = 0;
  auto skip = [&](const std::string& why) { ++sink->report().skipped[why]; };
  absl::Status read = ReadCsv(
      text, delimiter,
      [&](const std::vector<absl::string_view>& f, int64_t) -> absl::Status {
        if (columns.empty()) {
          for (absl::string_view c : f) {
            columns.emplace_back(absl::StripAsciiWhitespace(c));
          }
          std::vector<bool> index(columns.size(), false);
          for (const char* name : kStepColumns) {
            for (size_t i = 0; i < columns.size(); ++i) {
              if (absl::AsciiStrToLower(columns[i]) != name) continue;
              index[i] = true;
              if (step_column < 0) step_column = static_cast<int>(i);
            }
          }
          for (size_t i = 0; i < columns.size(); ++i) {
            if (absl::AsciiStrToLower(columns[i]) == "epoch") {
              epoch_column = static_cast<int>(i);
              index[i] = true;
            }
          }
          index_columns = std::move(index);
          return absl::OkStatus();
        }
        const int64_t this_row = row++;
        if (f.size() != columns.size()) {
          skip(absl::StrCat("row of ", f.size(), " cells under a header of ",
                            columns.size()));
          return absl::OkStatus();
        }
        int64_t step = this_row;
        if (step_column >= 0) {
          const absl::string_view cell =
              absl::StripAsciiWhitespace(f[step_column]);
          if (!ParseStep(cell, &step)) {
            skip(absl::StrCat("row whose ", columns[step_column],
                              " is not an integer"));
            return absl::OkStatus();
          }
        }
        double epoch = std::nan("");
        if (epoch_column >= 0) {
          const absl::string_view cell =
              absl::StripAsciiWhitespace(f[epoch_column]);
          if (!cell.empty() && !ParseNumber(cell, &epoch)) {
            epoch = std::nan("");
          }
        }
        for (size_t i = 0; i < f.size(); ++i) {
          if (index_columns[i]) continue;
          const absl::string_view cell = absl::StripAsciiWhitespace(f[i]);
          if (cell.empty()) continue;
          double v;
          if (!ParseNumber(cell, &v)) {
            skip(absl::StrCat("cell of ", columns[i], " that is not a number"));
            continue;
          }
          if (columns[i].empty()) {
            skip("column without a name");
            continue;
          }
          absl::Status s =
              sink->Scalar(columns[i], {}, step, v, kNoTime, epoch);
          if (absl::IsInvalidArgument(s)) {
            skip(absl::StrCat("point: ", s.message()));
          } else if (!s.ok()) {
            return s;
          }
        }
        return absl::OkStatus();
      });
  if (!read.ok()) {
    session->Abandon(std::move(sink),
                     absl::Status(read.code(), absl::StrCat(src.path, ": ",
                                                            read.message())));
    return absl::OkStatus();
  }
  return session->End(std::move(sink)).ok() ? absl::OkStatus()
                                            : absl::OkStatus();
}

}  // namespace

absl::Status ImportCsv(const std::string& file, ImportSession* session) {
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
  Source src;
  src.path = *path;
  src.name = path->substr(path->find_last_of('/') + 1);
  src.fingerprint = FingerprintFiles(walk->files);
  if (session->options().progress) session->options().progress(0, 1, src.name);

  // Leading "#" comment lines (a Stable-Baselines3 monitor's JSON line).
  absl::string_view body = *text;
  while (absl::StartsWith(body, "#")) {
    const size_t nl = body.find('\n');
    body = nl == absl::string_view::npos ? absl::string_view()
                                         : body.substr(nl + 1);
  }
  const absl::string_view first_line = body.substr(0, body.find('\n'));
  if (absl::StripTrailingAsciiWhitespace(first_line) == kLongCsvHeader) {
    return ImportLong(body, src, session);
  }
  const bool tabs =
      absl::EndsWith(*path, ".tsv") || (absl::StrContains(first_line, '\t') &&
                                        !absl::StrContains(first_line, ','));
  return ImportWide(body, tabs ? '\t' : ',', src, session);
}

}  // namespace runlog::interop
