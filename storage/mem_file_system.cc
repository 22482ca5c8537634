#include "storage/mem_file_system.h"

#include <errno.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace mem_fs_internal {

struct Inode;

// A directory entry. `seq` orders links by creation time; after a power loss
// an inode that two directories durably name keeps only its newest link
// (see SimulatePowerLoss).
struct Link {
  std::shared_ptr<Inode> inode;
  uint64_t seq = 0;
};

struct Inode {
  enum class Kind { kFile, kDir, kSymlink };

  Inode(Kind k, absl::Time t) : kind(k), mtime(t) {}

  Kind kind;
  // File bytes, or a symlink's target.
  std::string data;
  // Bytes of `data` that survive a power loss (a prefix: files only grow,
  // except through SetContents, which makes everything durable).
  uint64_t durable_size = 0;
  std::map<std::string, Link> entries;
  std::map<std::string, Link> durable_entries;
  absl::Time mtime;
};

struct State {
  explicit State(Clock* c) : clock(c) {
    root = std::make_shared<Inode>(Inode::Kind::kDir, c->Now());
    dirs.push_back(root);
  }

  // Stale durable entries can make directories point at each other (a
  // directory moved under a sibling whose old durable entries still name it),
  // so shared_ptr alone would leak those cycles; every directory is therefore
  // registered and emptied here.
  ~State() {
    for (const std::weak_ptr<Inode>& weak : dirs) {
      if (std::shared_ptr<Inode> dir = weak.lock()) {
        dir->entries.clear();
        dir->durable_entries.clear();
      }
    }
  }

  void RegisterDir(const std::shared_ptr<Inode>& dir) {
    if (dirs.size() >= prune_at) {
      dirs.erase(std::remove_if(
                     dirs.begin(), dirs.end(),
                     [](const std::weak_ptr<Inode>& w) { return w.expired(); }),
                 dirs.end());
      prune_at = std::max<size_t>(64, 2 * dirs.size());
    }
    dirs.push_back(dir);
  }

  absl::Mutex mu;
  Clock* const clock;
  // Bumped by every power loss; writable handles from an older generation
  // belong to a dead process.
  uint64_t generation = 0;
  uint64_t next_seq = 0;
  std::shared_ptr<Inode> root;
  std::vector<std::weak_ptr<Inode>> dirs;
  size_t prune_at = 64;
};

}  // namespace mem_fs_internal

namespace {

using mem_fs_internal::Inode;
using mem_fs_internal::Link;
using mem_fs_internal::State;

absl::Status ErrnoError(int error_number, absl::string_view op,
                        absl::string_view path) {
  return absl::ErrnoToStatus(error_number, absl::StrCat(op, " ", path));
}

// Where a path leads: `node` is null when the final name does not exist;
// `parent` is null only for "/".
struct Resolved {
  std::vector<std::string> components;
  Inode* parent = nullptr;
  std::string name;
  std::shared_ptr<Inode> node;
};

absl::StatusOr<std::vector<std::string>> SplitPath(absl::string_view op,
                                                   absl::string_view path) {
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(op, " ", path, ": MemFileSystem paths must be absolute"));
  }
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.emplace_back(part);
  }
  return out;
}

absl::StatusOr<Resolved> Resolve(State& state, absl::string_view op,
                                 absl::string_view path) {
  Resolved r;
  RUNLOG_ASSIGN_OR_RETURN(r.components, SplitPath(op, path));
  if (r.components.empty()) {
    r.node = state.root;
    return r;
  }
  Inode* dir = state.root.get();
  for (size_t i = 0; i + 1 < r.components.size(); ++i) {
    auto it = dir->entries.find(r.components[i]);
    if (it == dir->entries.end()) return ErrnoError(ENOENT, op, path);
    Inode* next = it->second.inode.get();
    if (next->kind == Inode::Kind::kSymlink) return ErrnoError(ELOOP, op, path);
    if (next->kind != Inode::Kind::kDir) return ErrnoError(ENOTDIR, op, path);
    dir = next;
  }
  r.parent = dir;
  r.name = r.components.back();
  auto it = dir->entries.find(r.name);
  if (it != dir->entries.end()) r.node = it->second.inode;
  return r;
}

absl::StatusOr<Resolved> ResolveExisting(State& state, absl::string_view op,
                                         absl::string_view path) {
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, Resolve(state, op, path));
  if (r.node == nullptr) return ErrnoError(ENOENT, op, path);
  return r;
}

