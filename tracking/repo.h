// The public entry point: a repository of runs on disk.
//
//   auto repo = runlog::Repo::Open("/data/runs");
//   auto run = (*repo)->CreateRun({.experiment = "sweep"});
//   ... (*run)->Track("loss", 0.5); ...
//   (*run)->Commit();
//
// No locks, no threads, no external database: several processes may use one
// repository at once (see storage/run_store.h for why that is safe).
//
// Thread-safety: a Repo may be shared by threads; Runs and RunViews may not.
// Lifetime: Runs and RunViews may outlive the Repo that made them.
#ifndef RUNLOG_TRACKING_REPO_H_
#define RUNLOG_TRACKING_REPO_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/clock.h"
#include "storage/file_system.h"
#include "storage/owner_liveness.h"
#include "storage/recovery.h"
#include "storage/run_store.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/compaction/compacted_run.h"
#include "tracking/compaction/compaction.h"
#include "tracking/run.h"
#include "tracking/run_summary.h"
#include "tracking/series.h"

namespace runlog {

// The status of a run as readers see it.
enum class RunStatus {
  kRunning,    // uncommitted, writer alive (or cannot tell)
  kFinished,   // committed by Commit()
  kFailed,     // committed by Fail()
  kCrashed,    // committed by salvage of a dead run
  kAbandoned,  // uncommitted, writer certainly gone
};
absl::string_view RunStatusName(RunStatus status);

// One run as listings see it.
struct RunRecord {
  std::string id;
  storage::RunState state = storage::RunState::kUnknown;
  RunStatus status = RunStatus::kRunning;
  RunSummary summary;  // metadata, params, tags, series summaries
  absl::Time ended = absl::InfinitePast();  // committed runs only
  std::string failure_reason;
  // Liveness reason for uncommitted runs ("pid 42 is gone").
  std::string detail;
  // Not OK when the run's COMMIT or records are damaged; the rest of the
  // record is then as much as could be read.
  absl::Status error;
  // Bytes of the run's files; measured by GetRun, and by ListRuns only when
  // RunFilter::disk_usage asks for it (one stat per file of every run).
  std::optional<uint64_t> bytes_on_disk;
};

struct RunFilter {
  std::optional<std::string> experiment;
  std::optional<std::string> tag;
  std::optional<RunStatus> status;
  std::optional<storage::RunState> state;
  // A filter in the query language of docs/query.md (tracking/query/), e.g.
  // "metrics.acc > 0.9 and params.model = 'resnet'"; empty selects every
  // run. Evaluated over summaries only: no point is decoded. A malformed
  // query is InvalidArgument naming the place: "query:1:18: unknown field
  // 'metrcs' (did you mean 'metrics'?)".
  std::string where;
  // Sort keys, each "FIELD [ASC|DESC]" (e.g. "metrics.acc DESC"); runs
  // missing a key sort after those that have it, ties by run id. Empty:
  // creation order. Errors name "order_by[i]:1:COL".
  std::vector<std::string> order_by;
  // Paging, applied after filtering and sorting.
  size_t offset = 0;
  std::optional<size_t> limit;
  // Also measure every run's bytes_on_disk. Without it, ListRuns reads the
  // repository's run catalog (storage/run_catalog.h) instead of every
  // committed run's directory and COMMIT, and keeps that catalog current.
  bool disk_usage = false;
};

struct RepoOptions {
  bool create_if_missing = true;
  // See storage::RunStoreOptions::staleness.
  absl::Duration staleness = storage::kDefaultStaleness;
  // Injectable for tests; defaults are the real ones.
  storage::FileSystem* fs = nullptr;
  storage::Clock* clock = nullptr;
  // See storage::RunStoreOptions::file_system_clock (tests only).
  storage::Clock* file_system_clock = nullptr;
  storage::SystemProbe* probe = nullptr;
};

// One damaged place found by Repo::VerifyRun.
struct VerifyProblem {
  std::string file;     // path of the damaged file
  uint64_t offset = 0;  // byte offset within it
  absl::Status status;  // DataLoss, or NotFound for a missing file
};

struct VerifyReport {
  std::string run_id;
  storage::RunState state = storage::RunState::kUnknown;
  uint64_t bytes_checked = 0;
  int64_t points = 0;
  std::vector<VerifyProblem> problems;  // empty when the run is sound
  // Uncommitted runs: bytes a read leaves out (a torn tail, or everything
  // after damage), and remarks that are not problems (a torn tail).
  uint64_t dropped_bytes = 0;
  std::vector<std::string> notes;
};

struct RecoverOptions {
  bool dry_run = false;
  // Keep abandoned runs instead of deleting them: their readable prefix is
  // compacted and committed with status crashed.
  bool salvage = false;
};

struct DeleteOptions {
  // Delete even a run whose writer is alive in another process, or may be
  // (RunState::kUnknown: another host's uncommitted run, not yet stale).
  // Without it only committed runs, runs of this process and abandoned runs
  // are deleted; an abandoned one is judged again after it has been moved
  // out of runs/ and put back if it committed or wrote meanwhile.
  bool force = false;
};

class RunView;
class RunTable;
namespace query {
class RunQuery;
}

class Repo {
 public:
  // Opens the repository at `path`, creating it (create_if_missing) only
  // where `path` is missing or an empty directory. NotFound if missing and
  // !create_if_missing; FailedPrecondition naming an entry when `path`
  // exists but is no repository ("is not a runlog repository: it holds 3
  // entries (e.g. 'foo.txt')"); see storage::RunStore::Open.
  static absl::StatusOr<std::unique_ptr<Repo>> Open(std::string path,
                                                    RepoOptions options = {});

