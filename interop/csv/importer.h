// Imports CSV (and TSV) files of metrics, in either of two shapes, told
// apart by the header:
//   long  exactly segtool export's header
//           run,series,context,kind,step,epoch,time,value
//         one runlog run per distinct `run` (named by it), series keyed by
//         name and context ("k=v,k2=v2"), scalars, text and histograms (the
//         JSON {"edges","counts"} export writes) with their step, epoch and
//         time; blob rows carry no data in a CSV and are skipped.
//   wide  a header of column names (after any leading "#" comment lines),
//         one row per step: the step is the row's cell in the first column
//         named step, global_step, steps_done, "total timesteps",
//         total_timesteps or timesteps, else episode or num_episodes, else
//         the row number (0-based), names compared without case; an `epoch`
//         column gives the epoch; these index columns are not series; every
//         other column is a series of the non-empty cells (trimmed of
//         blanks; numbers parse exactly, "nan" and "inf" included), as
//         Lightning's CSVLogger and Ultralytics write. One run per file,
//         named by the file.
// The delimiter is a tab for .tsv files and for headers holding tabs but no
// commas, else a comma. Source key: "csv:" + absolute path (+ "#" + run for
// long files); fingerprint: the file's size and modification time.
//
// Bad cells (not a number, a step that is not an integer) are skipped and
// counted with the reason, as are rows with too few or too many cells; a
// file that is not CSV at all (a quote never closing) fails its runs.
#ifndef RUNLOG_INTEROP_CSV_IMPORTER_H_
#define RUNLOG_INTEROP_CSV_IMPORTER_H_

#include <string>

#include "absl/status/status.h"
#include "interop/import_session.h"

namespace runlog::interop {

inline constexpr char kCsvFormat[] = "csv";
inline constexpr char kLongCsvHeader[] =
    "run,series,context,kind,step,epoch,time,value";

// Returns an error only when the file cannot be read.
absl::Status ImportCsv(const std::string& file, ImportSession* session);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_CSV_IMPORTER_H_
