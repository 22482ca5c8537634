#include "bench/real_curves.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "storage/file_system.h"
#include "storage/status_macros.h"

namespace runlog::bench {
namespace {

constexpr double kNoEpoch = std::numeric_limits<double>::quiet_NaN();
// The largest corpus file is under 2 MB; this only guards against reading
// something that is clearly not a training log.
constexpr uint64_t kMaxFileBytes = 256u << 20;

struct Line {
  int number;  // 1-based
  absl::string_view text;
};

// Splits on '\n' and drops every trailing '\r', so "\r\n" and the "\r\r\n"
// that Python's csv module writes through a Windows text stream both end a
// line. Blank lines at the end of the file are dropped; a blank line before
// the last non-blank one is an error, since no format here has them.
absl::StatusOr<std::vector<Line>> SplitLines(absl::string_view text,
                                             absl::string_view file) {
  std::vector<Line> lines;
  int number = 0;
  for (absl::string_view piece : absl::StrSplit(text, '\n')) {
    ++number;
    while (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
    lines.push_back({number, piece});
  }
  while (!lines.empty() &&
         absl::StripAsciiWhitespace(lines.back().text).empty()) {
    lines.pop_back();
  }
  for (const Line& line : lines) {
    if (absl::StripAsciiWhitespace(line.text).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line.number, ": blank line"));
    }
  }
  return lines;
}

// Exact (correctly rounded) decimal to double; accepts a leading '+' and
// nan/inf as Python prints them.
bool ParseDouble(absl::string_view s, double* out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// An integer, or a number with an integral value that fits (a pandas column
// of steps may be written as "49.0").
bool ParseStep(absl::string_view s, int64_t* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, *out);
  if (ec == std::errc() && ptr == end) return true;
  double d;
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (!ParseDouble(s, &d) || d != std::trunc(d) || !(d >= -0x1p63) ||
      !(d < 0x1p63)) {
    return false;
  }
  *out = static_cast<int64_t>(d);
  return true;
}

// Series in order of first appearance, found by name.
class SeriesSet {
 public:
  CurveSeries& Get(absl::string_view name) {
    auto it = index_.find(name);
    if (it != index_.end()) return series_[it->second];
    index_.emplace(std::string(name), series_.size());
    series_.emplace_back();
    series_.back().name = std::string(name);
    return series_.back();
  }
  std::vector<CurveSeries> Take() && { return std::move(series_); }

 private:
  std::vector<CurveSeries> series_;
  absl::flat_hash_map<std::string, size_t> index_;
};

void AddPoint(CurveSeries& s, int64_t step, double value, double epoch,
              int64_t time_us) {
  s.steps.push_back(step);
  s.values.push_back(value);
  s.epochs.push_back(epoch);
  s.times_us.push_back(time_us);
}

// Roles of CSV columns, by lower-cased header name.
enum class ColumnRole { kSeries, kStep, kEpisode, kEpoch };

// Step counters in order of preference.
constexpr absl::string_view kStepColumns[] = {"step",
                                              "global_step",
                                              "steps_done",
                                              "total timesteps",
                                              "total_timesteps",
                                              "timesteps"};
constexpr absl::string_view kEpisodeColumns[] = {"episode", "num_episodes"};

ColumnRole RoleOf(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (absl::string_view s : kStepColumns) {
    if (lower == s) return ColumnRole::kStep;
  }
  for (absl::string_view s : kEpisodeColumns) {
    if (lower == s) return ColumnRole::kEpisode;
  }
  if (lower == "epoch") return ColumnRole::kEpoch;
  return ColumnRole::kSeries;
}

// Index of the column that gives a row its step, or -1 for the row number.
int StepColumn(const std::vector<std::string>& header) {
  int best = -1;
  size_t best_rank = std::size(kStepColumns) + std::size(kEpisodeColumns);
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string lower = absl::AsciiStrToLower(header[c]);
    for (size_t r = 0; r < std::size(kStepColumns); ++r) {
      if (lower == kStepColumns[r] && r < best_rank) {
        best = static_cast<int>(c);
        best_rank = r;
      }
    }
    for (size_t r = 0; r < std::size(kEpisodeColumns); ++r) {
      const size_t rank = std::size(kStepColumns) + r;
      if (lower == kEpisodeColumns[r] && rank < best_rank) {
        best = static_cast<int>(c);
        best_rank = rank;
      }
    }
  }
  return best;
}

