// Exports runs to TensorBoard: one event file per run, in
// OUTPUT/<run id>/events.out.tfevents.<created, s>.runlog, readable by
// TensorBoard and by ImportTensorBoard.
//   scalars     rank-0 DT_DOUBLE tensors of the "scalars" plugin (doubles
//               kept exactly; simple_value would round them to float);
//   histograms  HistogramProto (min = first edge, bucket_limit = the other
//               edges, bucket = counts; num = total count);
//   text        rank-0 string tensors of the "text" plugin;
//   blobs       image/* blobs as Summary.Image; other blobs are skipped.
// Epochs have no place in an Event and are not exported. Each point is one
// Event with its step and wall time; the plugin metadata comes with a tag's
// first value, as TensorFlow writes it.
//
// Files are written through `fs` under a temporary name and renamed into
// place once whole. Errors: NotFound for an unknown run, DataLoss for a
// damaged one, the file system's for writes.
#ifndef RUNLOG_INTEROP_TENSORBOARD_EXPORTER_H_
#define RUNLOG_INTEROP_TENSORBOARD_EXPORTER_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "storage/file_system.h"
#include "tracking/repo.h"

namespace runlog::interop {

struct TensorBoardExport {
  std::string file;  // the event file written
  int64_t series = 0;
  int64_t points = 0;
  std::map<std::string, int64_t> skipped;  // by reason
};

absl::StatusOr<TensorBoardExport> ExportRunToTensorBoard(
    Repo& repo, const std::string& run_id, const std::string& output_dir,
    storage::FileSystem* fs = nullptr);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_TENSORBOARD_EXPORTER_H_
