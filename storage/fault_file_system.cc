#include "storage/fault_file_system.h"

#include <errno.h>
#include <string.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

int Index(FsOp op) { return static_cast<int>(op); }

// strerror_r comes in a GNU (returns char*) and an XSI (returns int) flavour;
// overloads pick whichever this libc declares.
[[maybe_unused]] const char* StrErrorResult(const char* s, const char*) {
  return s;
}
[[maybe_unused]] const char* StrErrorResult(int, const char* buf) {
  return buf;
}

std::string StrError(int error_number) {
  char buf[256] = {};
  return StrErrorResult(strerror_r(error_number, buf, sizeof(buf)), buf);
}

absl::Status Injected(int error_number, const char* what,
                      const std::string& path, absl::string_view note) {
  return absl::Status(absl::ErrnoToStatusCode(error_number),
                      absl::StrCat(what, " ", path, ": injected ",
                                   StrError(error_number), note));
}

}  // namespace

namespace fault_fs_internal {

class FaultWritableFile : public WritableFile {
 public:
  FaultWritableFile(FaultInjectingFileSystem* fs,
                    std::unique_ptr<WritableFile> base)
      : fs_(fs), base_(std::move(base)) {}

  absl::Status Append(absl::string_view data) override {
    RUNLOG_RETURN_IF_ERROR(
        fs_->Admit(FsOp::kWrite, /*mutating=*/true, "write", path(), path()));
    return base_->Append(data);
  }

  absl::Status Sync() override {
    RUNLOG_RETURN_IF_ERROR(fs_->Admit(FsOp::kSync, /*mutating=*/true,
                                      "fdatasync", path(), path()));
    RUNLOG_RETURN_IF_ERROR(base_->Sync());
    fs_->SyncSucceeded();
    return absl::OkStatus();
  }

  // Not counted and allowed after a crash: closing changes nothing on disk.
  absl::Status Close() override { return base_->Close(); }

  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectingFileSystem* const fs_;
  const std::unique_ptr<WritableFile> base_;
};

}  // namespace fault_fs_internal

const char* FsOpName(FsOp op) {
  switch (op) {
    case FsOp::kOpen:
      return "open";
    case FsOp::kWrite:
      return "write";
    case FsOp::kSync:
      return "sync";
    case FsOp::kRename:
      return "rename";
    case FsOp::kUnlink:
      return "unlink";
    case FsOp::kMkdir:
      return "mkdir";
  }
  return "unknown";
}

FaultInjectingFileSystem::FaultInjectingFileSystem(MemFileSystem* base)
    : base_(base) {}

void FaultInjectingFileSystem::FailNth(FsOp op, int n, int error_number,
                                       bool persistent) {
  absl::MutexLock lock(&mu_);
  Rule& rule = rules_[Index(op)];
  rule.armed = true;
  rule.fail_at = counts_[Index(op)] + (n < 1 ? 1 : n);
  rule.error_number = error_number;
  rule.persistent = persistent;
}

void FaultInjectingFileSystem::ClearFaults() {
  absl::MutexLock lock(&mu_);
  rules_ = {};
}

int64_t FaultInjectingFileSystem::count(FsOp op) const {
  absl::MutexLock lock(&mu_);
  return counts_[Index(op)];
}

void FaultInjectingFileSystem::CrashAfterSyncs(int n) {
  absl::MutexLock lock(&mu_);
  crashed_ = n <= 0;
  syncs_until_crash_ = n <= 0 ? -1 : n;
}

bool FaultInjectingFileSystem::crashed() const {
  absl::MutexLock lock(&mu_);
  return crashed_;
}

void FaultInjectingFileSystem::SimulatePowerLoss() {
  base_->SimulatePowerLoss();
  absl::MutexLock lock(&mu_);
  crashed_ = false;
  syncs_until_crash_ = -1;
  rules_ = {};
}

void FaultInjectingFileSystem::set_observer(Observer observer) {
  auto shared = observer ? std::make_shared<const Observer>(std::move(observer))
                         : nullptr;
  absl::MutexLock lock(&mu_);
  observer_ = std::move(shared);
}

absl::Status FaultInjectingFileSystem::Admit(FsOp op, bool mutating,
                                             const char* what,
                                             const std::string& path,
                                             const std::string& observed_path) {
  absl::Status result;
  std::shared_ptr<const Observer> observer;
  {
    absl::MutexLock lock(&mu_);
    const int64_t n = ++counts_[Index(op)];
    const Rule& rule = rules_[Index(op)];
    if (mutating && crashed_) {
      result = Injected(EIO, what, path, " (after simulated crash)");
    } else if (rule.armed &&
               (n == rule.fail_at || (rule.persistent && n > rule.fail_at))) {
      result = Injected(rule.error_number, what, path, "");
    }
    observer = observer_;
  }
  // Outside the lock so the observer may query counts.
  if (observer != nullptr) (*observer)(op, observed_path);
  return result;
}

void FaultInjectingFileSystem::SyncSucceeded() {
  absl::MutexLock lock(&mu_);
  if (syncs_until_crash_ > 0 && --syncs_until_crash_ == 0) {
    syncs_until_crash_ = -1;
    crashed_ = true;
  }
}

absl::StatusOr<std::unique_ptr<WritableFile>>
FaultInjectingFileSystem::NewWritableFile(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kOpen, /*mutating=*/true, "open", path, path));
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                          base_->NewWritableFile(path));
  return std::unique_ptr<WritableFile>(
      std::make_unique<fault_fs_internal::FaultWritableFile>(this,
                                                             std::move(file)));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>>
FaultInjectingFileSystem::NewRandomAccessFile(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kOpen, /*mutating=*/false, "open", path, path));
  return base_->NewRandomAccessFile(path);
}

absl::Status FaultInjectingFileSystem::CreateDir(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kMkdir, /*mutating=*/true, "mkdir", path, path));
  return base_->CreateDir(path);
}

absl::Status FaultInjectingFileSystem::SyncDir(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kSync, /*mutating=*/true, "fsync", path, path));
  RUNLOG_RETURN_IF_ERROR(base_->SyncDir(path));
  SyncSucceeded();
  return absl::OkStatus();
}

absl::Status FaultInjectingFileSystem::Rename(const std::string& from,
                                              const std::string& to) {
  RUNLOG_RETURN_IF_ERROR(Admit(FsOp::kRename, /*mutating=*/true, "rename",
                               absl::StrCat(from, " to ", to), from));
  return base_->Rename(from, to);
}

absl::Status FaultInjectingFileSystem::RemoveFile(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kUnlink, /*mutating=*/true, "unlink", path, path));
  return base_->RemoveFile(path);
}

absl::Status FaultInjectingFileSystem::RemoveDir(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kUnlink, /*mutating=*/true, "rmdir", path, path));
  return base_->RemoveDir(path);
}

absl::StatusOr<std::vector<std::string>> FaultInjectingFileSystem::ListDir(
    const std::string& path) {
  return base_->ListDir(path);
}

absl::StatusOr<FileInfo> FaultInjectingFileSystem::Stat(
    const std::string& path) {
  return base_->Stat(path);
}

absl::Status FaultInjectingFileSystem::Touch(const std::string& path) {
  RUNLOG_RETURN_IF_ERROR(
      Admit(FsOp::kWrite, /*mutating=*/true, "utimensat", path, path));
  return base_->Touch(path);
}

}  // namespace runlog::storage