class MemWritableFile : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<State> state, std::shared_ptr<Inode> inode,
                  std::string path, uint64_t generation)
      : state_(std::move(state)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        generation_(generation) {}

  absl::Status Append(absl::string_view data) override {
    absl::MutexLock lock(&state_->mu);
    RUNLOG_RETURN_IF_ERROR(CheckUsable("write"));
    inode_->data.append(data.data(), data.size());
    inode_->mtime = state_->clock->Now();
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    absl::MutexLock lock(&state_->mu);
    RUNLOG_RETURN_IF_ERROR(CheckUsable("fdatasync"));
    inode_->durable_size = inode_->data.size();
    return absl::OkStatus();
  }

  absl::Status Close() override {
    absl::MutexLock lock(&state_->mu);
    closed_ = true;
    return absl::OkStatus();
  }

  const std::string& path() const override { return path_; }

 private:
  absl::Status CheckUsable(absl::string_view op) const {
    if (closed_) {
      return absl::FailedPreconditionError(
          absl::StrCat(op, " ", path_, ": file is closed"));
    }
    if (generation_ != state_->generation) {
      return absl::FailedPreconditionError(absl::StrCat(
          op, " ", path_, ": handle was opened before a simulated power loss"));
    }
    return absl::OkStatus();
  }

  const std::shared_ptr<State> state_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const uint64_t generation_;
  bool closed_ = false;
};

class MemRandomAccessFile : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::shared_ptr<State> state,
                      std::shared_ptr<Inode> inode, std::string path)
      : state_(std::move(state)),
        inode_(std::move(inode)),
        path_(std::move(path)) {}

  absl::StatusOr<absl::string_view> Read(uint64_t offset, size_t n,
                                         char* scratch) const override {
    absl::MutexLock lock(&state_->mu);
    const std::string& data = inode_->data;
    if (offset >= data.size()) return absl::string_view(scratch, 0);
    size_t len = std::min<uint64_t>(n, data.size() - offset);
    // Copied into the caller's buffer: the bytes may change (append,
    // SetContents) once the lock is released.
    std::memcpy(scratch, data.data() + offset, len);
    return absl::string_view(scratch, len);
  }

  absl::StatusOr<uint64_t> Size() const override {
    absl::MutexLock lock(&state_->mu);
    return inode_->data.size();
  }

  const std::string& path() const override { return path_; }

 private:
  const std::shared_ptr<State> state_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
};

}  // namespace

MemFileSystem::MemFileSystem(Clock* clock)
    : state_(std::make_shared<State>(clock)) {}

MemFileSystem::~MemFileSystem() = default;

absl::StatusOr<std::unique_ptr<WritableFile>> MemFileSystem::NewWritableFile(
    const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, Resolve(*state_, "open", path));
  if (r.node != nullptr) return ErrnoError(EEXIST, "open", path);
  absl::Time now = state_->clock->Now();
  auto inode = std::make_shared<Inode>(Inode::Kind::kFile, now);
  r.parent->entries[r.name] = Link{inode, ++state_->next_seq};
  r.parent->mtime = now;
  return std::unique_ptr<WritableFile>(std::make_unique<MemWritableFile>(
      state_, std::move(inode), path, state_->generation));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>>
MemFileSystem::NewRandomAccessFile(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, ResolveExisting(*state_, "open", path));
  switch (r.node->kind) {
    case Inode::Kind::kSymlink:
      return ErrnoError(ELOOP, "open", path);
    case Inode::Kind::kDir:
      return ErrnoError(EISDIR, "open", path);
    case Inode::Kind::kFile:
      break;
  }
  return std::unique_ptr<RandomAccessFile>(
      std::make_unique<MemRandomAccessFile>(state_, std::move(r.node), path));
}

absl::Status MemFileSystem::CreateDir(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, Resolve(*state_, "mkdir", path));
  if (r.node != nullptr) return ErrnoError(EEXIST, "mkdir", path);
  absl::Time now = state_->clock->Now();
  auto dir = std::make_shared<Inode>(Inode::Kind::kDir, now);
  state_->RegisterDir(dir);
  r.parent->entries[r.name] = Link{std::move(dir), ++state_->next_seq};
  r.parent->mtime = now;
  return absl::OkStatus();
}