std::vector<absl::string_view> SplitCells(absl::string_view line,
                                          char separator) {
  std::vector<absl::string_view> cells = absl::StrSplit(line, separator);
  for (absl::string_view& cell : cells) cell = absl::StripAsciiWhitespace(cell);
  return cells;
}

bool HasSuffix(absl::string_view name, absl::string_view suffix) {
  return name.size() > suffix.size() && absl::EndsWith(name, suffix);
}

}  // namespace

size_t CurveFile::points() const {
  size_t n = 0;
  for (const CurveSeries& s : series) n += s.size();
  return n;
}

std::string RealCurvesDir() {
  const char* env = std::getenv(kRealCurvesEnvVar);
  return env != nullptr && *env != '\0' ? std::string(env)
                                        : std::string(kRealCurvesDefaultDir);
}

std::string MlflowMetricName(absl::string_view file_name) {
  absl::string_view rest = file_name;
  const size_t last_sep = rest.rfind("__");
  if (last_sep != absl::string_view::npos) rest.remove_prefix(last_sep + 2);
  constexpr absl::string_view kMarker = "metrics_";
  const size_t at = rest.find(kMarker);
  if (at == absl::string_view::npos || at + kMarker.size() == rest.size()) {
    return std::string(file_name);
  }
  return std::string(rest.substr(at + kMarker.size()));
}

absl::StatusOr<std::vector<CurveSeries>> ParseTrainerState(
    absl::string_view text, absl::string_view file) {
  // ordered_json keeps each entry's keys in file order, so series come out
  // in the order the trainer first logged them.
  nlohmann::ordered_json doc;
  try {
    doc = nlohmann::ordered_json::parse(text.begin(), text.end());
  } catch (const nlohmann::ordered_json::parse_error& e) {
    // e.what() names the line and column.
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
  if (!doc.is_object() || !doc.contains("log_history") ||
      !doc["log_history"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": not a trainer state (no \"log_history\" list at the top)"));
  }
  SeriesSet series;
  const auto& history = doc["log_history"];
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& entry = history[i];
    const std::string where = absl::StrCat(file, ": log_history[", i, "]");
    if (!entry.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
    }
    const auto step_it = entry.find("step");
    if (step_it == entry.end() || !step_it->is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no integer \"step\""));
    }
    const int64_t step = step_it->get<int64_t>();
    double epoch = kNoEpoch;
    const auto epoch_it = entry.find("epoch");
    if (epoch_it != entry.end() && epoch_it->is_number()) {
      epoch = epoch_it->get<double>();
    }
    for (const auto& [key, value] : entry.items()) {
      if (key == "step" || key == "epoch") continue;
      // is_number() is false for booleans; unsigned and signed integers and
      // floats all count, as in SOURCES.md.
      if (!value.is_number()) continue;
      AddPoint(series.Get(key), step, value.get<double>(), epoch, 0);
    }
  }
  return std::move(series).Take();
}

absl::StatusOr<std::vector<CurveSeries>> ParseMlflowMetric(
    absl::string_view text, absl::string_view file, std::string metric) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<Line> lines, SplitLines(text, file));
  CurveSeries s;
  s.name = std::move(metric);
  for (const Line& line : lines) {
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line.text, ' ', absl::SkipEmpty());
    int64_t timestamp_ms;
    double value;
    int64_t step;
    if (fields.size() != 3 || !ParseStep(fields[0], &timestamp_ms) ||
        !ParseDouble(fields[1], &value) || !ParseStep(fields[2], &step)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ":", line.number,
          ": expected \"timestamp_ms value step\", got \"", line.text, "\""));
    }
    if (timestamp_ms > std::numeric_limits<int64_t>::max() / 1000 ||
        timestamp_ms < std::numeric_limits<int64_t>::min() / 1000) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line.number, ": timestamp ", timestamp_ms,
                       " ms is out of range"));
    }
    AddPoint(s, step, value, kNoEpoch, timestamp_ms * 1000);
  }
  std::vector<CurveSeries> out;
  if (s.size() > 0) out.push_back(std::move(s));
  return out;
}

