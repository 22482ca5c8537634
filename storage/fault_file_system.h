// A FileSystem wrapper over MemFileSystem that injects I/O errors and crashes,
// for tests of error paths and crash consistency.
//
// Every operation is forwarded to the wrapped MemFileSystem and counted by
// kind (FsOp). Faults:
//  - FailNth(op, n, errno, persistent): the n-th operation of kind `op`
//    counted from this call (1-based; n < 1 counts as 1) fails with `errno`
//    (EIO, ENOSPC, ...); with `persistent`, so does every later one of that
//    kind. One rule per kind; arming a kind again replaces its rule. The status
//    code is absl::ErrnoToStatusCode(errno) and the message
//    "<op> <path>: injected <strerror>".
//  - CrashAfterSyncs(n): after n more successful sync operations (n == 0:
//    now) the process is dead as far as the disk is concerned: every later
//    mutating operation (NewWritableFile, Append, Sync, SyncDir, Rename,
//    RemoveFile, RemoveDir, CreateDir) fails with EIO and has no effect.
//    Reads, Stat, ListDir and Close keep working. Followed by
//    SimulatePowerLoss(), this models a crash at each sync point.
// A failed operation has no effect at all: a failed Append appends nothing, a
// failed Sync makes nothing durable, a failed open creates nothing.
// Failed operations are counted like successful ones.
//
// Thread-safe. File handles returned by this wrapper must not outlive it.
#ifndef RUNLOG_STORAGE_FAULT_FILE_SYSTEM_H_
#define RUNLOG_STORAGE_FAULT_FILE_SYSTEM_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/file_system.h"
#include "storage/mem_file_system.h"

namespace runlog::storage {

enum class FsOp {
  kOpen,    // NewWritableFile, NewRandomAccessFile
  kWrite,   // WritableFile::Append
  kSync,    // WritableFile::Sync, SyncDir
  kRename,  // Rename
  kUnlink,  // RemoveFile, RemoveDir
  kMkdir,   // CreateDir
};

// "open", "write", ... for messages and test output.
const char* FsOpName(FsOp op);

namespace fault_fs_internal {
class FaultWritableFile;
}  // namespace fault_fs_internal

class FaultInjectingFileSystem : public FileSystem {
 public:
  // Called before every counted operation is attempted (whether it then
  // fails or not). `path` is the file or directory operated on; for kRename
  // it is the source path.
  using Observer = std::function<void(FsOp op, const std::string& path)>;

  // `base` is not owned and must outlive this object.
  explicit FaultInjectingFileSystem(MemFileSystem* base);

  void FailNth(FsOp op, int n, int error_number, bool persistent);
  void ClearFaults();
  // Operations of kind `op` attempted since construction.
  int64_t count(FsOp op) const;
  void CrashAfterSyncs(int n);
  bool crashed() const;
  // Power loss on the wrapped file system, then disarms the crash and all
  // faults (counts are kept).
  void SimulatePowerLoss();
  // Replaces the observer (an empty function removes it). Called without
  // internal locks held; it may call count().
  void set_observer(Observer observer);

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::Status Rename(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override;
  absl::StatusOr<FileInfo> Stat(const std::string& path) override;
  // Counted (and failed) as a kWrite: it changes the file's metadata.
  absl::Status Touch(const std::string& path) override;
  bool IsShared(const std::string& path) override {
    return base_->IsShared(path);
  }

  MemFileSystem* base() const { return base_; }

 private:
  friend class fault_fs_internal::FaultWritableFile;

  // Counts `op`, calls the observer and returns the injected error, if any;
  // `mutating` operations also fail once crashed. `what` names the operation
  // in messages ("fdatasync", "rename", ...), `path` its object.
  absl::Status Admit(FsOp op, bool mutating, const char* what,
                     const std::string& path, const std::string& observed_path);
  // Records a successful sync operation (for CrashAfterSyncs).
  void SyncSucceeded();

  static constexpr int kNumOps = 6;
  struct Rule {
    bool armed = false;
    int64_t fail_at = 0;  // count() value of the failing operation.
    int error_number = 0;
    bool persistent = false;
  };

  MemFileSystem* const base_;
  mutable absl::Mutex mu_;
  std::array<int64_t, kNumOps> counts_ ABSL_GUARDED_BY(mu_) = {};
  std::array<Rule, kNumOps> rules_ ABSL_GUARDED_BY(mu_) = {};
  // Successful syncs still allowed before the crash; negative: not armed.
  int64_t syncs_until_crash_ ABSL_GUARDED_BY(mu_) = -1;
  bool crashed_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const Observer> observer_ ABSL_GUARDED_BY(mu_);
};

}  // namespace runlog::storage

#endif  // RUNLOG_STORAGE_FAULT_FILE_SYSTEM_H_
