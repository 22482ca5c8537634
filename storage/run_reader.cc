#include "storage/run_reader.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/status_macros.h"

namespace runlog::storage {

absl::StatusOr<std::unique_ptr<RunReader>> RunReader::Open(FileSystem* fs,
                                                           std::string run_dir,
                                                           std::string run_id) {
  std::optional<CommitManifest> manifest;
  std::vector<SegmentInfo> plan;
  absl::StatusOr<CommitManifest> read = ReadCommitManifest(*fs, run_dir);
  if (read.ok()) {
    if (read->run_id != run_id) {
      return absl::DataLossError(
          absl::StrCat(JoinPath(run_dir, format::kCommitFileName),
                       ": names run ", read->run_id, ", expected ", run_id));
    }
    plan = read->segments;
    manifest = *std::move(read);
  } else if (absl::IsNotFound(read.status())) {
    // Not committed (yet): read whatever segments exist. A commit racing with
    // this listing is harmless, the segments we read are append-only.
    RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names,
                            fs->ListDir(run_dir));
    for (const std::string& name : names) {
      if (std::optional<uint32_t> n = ParseSegmentFileName(name)) {
        plan.push_back(SegmentInfo{*n, 0, 0});
      }
    }
    std::sort(plan.begin(), plan.end(),
              [](const SegmentInfo& a, const SegmentInfo& b) {
                return a.number < b.number;
              });
  } else {
    return read.status();
  }
  return std::unique_ptr<RunReader>(
      new RunReader(fs, std::move(run_dir), std::move(run_id),
                    std::move(manifest), std::move(plan)));
}

RunReader::RunReader(FileSystem* fs, std::string run_dir, std::string run_id,
                     std::optional<CommitManifest> manifest,
                     std::vector<SegmentInfo> plan)
    : fs_(fs),
      run_dir_(std::move(run_dir)),
      run_id_(std::move(run_id)),
      manifest_(std::move(manifest)),
      plan_(std::move(plan)) {}

absl::Status RunReader::OpenNextSegment() {
  const SegmentInfo& info = plan_[next_index_++];
  if (info.kind != format::SegmentKind::kLog) {
    return absl::FailedPreconditionError(absl::StrCat(
        "run ", run_id_,
        " is compacted: ", JoinPath(run_dir_, FileNameOf(info)),
        " is a column file, read through its footer, not as a log"));
  }
  const std::string path = JoinPath(run_dir_, SegmentFileName(info.number));
  absl::StatusOr<std::unique_ptr<SegmentReader>> reader =
      committed()
          ? SegmentReader::Open(fs_, path, run_id_, TailPolicy::kExactManifest,
                                info)
          : SegmentReader::Open(fs_, path, run_id_, TailPolicy::kTornTailIsEnd);
  if (!reader.ok()) {
    if (committed() && absl::IsNotFound(reader.status())) {
      // Deletion renames the whole directory away (invariant 5): a run
      // deleted while we read is gone, not damaged.
      if (absl::IsNotFound(fs_->Stat(run_dir_).status())) {
        return absl::NotFoundError(absl::StrCat(
            "run ", run_id_, " was deleted while being read (", path, ")"));
      }
      return absl::DataLossError(
          absl::StrCat(path, ": missing, but ", format::kCommitFileName,
                       " of run ", run_id_, " lists it"));
    }
    return reader.status();
  }
  current_ = *std::move(reader);
  current_number_ = info.number;
  return absl::OkStatus();
}

absl::StatusOr<bool> RunReader::Next(Chunk* chunk) {
  while (!stopped_) {
    if (current_ == nullptr) {
      if (next_index_ >= plan_.size()) return false;
      RUNLOG_RETURN_IF_ERROR(OpenNextSegment());
    }
    RUNLOG_ASSIGN_OR_RETURN(bool more, current_->Next(chunk));
    if (more) return true;
    const uint64_t torn = current_->ignored_tail_bytes();
    ignored_tail_bytes_ += torn;
    const std::string torn_path = current_->path();
    if (tail_damage_.ok() && !current_->tail_damage().ok()) {
      tail_damage_ = current_->tail_damage();
      tail_damage_file_ = torn_path;
    }
    const uint64_t torn_at = current_->valid_length();
    current_.reset();
    // A live segment that ended in a torn chunk is where the writer stopped;
    // anything after it cannot be trusted to follow on without a hole.
    if (torn > 0 && !committed()) {
      stopped_ = true;
      // The writer syncs and finishes a segment before it starts the next,
      // so a torn segment followed by another is damage.
      uint64_t unread = 0;
      for (size_t i = next_index_; i < plan_.size(); ++i) {
        absl::StatusOr<FileInfo> info =
            fs_->Stat(JoinPath(run_dir_, SegmentFileName(plan_[i].number)));
        if (info.ok()) unread += info->size;
      }
      if (next_index_ < plan_.size()) {
        ignored_tail_bytes_ += unread;
        if (tail_damage_.ok()) {
          tail_damage_file_ = torn_path;
          tail_damage_ = absl::DataLossError(absl::StrCat(
              torn_path, ": offset ", torn_at, ": chunk damaged, yet ",
              plan_.size() - next_index_, " later segment(s) of ", unread,
              " bytes follow; they are not read"));
        }
      }
    }
  }
  return false;
}

}  // namespace runlog::storage
