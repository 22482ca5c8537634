#include "storage/run_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/commit_manifest.h"
#include "storage/segment_reader.h"
#include "storage/status_macros.h"

namespace runlog::storage {

absl::StatusOr<std::unique_ptr<RunWriter>> RunWriter::Start(
    FileSystem* fs, std::string run_dir, std::string run_id,
    const RunWriterOptions& options) {
  SegmentWriterOptions seg;
  seg.roll_size = options.segment_roll_size;
  seg.buffer_size = options.buffer_size;
  seg.sync_on_roll = options.sync_policy != SyncPolicy::kNever;
  RUNLOG_ASSIGN_OR_RETURN(auto segments,
                          SegmentWriter::Create(fs, run_dir, run_id, seg));
  return std::unique_ptr<RunWriter>(
      new RunWriter(fs, std::move(run_dir), std::move(run_id),
                    options.sync_policy, std::move(segments)));
}

RunWriter::RunWriter(FileSystem* fs, std::string run_dir, std::string run_id,
                     SyncPolicy policy, std::unique_ptr<SegmentWriter> segments)
    : fs_(fs),
      run_dir_(std::move(run_dir)),
      run_id_(std::move(run_id)),
      policy_(policy),
      segments_(std::move(segments)) {}

RunWriter::~RunWriter() {
  if (state_ == State::kOpen) Close().IgnoreError();
}

absl::Status RunWriter::Poison(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

absl::Status RunWriter::CheckWritable() const {
  if (!status_.ok()) return status_;
  switch (state_) {
    case State::kOpen:
      return absl::OkStatus();
    case State::kCommitted:
      return absl::FailedPreconditionError(
          absl::StrCat("run ", run_id_, " is already committed"));
    case State::kClosed:
      return absl::FailedPreconditionError(
          absl::StrCat("run ", run_id_, " is closed"));
  }
  return absl::InternalError("unreachable");
}

absl::Status RunWriter::AppendChunk(uint8_t type, absl::string_view payload) {
  RUNLOG_RETURN_IF_ERROR(CheckWritable());
  absl::Status s = segments_->AppendChunk(type, payload);
  // Oversize input is the caller's mistake and leaves the writer usable; any
  // other failure came from the file system and poisons it.
  if (!s.ok() && !absl::IsInvalidArgument(s)) return Poison(std::move(s));
  return s;
}

absl::Status RunWriter::Flush() {
  RUNLOG_RETURN_IF_ERROR(CheckWritable());
  absl::Status s = policy_ == SyncPolicy::kEveryFlush ? segments_->Sync()
                                                      : segments_->Flush();
  if (!s.ok()) return Poison(std::move(s));
  return absl::OkStatus();
}

absl::Status RunWriter::Sync() {
  RUNLOG_RETURN_IF_ERROR(CheckWritable());
  absl::Status s =
      policy_ == SyncPolicy::kNever ? segments_->Flush() : segments_->Sync();
  if (!s.ok()) return Poison(std::move(s));
  return absl::OkStatus();
}

absl::Status RunWriter::Commit(format::RunStatus status, absl::Time end_time,
                               absl::string_view reason,
                               absl::string_view summary) {
  RUNLOG_RETURN_IF_ERROR(CheckWritable());
  CommitManifest manifest;
  manifest.run_id = run_id_;
  manifest.status = status;
  manifest.end_time = end_time;
  manifest.reason = std::string(reason);
  manifest.summary = std::string(summary);
  // Validate before touching the disk so that bad caller input (an oversize
  // reason or summary) does not poison the run.
  RUNLOG_RETURN_IF_ERROR(EncodeCommitManifest(manifest).status());

  const bool sync = policy_ != SyncPolicy::kNever;
  // The commit record (format.h, kChunkCommit): the manifest as it stands
  // before the record, appended to the last segment and synced with it.
  // It lets COMMIT skip its own fsync and the extra directory fsync that
  // ordered the segments' names before it; docs/design.md argues the count.
  // A manifest too large for one chunk commits the longer way.
  CommitManifest before = manifest;
  before.segments = segments_->segments();
  absl::StatusOr<std::string> record = EncodeCommitManifest(before);
  const uint64_t last_length = before.segments.back().length;
  const bool with_record =
      record.ok() && record->size() <= format::kMaxChunkPayload &&
      last_length + format::kChunkHeaderSize + record->size() <=
          kMaxSegmentFileSize;
  if (with_record) {
    if (absl::Status s = segments_->AppendChunk(format::kChunkCommit, *record,
                                                /*may_roll=*/false);
        !s.ok()) {
      return Poison(std::move(s));
    }
  }
  if (absl::Status s = segments_->Finish(sync); !s.ok()) {
    return Poison(std::move(s));
  }
  manifest.segments = segments_->segments();
  if (sync && !with_record) {
    // The segments' own directory entries must be durable before COMMIT
    // names them, or a power loss could leave a COMMIT that points at
    // nothing.
    if (absl::Status s = fs_->SyncDir(run_dir_); !s.ok()) {
      return Poison(std::move(s));
    }
  }
  // With the record, COMMIT's bytes need no fsync (a torn COMMIT is rebuilt
  // from the record) and one directory fsync makes the segments' names and
  // COMMIT's durable together.
  absl::Status written = WriteCommitManifest(*fs_, run_dir_, manifest,
                                             /*sync=*/sync && !with_record);
  if (written.ok() && sync && with_record) written = fs_->SyncDir(run_dir_);
  // CreateRun syncs nothing, so the run's own entry in runs/ becomes durable
  // here, before the commit is acknowledged.
  if (written.ok() && sync) written = fs_->SyncDir(ParentDir(run_dir_));
  if (!written.ok()) {
    // The rename may have happened before the failure (a failed fsync of a
    // directory). A run whose commit reported an error must not look
    // committed (invariant 7), so take COMMIT back; its absence is the state
    // the caller was told about. The record in the segment only counts
    // where COMMIT exists (a torn one), so it is inert without it.
    fs_->RemoveFile(JoinPath(run_dir_, format::kCommitFileName)).IgnoreError();
    fs_->RemoveFile(JoinPath(run_dir_, format::kCommitTempFileName))
        .IgnoreError();
    return Poison(std::move(written));
  }
  state_ = State::kCommitted;
  return absl::OkStatus();
}

absl::Status RunWriter::Heartbeat() {
  RUNLOG_RETURN_IF_ERROR(CheckWritable());
  absl::Status s = fs_->Touch(JoinPath(run_dir_, format::kOwnerFileName));
  if (absl::IsNotFound(s)) {
    return Poison(absl::NotFoundError(
        absl::StrCat("run ", run_id_, " was deleted by another process (",
                     s.message(), ")")));
  }
  return s;
}

uint64_t RunWriter::bytes_written() const {
  uint64_t total = 0;
  for (const SegmentInfo& info : segments_->segments()) total += info.length;
  return total - segments_->buffered_bytes();
}

absl::Status RunWriter::Close() {
  if (state_ != State::kOpen) return status_;
  state_ = State::kClosed;
  if (!status_.ok()) {
    segments_->Finish(/*sync=*/false).IgnoreError();
    return status_;
  }
  absl::Status s = segments_->Finish(policy_ == SyncPolicy::kEveryFlush);
  if (!s.ok()) return Poison(std::move(s));
  return absl::OkStatus();
}

}  // namespace runlog::storage