  Repo(const Repo&) = delete;
  Repo& operator=(const Repo&) = delete;

  const std::string& path() const { return store_->root(); }

  // InvalidArgument for options over the limits (names, tags, params).
  absl::StatusOr<std::unique_ptr<Run>> CreateRun(
      const RunOptions& options = {});

  // Deletes a run at any moment: committed, uncommitted, or open in this
  // process (that Run is closed first; its later calls return
  // FailedPrecondition). A run whose writer is alive in another process is
  // refused with FailedPrecondition unless `force`. NotFound if absent.
  absl::Status DeleteRun(absl::string_view id, DeleteOptions options = {});

  // Runs in creation order, filtered. Committed runs are described from
  // the run catalog or their COMMIT alone (never by decoding points);
  // uncommitted ones by decoding their records.
  absl::StatusOr<std::vector<RunRecord>> ListRuns(const RunFilter& filter = {});
  // The same runs, filtered the same way, as a RunTable: committed runs'
  // summaries stay encoded (tracking/run_table.h), so a listing of many
  // runs builds no params trees. A filter is judged on the encoded summary
  // where it can be (as ListRuns does); with order_by the runs are sorted as
  // decoded records, so such a listing costs what ListRuns does.
  absl::StatusOr<RunTable> ListRunTable(const RunFilter& filter = {});
  absl::StatusOr<RunRecord> GetRun(absl::string_view id);

  // The run whose id is `prefix` or begins with it, as git takes a unique
  // prefix of a hash: an exact id wins; otherwise exactly one run must
  // start with `prefix`. InvalidArgument for characters outside run ids or
  // a prefix several runs share (the message names up to five); NotFound
  // when none does. Reads the runs/ directory only.
  absl::StatusOr<std::string> ResolveRunId(absl::string_view prefix);

  // A reader of one run (committed or live).
  absl::StatusOr<std::unique_ptr<RunView>> OpenRun(absl::string_view id);

  // Deletes abandoned runs and leftovers (storage/recovery.h); with
  // `salvage`, commits abandoned runs with status crashed instead
  // (RecoveryAction::Kind::kSalvageAbandonedRun).
  absl::StatusOr<storage::RecoveryReport> Recover(bool dry_run = false);
  absl::StatusOr<storage::RecoveryReport> Recover(
      const RecoverOptions& options);

