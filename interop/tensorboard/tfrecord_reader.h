// TFRecord framing, as TensorBoard event files use it:
//   u64 length (LE) | u32 masked CRC-32C of the 8 length bytes |
//   data[length]    | u32 masked CRC-32C of the data
// Every CRC is checked.
//
// Damage: a record cut short at the end of the file (a writer killed
// mid-record: fewer than 12 header bytes, or a sound length running past the
// end) ends the records with `torn_at` set; that is not an error. A CRC
// mismatch, or a sound length over 2^40 (no writer makes one; a hostile
// file may), is DataLoss naming the file and the byte offset of the record,
// unless `skip_damaged`: then a record whose length CRC holds but whose data
// CRC does not is skipped, after a bad length CRC the reader looks for the
// next offset whose length CRC holds, and an implausible length ends the
// file; each skip is listed in `damage`.
// Allocation: none; records are views into the caller's bytes.
//
// Thread-safety: pure functions.
#ifndef RUNLOG_INTEROP_TENSORBOARD_TFRECORD_READER_H_
#define RUNLOG_INTEROP_TENSORBOARD_TFRECORD_READER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace runlog::interop {

struct TFRecordScan {
  std::optional<uint64_t> torn_at;  // offset of a record cut short
  std::vector<std::string> damage;  // skipped damage (skip_damaged)
  uint64_t records = 0;
};

// Calls `on_record(data, offset)` for every sound record in order; an error
// it returns stops the scan and is returned. `file` names the file in
// messages.
absl::Status ScanTFRecords(
    absl::string_view bytes, absl::string_view file, bool skip_damaged,
    const std::function<absl::Status(absl::string_view, uint64_t)>& on_record,
    TFRecordScan* scan);

// One framed record (for writers and tests).
void AppendTFRecord(absl::string_view data, std::string* out);

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_TENSORBOARD_TFRECORD_READER_H_
