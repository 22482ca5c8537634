// The framing of W&B's offline run files (.wandb), LevelDB's log format
// with W&B's file header:
//   file header (7 bytes): ":W&B", u16 magic 0xBEE1, u8 version (0 or 1)
//   then 32 KiB blocks (the first one includes the file header) of records
//     u32 CRC-32 (zlib's; of the type byte, then the data) | u16 length |
//     u8 type (1 full, 2 first, 3 middle, 4 last) | data[length]
//   a block's last < 7 bytes are zero padding. A protobuf Record is one full
//   record or a first, middles and a last.
// Every CRC is checked. A record cut short at the end of the file (the
// writer killed) ends the records with `torn_at` set; a CRC mismatch, a
// fragment out of order or a record crossing its block is DataLoss naming
// the file and offset, unless `skip_damaged`: then the rest of that block is
// skipped (LevelDB's own recovery) and listed in `damage`.
// Allocation: a record in fragments is joined in one buffer, never larger
// than the file.
//
// Thread-safety: pure functions.
#ifndef RUNLOG_INTEROP_WANDB_LOG_READER_H_
#define RUNLOG_INTEROP_WANDB_LOG_READER_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace runlog::interop {

inline constexpr size_t kWandbBlockSize = 32768;
inline constexpr size_t kWandbHeaderSize = 7;

struct WandbLogScan {
  std::optional<uint64_t> torn_at;
  std::vector<std::string> damage;
  uint64_t records = 0;
};

// Calls `on_record(data, offset)` for every whole record; an error it
// returns stops the scan and is returned. A bad file header is DataLoss.
absl::Status ScanWandbLog(
    absl::string_view bytes, absl::string_view file, bool skip_damaged,
    const std::function<absl::Status(absl::string_view, uint64_t)>& on_record,
    WandbLogScan* scan);

// Frames records the way W&B writes them (for tests and fuzz seeds).
class WandbLogWriter {
 public:
  explicit WandbLogWriter(std::string* out);
  void Add(absl::string_view record);

 private:
  std::string* out_;
};

}  // namespace runlog::interop

#endif  // RUNLOG_INTEROP_WANDB_LOG_READER_H_