  // Rewrites a committed run into one compacted segment (invariant 8 of the
  // design: new file, then a new COMMIT replaces the old one, then the old
  // segments are unlinked; a crash at any point leaves the old or the new run
  // whole). FailedPrecondition for an uncommitted run, or one another live
  // process is compacting; NotFound if absent.
  absl::StatusOr<CompactionReport> CompactRun(absl::string_view id);

  // Reads every byte of a run and checks every checksum, length and the
  // manifest. Problems are reported, not returned as errors; the status is
  // an error only when the run cannot be examined at all (NotFound).
  absl::StatusOr<VerifyReport> VerifyRun(absl::string_view id);

  storage::RunStore& store() { return *store_; }

 private:
  explicit Repo(std::shared_ptr<storage::RunStore> store)
      : store_(std::move(store)) {}
  // `measured`: entry came from a full listing, so its bytes_on_disk is real.
  absl::StatusOr<RunRecord> Describe(const storage::RunEntry& entry,
                                     bool measured);
  // Describe(), then the filter's experiment, tag and query on the record:
  // nullopt when the run is not selected or was deleted meanwhile.
  absl::StatusOr<std::optional<RunRecord>> DescribeIfSelected(
      const storage::RunEntry& entry, const RunFilter& filter,
      const query::RunQuery& q, absl::Time now);

  std::shared_ptr<storage::RunStore> store_;
};

// Every point of one series as RunView::ReadAll hands it over: only the
// columns of the series' kind are filled, the other three are empty.
using SeriesPoints = RunLogDecoder::SeriesPoints;

// Reads one run. For a live or uncommitted-log run each Read call scans the
// run's segments once, decoding only the points of the series asked for; for
// a compacted run it reads only the blocks the step range touches. So reading
// every series one Read call at a time costs series x run size: ReadAll reads
// them all in one pass. A compaction that replaces the run's files during a
// read is noticed (the old files vanish) and the read is retried on the new
// form.
class RunView {
 public:
  const RunRecord& record() const { return record_; }
  const std::string& id() const { return record_.id; }
  const std::vector<SeriesSummary>& series() const {
    return record_.summary.series;
  }

  // NotFound if the run has no such series; InvalidArgument if it holds
  // another kind; DataLoss for damage (committed runs) — a live run's torn
  // tail is simply the end of its data.
  absl::StatusOr<ScalarColumns> ReadScalars(const SeriesKey& key,
                                            StepRange range = {});
  // ReadScalars into `out`, which is replaced; for a compacted run its
  // capacity is reused and blocks are decoded straight into it, so a program
  // that reads series repeatedly (a plot refreshing) does not allocate and
  // fault in fresh memory each time. Only the columns in `columns` are
  // filled, the others left empty: ColumnSet::kStepsValues reads 16 B a
  // point instead of 32 (a compacted run skips the other streams undecoded).
  absl::Status ReadScalarsInto(const SeriesKey& key, StepRange range,
                               ScalarColumns* out,
                               ColumnSet columns = ColumnSet::kAll);
  // At most `max_points` points (see downsample.h).
  absl::StatusOr<ScalarColumns> ReadScalarsDownsampled(const SeriesKey& key,
                                                       size_t max_points,
                                                       StepRange range = {});
  absl::StatusOr<TextColumns> ReadTexts(const SeriesKey& key,
                                        StepRange range = {});
  absl::StatusOr<HistogramColumns> ReadHistograms(const SeriesKey& key,
                                                  StepRange range = {});
  absl::StatusOr<BlobColumns> ReadBlobs(const SeriesKey& key,
                                        StepRange range = {});

  // Every point of every series of series(), in that order: calls `sink`
  // once per series with the points the Read call of its kind would give,
  // in one pass over the run's files. Memory: a log run (live, uncommitted
  // or committed but not compacted) is decoded whole before the first call,
  // because a series' points may be anywhere in its log, so the decoded
  // columns of every series are held at once (about 32 B a scalar point, as
  // compaction holds them) and each is freed when its sink call returns; a
  // compacted run's footer is read once and its series are decoded one at a
  // time, so only one series is held. A live run's series begun after
  // OpenRun are not in series() and not read; points added since to series
  // it lists are. Errors as the Read calls give them (NotFound for a series
  // the files lack, InvalidArgument for one of another kind, DataLoss), and
  // a sink's error is returned as is; either stops the read. A compaction
  // during the read is retried as the Read calls are, resuming after the
  // last series handed over: no series reaches the sink twice.
  using SeriesSink = std::function<absl::Status(const SeriesSummary& series,
                                                SeriesPoints&& points)>;
  absl::Status ReadAll(const SeriesSink& sink);