absl::Status MemFileSystem::SyncDir(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, ResolveExisting(*state_, "open", path));
  if (r.node->kind != Inode::Kind::kDir) {
    return ErrnoError(ENOTDIR, "open", path);
  }
  r.node->durable_entries = r.node->entries;
  return absl::OkStatus();
}

absl::Status MemFileSystem::Rename(const std::string& from,
                                   const std::string& to) {
  absl::MutexLock lock(&state_->mu);
  const std::string what = absl::StrCat(from, " to ", to);
  RUNLOG_ASSIGN_OR_RETURN(Resolved src, Resolve(*state_, "rename", from));
  if (src.node == nullptr) return ErrnoError(ENOENT, "rename", what);
  if (src.parent == nullptr) return ErrnoError(EBUSY, "rename", what);
  RUNLOG_ASSIGN_OR_RETURN(Resolved dst, Resolve(*state_, "rename", to));
  if (dst.parent == nullptr) return ErrnoError(EBUSY, "rename", what);
  if (dst.node == src.node) return absl::OkStatus();  // Same link: rename(2).
  if (src.node->kind == Inode::Kind::kDir) {
    // Matches the POSIX implementation's RENAME_NOREPLACE for directories.
    if (dst.node != nullptr) return ErrnoError(EEXIST, "rename", what);
    // Paths are normalized and never cross symlinks, so "inside itself" is
    // a component prefix test.
    if (dst.components.size() > src.components.size() &&
        std::equal(src.components.begin(), src.components.end(),
                   dst.components.begin())) {
      return ErrnoError(EINVAL, "rename", what);
    }
  } else if (dst.node != nullptr && dst.node->kind == Inode::Kind::kDir) {
    return ErrnoError(EISDIR, "rename", what);
  }
  std::shared_ptr<Inode> node = std::move(src.node);
  src.parent->entries.erase(src.name);
  dst.parent->entries[dst.name] = Link{std::move(node), ++state_->next_seq};
  absl::Time now = state_->clock->Now();
  src.parent->mtime = now;
  dst.parent->mtime = now;
  return absl::OkStatus();
}

absl::Status MemFileSystem::RemoveFile(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, ResolveExisting(*state_, "unlink", path));
  if (r.node->kind == Inode::Kind::kDir) {
    return ErrnoError(EISDIR, "unlink", path);
  }
  r.parent->entries.erase(r.name);
  r.parent->mtime = state_->clock->Now();
  return absl::OkStatus();
}

absl::Status MemFileSystem::RemoveDir(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, ResolveExisting(*state_, "rmdir", path));
  if (r.parent == nullptr) return ErrnoError(EBUSY, "rmdir", path);
  if (r.node->kind != Inode::Kind::kDir) {
    return ErrnoError(ENOTDIR, "rmdir", path);
  }
  if (!r.node->entries.empty()) return ErrnoError(ENOTEMPTY, "rmdir", path);
  r.parent->entries.erase(r.name);
  r.parent->mtime = state_->clock->Now();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemFileSystem::ListDir(
    const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r,
                          ResolveExisting(*state_, "opendir", path));
  if (r.node->kind != Inode::Kind::kDir) {
    return ErrnoError(ENOTDIR, "opendir", path);
  }
  std::vector<std::string> names;
  names.reserve(r.node->entries.size());
  for (const auto& [name, link] : r.node->entries) names.push_back(name);
  return names;  // std::map keeps them sorted.
}

absl::StatusOr<FileInfo> MemFileSystem::Stat(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, ResolveExisting(*state_, "lstat", path));
  FileInfo info;
  switch (r.node->kind) {
    case Inode::Kind::kFile:
      info.type = FileType::kRegular;
      break;
    case Inode::Kind::kDir:
      info.type = FileType::kDirectory;
      break;
    case Inode::Kind::kSymlink:
      info.type = FileType::kSymlink;
      break;
  }
  info.size = r.node->kind == Inode::Kind::kDir ? 0 : r.node->data.size();
  info.modified = r.node->mtime;
  return info;
}

absl::Status MemFileSystem::Touch(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r,
                          ResolveExisting(*state_, "utimensat", path));
  if (r.node->kind != Inode::Kind::kFile) {
    return ErrnoError(r.node->kind == Inode::Kind::kDir ? EISDIR : ELOOP,
                      "utimensat", path);
  }
  r.node->mtime = state_->clock->Now();
  return absl::OkStatus();
}

