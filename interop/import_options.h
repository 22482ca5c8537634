// Options every importer takes.
#ifndef RUNLOG_INTEROP_IMPORT_OPTIONS_H_
#define RUNLOG_INTEROP_IMPORT_OPTIONS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace runlog::interop {

struct ImportOptions {
  // The experiment of the runs made; unset: the format's default (the
  // source's own experiment or project where it has one, else the format
  // name).
  std::optional<std::string> experiment;
  // Read and decode everything, report what would be imported, write
  // nothing.
  bool dry_run = false;
  // A source imported before whose fingerprint changed is imported again
  // into a new run that replaces the old one (committed runs are immutable,
  // so "appending" makes a new run holding the old points and the new). The
  // old run is deleted only after the new one committed. Without it such a
  // source is skipped and reported as "changed".
  bool update = false;
  // A CRC mismatch before the end of a file is an error naming the file and
  // byte offset; with skip_damaged the damaged record is skipped (and the
  // reader resynchronises) and the skip is reported.
  bool skip_damaged = false;
  // Called before each source run is read, with its index, the total and its
  // name (a terminal progress line); may be empty.
  std::function<void(size_t, size_t, absl::string_view)> progress;
};

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_IMPORT_OPTIONS_H_