  // ReadAll in pieces, for a reader that streams points out (segtool
  // export): `sink` gets each series of series() in order as one or more
  // pieces of consecutive points, `last` set on its final one. A compacted
  // run's scalar series come one block (at most kCompactedBlockPoints
  // points) at a time, decoded into columns reused from block to block, so
  // only a block is held and it stays in the core's cache; its other kinds,
  // and every series of a log run (decoded whole first, as ReadAll does),
  // come as one piece. A series without points gets one empty last piece.
  // The points are valid only during the call. Errors as ReadAll's; a
  // compaction during the read is retried, resuming after the last point
  // handed over: no point reaches the sink twice.
  using SeriesPieceSink = std::function<absl::Status(
      const SeriesSummary& series, const SeriesPoints& points, bool last)>;
  absl::Status ReadAllPieces(const SeriesPieceSink& sink);

 private:
  friend class Repo;
  RunView(std::shared_ptr<storage::RunStore> store, RunRecord record)
      : store_(std::move(store)), record_(std::move(record)) {}
  // Who reports a compacted series of another kind: ReadOnce itself, or
  // CompactedRunReader::ReadScalarsInto (which clears `out` first and names
  // no run; ReadScalarsInto has always answered so).
  enum class KindCheck { kHere, kByCompactedReader };
  // max_points > 0 asks for a downsampled scalar read.
  template <typename Columns>
  absl::StatusOr<Columns> Read(const SeriesKey& key, SeriesKind kind,
                               StepRange range, size_t max_points = 0);
  // ReadOnce, again while it fails because COMMIT changed under it.
  template <typename Columns>
  absl::Status ReadRetrying(const SeriesKey& key, SeriesKind kind,
                            StepRange range, size_t max_points,
                            KindCheck kind_check, Columns* out,
                            ColumnSet columns = ColumnSet::kAll);
  // One read into `out`, from the column file when the run is compacted and
  // from its log otherwise; sets `*manifest_changed` when it failed and
  // COMMIT changed meanwhile. `out` is set only on success, except that a
  // compacted scalar read may leave it cleared or partly filled.
  template <typename Columns>
  absl::Status ReadOnce(const SeriesKey& key, SeriesKind kind, StepRange range,
                        size_t max_points, KindCheck kind_check, Columns* out,
                        ColumnSet columns, bool* manifest_changed);

  // Where ReadAll or ReadAllPieces stands: series handed over whole, and
  // points of the next one handed over (across attempts).
  struct PieceProgress {
    size_t series = 0;
    size_t points = 0;
  };
  // The sink of one attempt; it may take (move from) the points.
  using PieceSink = absl::FunctionRef<absl::Status(
      const SeriesSummary& series, SeriesPoints* points, bool last)>;
  // One attempt of either: whole_series hands each series over whole (one
  // last piece), else a compacted run's scalar series go a block at a time.
  // `*manifest_changed` as in ReadOnce.
  absl::Status ReadAllPiecesOnce(PieceSink sink, bool whole_series,
                                 PieceProgress* at, bool* manifest_changed);

  // Opens the compacted file `info`, reusing the footer decoded by the last
  // read of the same file (a later compaction changes `info`).
  absl::StatusOr<std::unique_ptr<CompactedRunReader>> OpenCompacted(
      const std::string& dir, const storage::SegmentInfo& info);

  std::shared_ptr<storage::RunStore> store_;
  RunRecord record_;
  storage::SegmentInfo compacted_info_;
  std::shared_ptr<const CompactedIndex> compacted_index_;
};

}  // namespace runlog

#endif  // RUNLOG_TRACKING_REPO_H_
