// Fuzz target: the CSV reader, with a comma and with a tab. Properties: no
// crash; the only error is InvalidArgument; every field lies inside the
// input or is an unescaped copy no longer than it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "interop/csv/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace runlog;  // NOLINT: a fuzz entry point outside the namespace
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (char delimiter : {',', '\t'}) {
    absl::Status s = interop::ReadCsv(
        text, delimiter,
        [&](const std::vector<absl::string_view>& fields, int64_t line) {
          if (line < 1 || fields.empty()) std::abort();
          for (absl::string_view f : fields) {
            if (f.size() > size) std::abort();
          }
          return absl::OkStatus();
        });
    if (!s.ok() && !absl::IsInvalidArgument(s)) std::abort();
  }
  return 0;
}