void MemFileSystem::SimulatePowerLoss() {
  absl::MutexLock lock(&state_->mu);
  ++state_->generation;

  // Pass 1: over the durable graph reachable from "/", pick for every inode
  // the durable link with the highest sequence number. Two durable links to
  // one inode only arise from a rename made durable in one directory but
  // not the other; the newer link is the rename's destination, which a real
  // journal could have committed, while keeping both would invent a hard
  // link (and, for directories, possibly a cycle) no file system can hold.
  struct Choice {
    uint64_t seq;
    Inode* parent;
    const std::string* name;
  };
  absl::flat_hash_map<const Inode*, Choice> chosen;
  absl::flat_hash_set<const Inode*> seen = {state_->root.get()};
  std::deque<Inode*> queue = {state_->root.get()};
  while (!queue.empty()) {
    Inode* dir = queue.front();
    queue.pop_front();
    for (const auto& [name, link] : dir->durable_entries) {
      Inode* child = link.inode.get();
      auto [it, inserted] =
          chosen.try_emplace(child, Choice{link.seq, dir, &name});
      if (!inserted && link.seq > it->second.seq) {
        it->second = Choice{link.seq, dir, &name};
      }
      if (child->kind == Inode::Kind::kDir && seen.insert(child).second) {
        queue.push_back(child);
      }
    }
  }

  // Pass 2: rebuild from "/" keeping only chosen links. A directory whose
  // chosen link sits in a directory that is itself lost is lost too.
  std::vector<std::pair<Inode*, std::map<std::string, Link>>> rebuilt;
  queue = {state_->root.get()};
  while (!queue.empty()) {
    Inode* dir = queue.front();
    queue.pop_front();
    std::map<std::string, Link> kept;
    for (const auto& [name, link] : dir->durable_entries) {
      Inode* child = link.inode.get();
      const Choice& choice = chosen.at(child);
      if (choice.parent != dir || *choice.name != name) continue;
      kept.emplace(name, link);
      if (child->kind == Inode::Kind::kDir) {
        queue.push_back(child);
      } else if (child->kind == Inode::Kind::kFile) {
        child->data.resize(child->durable_size);
      }
    }
    rebuilt.emplace_back(dir, std::move(kept));
  }
  // Applied only now: pass 2 reads durable_entries (and `chosen` points at
  // their keys) until every directory has been visited.
  for (auto& [dir, entries] : rebuilt) {
    dir->durable_entries = entries;
    dir->entries = std::move(entries);
  }
}

absl::StatusOr<std::string> MemFileSystem::Contents(const std::string& path) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, ResolveExisting(*state_, "open", path));
  if (r.node->kind == Inode::Kind::kDir)
    return ErrnoError(EISDIR, "open", path);
  if (r.node->kind == Inode::Kind::kSymlink) {
    return ErrnoError(ELOOP, "open", path);
  }
  return r.node->data;
}

absl::Status MemFileSystem::SetContents(const std::string& path,
                                        std::string data) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, Resolve(*state_, "open", path));
  absl::Time now = state_->clock->Now();
  if (r.node == nullptr) {
    r.node = std::make_shared<Inode>(Inode::Kind::kFile, now);
    Link link{r.node, ++state_->next_seq};
    r.parent->entries[r.name] = link;
    r.parent->durable_entries[r.name] = link;
    r.parent->mtime = now;
  } else if (r.node->kind == Inode::Kind::kDir) {
    return ErrnoError(EISDIR, "open", path);
  } else if (r.node->kind == Inode::Kind::kSymlink) {
    return ErrnoError(ELOOP, "open", path);
  }
  r.node->data = std::move(data);
  r.node->durable_size = r.node->data.size();
  r.node->mtime = now;
  return absl::OkStatus();
}

absl::Status MemFileSystem::CreateSymlink(const std::string& path,
                                          const std::string& target) {
  absl::MutexLock lock(&state_->mu);
  RUNLOG_ASSIGN_OR_RETURN(Resolved r, Resolve(*state_, "symlink", path));
  if (r.node != nullptr) return ErrnoError(EEXIST, "symlink", path);
  absl::Time now = state_->clock->Now();
  auto inode = std::make_shared<Inode>(Inode::Kind::kSymlink, now);
  inode->data = target;
  inode->durable_size = target.size();
  Link link{std::move(inode), ++state_->next_seq};
  r.parent->entries[r.name] = link;
  r.parent->durable_entries[r.name] = link;
  r.parent->mtime = now;
  return absl::OkStatus();
}

}  // namespace runlog::storage
