#include "storage/file_system.h"

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "storage/status_macros.h"

namespace runlog::storage {

std::string ParentDir(absl::string_view path) {
  const size_t slash = path.find_last_of('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::Status RemoveDirectoryTree(FileSystem& fs, const std::string& dir) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(dir));
  for (const std::string& n : names) {
    absl::Status s = fs.RemoveFile(JoinPath(dir, n));
    if (!s.ok() && !absl::IsNotFound(s)) return s;
  }
  return fs.RemoveDir(dir);
}

std::string JoinPath(absl::string_view a, absl::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  // Exactly one separator between the parts, whichever side supplied it.
  while (a.size() > 1 && a.back() == '/') a.remove_suffix(1);
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (a == "/") return absl::StrCat("/", b);
  return absl::StrCat(a, "/", b);
}

std::string JoinPath(absl::string_view a, absl::string_view b,
                     absl::string_view c) {
  return JoinPath(JoinPath(a, b), c);
}

absl::StatusOr<std::string> ReadFileToString(FileSystem& fs,
                                             const std::string& path,
                                             uint64_t max_size) {
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                          fs.NewRandomAccessFile(path));
  RUNLOG_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  // Checked before allocating: a corrupt or hostile repository must not be
  // able to make us reserve an arbitrary amount of memory.
  if (size > max_size) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": file size ", size,
                                                   " exceeds the limit of ",
                                                   max_size, " bytes"));
  }
  std::string out(static_cast<size_t>(size), '\0');
  uint64_t done = 0;
  while (done < size) {
    RUNLOG_ASSIGN_OR_RETURN(
        absl::string_view got,
        file->Read(done, static_cast<size_t>(size - done), out.data() + done));
    if (got.empty()) {
      // The file shrank between Size() and Read(); runlog files are
      // append-only, so this means someone else truncated it.
      return absl::DataLossError(absl::StrCat(path, ": file shrank from ", size,
                                              " to ", done,
                                              " bytes while being read"));
    }
    if (got.data() != out.data() + done) {
      std::memcpy(out.data() + done, got.data(), got.size());
    }
    done += got.size();
  }
  return out;
}

absl::Status WriteNewFileSynced(FileSystem& fs, const std::string& path,
                                absl::string_view contents) {
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                          fs.NewWritableFile(path));
  RUNLOG_RETURN_IF_ERROR(file->Append(contents));
  RUNLOG_RETURN_IF_ERROR(file->Sync());
  return file->Close();
}

}  // namespace runlog::storage
