// Runs a fuzz target's LLVMFuzzerTestOneInput over files, outside libFuzzer:
// this is how every ordinary build (and CI, under ASan) replays the seed
// corpus and the regression inputs of past crashers.
//
// Usage: <target>_replay PATH...
// Each PATH is a file or a directory whose regular files (recursively) are
// inputs. A missing PATH is skipped with a note (a target may have no
// regressions yet). Exit status 0 when every input ran; 1 when an argument
// could not be read or no input was found at all (an empty corpus would make
// the replay pass vacuously); a failing input aborts, as under libFuzzer.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/file_system.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace runlog::fuzz {
namespace {

// Inputs larger than this are not fuzz inputs (libFuzzer's -max_len in
// scripts/fuzz.sh is far smaller).
constexpr uint64_t kMaxInputSize = 16u << 20;

absl::Status Collect(storage::FileSystem& fs, const std::string& path,
                     std::vector<std::string>* files) {
  absl::StatusOr<storage::FileInfo> info = fs.Stat(path);
  if (!info.ok()) return info.status();
  if (info->type == storage::FileType::kRegular) {
    files->push_back(path);
    return absl::OkStatus();
  }
  if (info->type != storage::FileType::kDirectory) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(path);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    absl::Status s = Collect(fs, storage::JoinPath(path, name), files);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

int Main(int argc, char** argv) {
  storage::FileSystem& fs = *storage::FileSystem::Default();
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    absl::Status s = Collect(fs, argv[i], &files);
    if (absl::IsNotFound(s)) {
      std::fprintf(stderr, "replay: %s: absent, skipped\n", argv[i]);
    } else if (!s.ok()) {
      std::fprintf(stderr, "replay: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  for (const std::string& file : files) {
    absl::StatusOr<std::string> bytes =
        storage::ReadFileToString(fs, file, kMaxInputSize);
    if (!bytes.ok()) {
      std::fprintf(stderr, "replay: %s\n", bytes.status().ToString().c_str());
      return 1;
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes->data()),
                           bytes->size());
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs\n");
    return 1;
  }
  std::printf("replay: %zu inputs ran\n", files.size());
  return 0;
}

}  // namespace
}  // namespace runlog::fuzz

int main(int argc, char** argv) { return runlog::fuzz::Main(argc, argv); }
