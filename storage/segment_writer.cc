#include "storage/segment_writer.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "storage/format.h"
#include "storage/run_id.h"
#include "storage/segment_reader.h"
#include "storage/status_macros.h"

namespace runlog::storage {

absl::StatusOr<std::unique_ptr<SegmentWriter>> SegmentWriter::Create(
    FileSystem* fs, std::string run_dir, std::string run_id,
    SegmentWriterOptions options) {
  RUNLOG_RETURN_IF_ERROR(ValidateRunId(run_id));
  if (options.first_segment_number == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("run ", run_id, ": segment numbers start at 1"));
  }
  // The largest segment the writer can produce is max(roll_size, one maximal
  // chunk in its own segment); the latter is far below the reader's limit, so
  // bounding roll_size keeps every file this writer makes readable.
  if (options.roll_size > kMaxSegmentFileSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "run ", run_id, ": roll_size ", options.roll_size,
        " exceeds the segment file limit of ", kMaxSegmentFileSize, " bytes"));
  }
  std::unique_ptr<SegmentWriter> writer(
      new SegmentWriter(fs, std::move(run_dir), std::move(run_id), options));
  RUNLOG_RETURN_IF_ERROR(writer->OpenSegment(options.first_segment_number));
  return writer;
}

SegmentWriter::SegmentWriter(FileSystem* fs, std::string run_dir,
                             std::string run_id, SegmentWriterOptions options)
    : fs_(fs),
      run_dir_(std::move(run_dir)),
      run_id_(std::move(run_id)),
      options_(options) {
  // The buffer is written out once it holds buffer_size bytes, so it peaks at
  // buffer_size plus one chunk; reserving up front avoids regrowth on the
  // append path for the common small-chunk case.
  buffer_.reserve(options_.buffer_size + 4096);
}

SegmentWriter::~SegmentWriter() = default;

absl::Status SegmentWriter::Poison(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

absl::Status SegmentWriter::CheckUsable() const {
  if (!status_.ok()) return status_;
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("segment writer of run ", run_id_, " is finished"));
  }
  return absl::OkStatus();
}

void SegmentWriter::AddToCurrent(absl::string_view bytes) {
  file_checksum_.Update(bytes);
  segments_.back().length += bytes.size();
  checksum_stale_ = true;
  current_synced_ = false;
}

void SegmentWriter::RefreshChecksum() const {
  if (!checksum_stale_) return;
  segments_.back().checksum = file_checksum_.Digest();
  checksum_stale_ = false;
}

const std::vector<SegmentInfo>& SegmentWriter::segments() const {
  RefreshChecksum();
  return segments_;
}

absl::Status SegmentWriter::OpenSegment(uint32_t number) {
  const std::string path = JoinPath(run_dir_, SegmentFileName(number));
  absl::StatusOr<std::unique_ptr<WritableFile>> file =
      fs_->NewWritableFile(path);
  if (!file.ok()) return Poison(file.status());
  file_ = *std::move(file);
  // The previous segment's entry is final from here on.
  if (!segments_.empty()) RefreshChecksum();
  file_checksum_.Reset();
  segments_.push_back(SegmentInfo{number, 0, 0});
  const std::string header = EncodeSegmentHeader(run_id_, number);
  buffer_.append(header);
  AddToCurrent(header);
  return absl::OkStatus();
}

absl::Status SegmentWriter::WriteBuffer() {
  if (buffer_.empty()) return absl::OkStatus();
  absl::Status s = file_->Append(buffer_);
  // The bytes count as appended either way: after a failed write the file
  // holds an unknown prefix of them, and the writer is poisoned for good, so
  // there is nothing to retry.
  buffer_.clear();
  if (!s.ok()) return Poison(std::move(s));
  return absl::OkStatus();
}

absl::Status SegmentWriter::Roll() {
  const uint32_t number = segments_.back().number;
  if (number == std::numeric_limits<uint32_t>::max()) {
    return Poison(absl::ResourceExhaustedError(
        absl::StrCat("run ", run_id_, ": no segment number after ", number)));
  }
  RUNLOG_RETURN_IF_ERROR(WriteBuffer());
  if (options_.sync_on_roll && !current_synced_) {
    absl::Status s = file_->Sync();
    if (!s.ok()) return Poison(std::move(s));
    current_synced_ = true;
  }
  absl::Status s = file_->Close();
  file_.reset();
  if (!s.ok()) return Poison(std::move(s));
  return OpenSegment(number + 1);
}

absl::Status SegmentWriter::AppendChunk(uint8_t type, absl::string_view payload,
                                        bool may_roll) {
  RUNLOG_RETURN_IF_ERROR(CheckUsable());
  if (payload.size() > format::kMaxChunkPayload) {
    return absl::InvalidArgumentError(
        absl::StrCat("run ", run_id_, ": chunk payload of ", payload.size(),
                     " bytes exceeds the limit of ", format::kMaxChunkPayload));
  }
  const uint64_t framed = format::kChunkHeaderSize + payload.size();
  const SegmentInfo& current = segments_.back();
  // A segment holding only its header takes the chunk whatever its size, so
  // an oversized chunk gets a segment of its own and no segment is empty.
  if (may_roll && current.length > format::kSegmentHeaderSize &&
      current.length + framed > options_.roll_size) {
    RUNLOG_RETURN_IF_ERROR(Roll());
  }

  char header[format::kChunkHeaderSize];
  EncodeChunkHeader(type, payload, header);
  const absl::string_view header_view(header, sizeof(header));
  AddToCurrent(header_view);
  AddToCurrent(payload);

  if (payload.size() >= options_.buffer_size) {
    // A payload as large as the buffer would only be copied to be written at
    // once; write it straight from the caller's memory instead.
    buffer_.append(header_view.data(), header_view.size());
    RUNLOG_RETURN_IF_ERROR(WriteBuffer());
    absl::Status s = file_->Append(payload);
    if (!s.ok()) return Poison(std::move(s));
    return absl::OkStatus();
  }
  buffer_.append(header_view.data(), header_view.size());
  buffer_.append(payload.data(), payload.size());
  if (buffer_.size() >= options_.buffer_size) return WriteBuffer();
  return absl::OkStatus();
}

absl::Status SegmentWriter::Flush() {
  RUNLOG_RETURN_IF_ERROR(CheckUsable());
  return WriteBuffer();
}

absl::Status SegmentWriter::Sync() {
  RUNLOG_RETURN_IF_ERROR(CheckUsable());
  RUNLOG_RETURN_IF_ERROR(WriteBuffer());
  if (current_synced_) return absl::OkStatus();
  // Never retried: a failed fsync poisons the writer, and every later call
  // returns that error without reaching the file system (fsyncgate).
  absl::Status s = file_->Sync();
  if (!s.ok()) return Poison(std::move(s));
  current_synced_ = true;
  return absl::OkStatus();
}

absl::Status SegmentWriter::Finish(bool sync) {
  absl::Status s = CheckUsable();
  if (s.ok()) s = sync ? Sync() : WriteBuffer();
  if (s.ok() && file_ != nullptr) {
    s = file_->Close();
    if (!s.ok()) s = Poison(std::move(s));
  }
  // The descriptor is released even when poisoned, so a failed run does not
  // hold files open until the writer dies.
  file_.reset();
  buffer_.clear();
  finished_ = true;
  return s;
}

}  // namespace runlog::storage