absl::StatusOr<std::vector<CurveSeries>> ParseDelimited(absl::string_view text,
                                                        absl::string_view file,
                                                        char separator) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<Line> lines, SplitLines(text, file));
  size_t first = 0;
  while (first < lines.size() && absl::StartsWith(lines[first].text, "#")) {
    ++first;
  }
  if (first == lines.size()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": no header row"));
  }
  std::vector<std::string> header;
  for (absl::string_view name : SplitCells(lines[first].text, separator)) {
    if (name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ":", lines[first].number, ": empty column name in the header"));
    }
    for (const std::string& seen : header) {
      if (seen == name) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ":", lines[first].number, ": column \"", name,
                         "\" appears twice"));
      }
    }
    header.emplace_back(name);
  }
  const int step_column = StepColumn(header);
  int epoch_column = -1;
  std::vector<ColumnRole> roles;
  for (size_t c = 0; c < header.size(); ++c) {
    roles.push_back(RoleOf(header[c]));
    if (roles.back() == ColumnRole::kEpoch) epoch_column = static_cast<int>(c);
  }
  // One slot per column, in header order; columns left without a point
  // (index columns, all-empty ones) are not series and are dropped at the
  // end.
  std::vector<CurveSeries> columns(header.size());
  for (size_t c = 0; c < header.size(); ++c) columns[c].name = header[c];

  int64_t row = 0;
  for (size_t l = first + 1; l < lines.size(); ++l, ++row) {
    const Line& line = lines[l];
    const std::vector<absl::string_view> cells =
        SplitCells(line.text, separator);
    if (cells.size() != header.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line.number, ": ", cells.size(),
                       " cells, the header has ", header.size()));
    }
    int64_t step = row;
    if (step_column >= 0 && !ParseStep(cells[step_column], &step)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ":", line.number, ": step column \"", header[step_column],
          "\" holds \"", cells[step_column], "\", not an integer"));
    }
    double epoch = kNoEpoch;
    if (epoch_column >= 0 && !cells[epoch_column].empty() &&
        !ParseDouble(cells[epoch_column], &epoch)) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line.number, ": epoch \"",
                       cells[epoch_column], "\" is not a number"));
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      if (roles[c] != ColumnRole::kSeries || cells[c].empty()) continue;
      double value;
      if (!ParseDouble(cells[c], &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ":", line.number, ": column \"", header[c],
                         "\" holds \"", cells[c], "\", not a number"));
      }
      AddPoint(columns[c], step, value, epoch, 0);
    }
  }
  std::vector<CurveSeries> out;
  for (CurveSeries& s : columns) {
    if (s.size() > 0) out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<std::vector<CurveFile>> LoadRealCurves(const std::string& dir) {
  storage::FileSystem& fs = *storage::FileSystem::Default();
  auto require_dir = [&](const std::string& path) -> absl::Status {
    absl::StatusOr<storage::FileInfo> info = fs.Stat(path);
    if (!info.ok() || info->type != storage::FileType::kDirectory) {
      return absl::NotFoundError(absl::StrCat(
          "real training logs: no directory ", path, " (set ",
          kRealCurvesEnvVar, " to the folder holding SOURCES.md)",
          info.ok() ? "" : absl::StrCat(": ", info.status().message())));
    }
    return absl::OkStatus();
  };
  RUNLOG_RETURN_IF_ERROR(require_dir(dir));

  std::vector<CurveFile> files;
  for (absl::string_view format : {"csv", "hf-trainer-state", "mlflow"}) {
    const std::string folder = storage::JoinPath(dir, format);
    RUNLOG_RETURN_IF_ERROR(require_dir(folder));
    RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(folder));
    for (const std::string& name : names) {
      if (absl::StartsWith(name, ".")) continue;
      char separator = ',';
      if (format == "csv") {
        if (HasSuffix(name, ".tsv")) {
          separator = '\t';
        } else if (!HasSuffix(name, ".csv")) {
          continue;
        }
      } else if (format == "hf-trainer-state" && !HasSuffix(name, ".json")) {
        continue;
      }
      const std::string path = storage::JoinPath(folder, name);
      RUNLOG_ASSIGN_OR_RETURN(
          std::string text, storage::ReadFileToString(fs, path, kMaxFileBytes));
      CurveFile file;
      file.relative_path = storage::JoinPath(format, name);
      file.format = std::string(format);
      file.file_bytes = text.size();
      absl::StatusOr<std::vector<CurveSeries>> series;
      if (format == "hf-trainer-state") {
        series = ParseTrainerState(text, path);
      } else if (format == "mlflow") {
        series = ParseMlflowMetric(text, path, MlflowMetricName(name));
      } else {
        series = ParseDelimited(text, path, separator);
      }
      RUNLOG_RETURN_IF_ERROR(series.status());
      file.series = *std::move(series);
      files.push_back(std::move(file));
    }
  }
  return files;
}

}  // namespace runlog::bench
