// Copying a committed run into another repository, crash-safely and under
// the same run id (segtool cp and mv).
//
// The copy is built in the destination as runs/.creating.<id>/ — the name
// RunStore::CreateRun builds new runs under, which no listing takes for a
// run — holding first an OWNER naming the copying process, then every file
// the source's manifest references, copied byte for byte, each synced and
// read back against the manifest's length and checksum, then the manifest
// itself (synced, under the source's generation name). One rename then makes
// runs/<id> appear whole and committed, and runs/ is synced. So a crash at
// any point leaves the destination either without the run or with the whole
// committed run; what a crash leaves in runs/.creating.<id>/ is removed by
// recovery once the copier is certainly gone (storage/recovery.h, "remove
// unfinished creation"). The source is only read.
//
// Flushes: one fdatasync per copied file, the manifest's (COMMIT.tmp and
// its directory), and runs/ after the rename.
#ifndef RUNLOG_STORAGE_RUN_COPY_H_
#define RUNLOG_STORAGE_RUN_COPY_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/run_store.h"

namespace runlog::storage {

struct RunCopyReport {
  std::string run_id;
  uint64_t bytes = 0;  // bytes of the files copied (segments, manifest)
  size_t files = 0;    // files copied besides OWNER
};

// Copies the committed run `id` of `from` into `to` (another repository).
// The destination's OWNER names this process (it wrote those files); the
// manifest, and so status, end time and summary, is the source's.
// InvalidArgument for a malformed id; NotFound if `from` has no such run;
// FailedPrecondition if it is not committed (the message names its state
// and why); AlreadyExists if `to` already has a run with that id (also when
// `to` is `from`) or another process is copying it there now; DataLoss if a
// source file does not match its manifest (nothing is left in `to`). Other
// errors are the file system's, after the partial copy was removed.
absl::StatusOr<RunCopyReport> CopyCommittedRun(RunStore& from, RunStore& to,
                                               absl::string_view id);

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_RUN_COPY_H_
