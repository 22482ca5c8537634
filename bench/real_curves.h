// Loader of the real training logs the benchmarks compact and compare
// (issue 4 "Targets", issue 5 workload W4): Hugging Face trainer states,
// MLflow file-store metric files and CSV/TSV logs, as collected in the
// directory described by its SOURCES.md. TensorBoard event files are not
// read here (the importers come later).
//
// What a series and a point are follows SOURCES.md exactly, so the point
// counts can be checked against it:
//   hf-trainer-state/*.json  every numeric (integer or float, not boolean)
//       field of a `log_history` entry except `step` and `epoch` is a point
//       of the series named by the field, at the entry's `step`, with the
//       entry's `epoch` when it has a numeric one. Other fields (strings such
//       as "remaining_time", null, objects) are not metrics.
//   mlflow/*  each line "timestamp_ms value step" is one point of the one
//       series of the file; the series is named by the file name's suffix
//       after "metrics_" (the whole name when it has none).
//   csv/*.csv, csv/*.tsv  a header row (after any leading "#" comment lines,
//       such as a Stable-Baselines3 monitor's JSON line), then one row per
//       line; cells are trimmed of blanks (Ultralytics pads them). Index
//       columns are not series: step counters (step, global_step, steps_done,
//       "total timesteps", total_timesteps, timesteps), episode counters
//       (episode, num_episodes) and epoch. Time columns (time, t,
//       epoch_time, ...) are measurements and are series, as SOURCES.md
//       counts them. Every other column is a series whose points are its
//       non-empty cells. A point's step is the row's cell in the first step
//       counter present (in the order above), else in the episode counter,
//       else the row number (0-based); its epoch is the `epoch` cell if any.
// Lines end in "\n", "\r\n" or "\r\r\n" (Python's csv module on Windows).
//
// Numbers are parsed exactly (correctly rounded), including "nan" and "inf".
// Nothing is skipped silently: a malformed line, cell or entry is an
// InvalidArgument error naming the file and the line (or log_history entry).
//
// Thread-safety: the functions are pure apart from reading files.
#ifndef RUNLOG_BENCH_REAL_CURVES_H_
#define RUNLOG_BENCH_REAL_CURVES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runlog::bench {

// The default location of the corpus and the environment variable that
// overrides it.
inline constexpr char kRealCurvesDefaultDir[] = "/work/shared/data/real-curves";
inline constexpr char kRealCurvesEnvVar[] = "RUNLOG_REAL_CURVES";

// The points of one series, as parallel columns in file order.
struct CurveSeries {
  std::string name;
  std::vector<int64_t> steps;
  std::vector<double> values;
  std::vector<double> epochs;     // NaN where the point has no epoch
  std::vector<int64_t> times_us;  // µs since the Unix epoch; 0 if unknown
  size_t size() const { return steps.size(); }
};

struct CurveFile {
  std::string relative_path;        // e.g. "csv/x__y__results.csv"
  std::string format;               // "hf-trainer-state", "mlflow" or "csv"
  uint64_t file_bytes = 0;          // size of the source file
  std::vector<CurveSeries> series;  // in order of first appearance
  // Points of every series.
  size_t points() const;
};

// $RUNLOG_REAL_CURVES if set and non-empty, else kRealCurvesDefaultDir.
std::string RealCurvesDir();

// Loads every JSON, MLflow and CSV/TSV file of `dir` (subdirectories
// hf-trainer-state/, mlflow/ and csv/), sorted by relative path. Files in
// those folders whose names do not fit the format (not *.json in
// hf-trainer-state/, not *.csv or *.tsv in csv/, names starting with ".")
// are not logs and are left out. NotFound naming the path when `dir` or one
// of the three folders is missing; InvalidArgument naming the file and line
// for malformed content.
absl::StatusOr<std::vector<CurveFile>> LoadRealCurves(const std::string& dir);

// The parsers, on a file's text; `file` only names the file in errors.
absl::StatusOr<std::vector<CurveSeries>> ParseTrainerState(
    absl::string_view text, absl::string_view file);
absl::StatusOr<std::vector<CurveSeries>> ParseMlflowMetric(
    absl::string_view text, absl::string_view file, std::string metric);
// `separator` is ',' for CSV and '\t' for TSV.
absl::StatusOr<std::vector<CurveSeries>> ParseDelimited(absl::string_view text,
                                                        absl::string_view file,
                                                        char separator);

// The metric name of an MLflow metric file name: the suffix after the first
// "metrics_" that follows the last "__" (the corpus' "<owner>__<repo>__<path>"
// naming), or the whole name when there is none.
std::string MlflowMetricName(absl::string_view file_name);

}  // namespace runlog::bench

#endif  // RUNLOG_BENCH_REAL_CURVES_H_
