#include "storage/column_file.h"

#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/run_id.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

// Blocks are buffered up to this size before they are handed to the OS.
constexpr size_t kWriteBufferSize = 1 << 20;

absl::Status Damaged(absl::string_view path, uint64_t offset,
                     absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": offset ", offset, ": ", what));
}

absl::Status ReadExactly(const RandomAccessFile& file, uint64_t offset,
                         size_t n, std::string* out) {
  out->resize(n);
  RUNLOG_ASSIGN_OR_RETURN(absl::string_view got,
                          file.Read(offset, n, out->data()));
  if (got.size() != n) {
    return Damaged(
        file.path(), offset,
        absl::StrCat("file ends after ", got.size(), " of ", n, " bytes"));
  }
  if (got.data() != out->data()) std::memmove(out->data(), got.data(), n);
  return absl::OkStatus();
}

}  // namespace

// ---- ColumnFileWriter -------------------------------------------------------

ColumnFileWriter::ColumnFileWriter(std::unique_ptr<WritableFile> file,
                                   std::string path, uint32_t number)
    : file_(std::move(file)), path_(std::move(path)), number_(number) {}

ColumnFileWriter::~ColumnFileWriter() {
  if (file_ != nullptr) file_->Close().IgnoreError();
}

absl::StatusOr<std::unique_ptr<ColumnFileWriter>> ColumnFileWriter::Create(
    FileSystem* fs, const std::string& dir, absl::string_view run_id,
    uint32_t number) {
  RUNLOG_RETURN_IF_ERROR(ValidateRunId(run_id));
  if (number == 0) {
    return absl::InvalidArgumentError("column file number must be positive");
  }
  std::string path = JoinPath(dir, ColumnFileName(number));
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                          fs->NewWritableFile(path));
  std::unique_ptr<ColumnFileWriter> writer(
      new ColumnFileWriter(std::move(file), std::move(path), number));
  writer->buffer_.reserve(kWriteBufferSize + format::kChunkHeaderSize);
  const std::string header =
      EncodeFileHeader(format::kColumnFileMagic, run_id, number);
  RUNLOG_RETURN_IF_ERROR(writer->Write(header));
  return writer;
}

absl::Status ColumnFileWriter::Poison(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
  return status_;
}

absl::Status ColumnFileWriter::Write(absl::string_view bytes) {
  checksum_.Update(bytes);
  length_ += bytes.size();
  buffer_.append(bytes.data(), bytes.size());
  if (buffer_.size() < kWriteBufferSize) return absl::OkStatus();
  absl::Status s = file_->Append(buffer_);
  buffer_.clear();
  if (!s.ok()) return Poison(std::move(s));
  return absl::OkStatus();
}

absl::StatusOr<BlockHandle> ColumnFileWriter::AddBlock(
    uint8_t type, absl::string_view payload) {
  RUNLOG_RETURN_IF_ERROR(status_);
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": column file already finished"));
  }
  if (type == format::kChunkFooter) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": block type ", type, " is the footer's"));
  }
  if (payload.size() > format::kMaxChunkPayload) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": block of ", payload.size(),
                     " bytes exceeds the limit of ", format::kMaxChunkPayload));
  }
  BlockHandle handle{length_, static_cast<uint32_t>(payload.size())};
  char header[format::kChunkHeaderSize];
  EncodeChunkHeader(type, payload, header);
  RUNLOG_RETURN_IF_ERROR(Write(absl::string_view(header, sizeof(header))));
  RUNLOG_RETURN_IF_ERROR(Write(payload));
  return handle;
}

absl::StatusOr<SegmentInfo> ColumnFileWriter::Finish(absl::string_view footer,
                                                     bool sync) {
  RUNLOG_RETURN_IF_ERROR(status_);
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, ": column file already finished"));
  }
  if (footer.size() > format::kMaxColumnFooter) {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ": footer of ", footer.size(),
                     " bytes exceeds the limit of ", format::kMaxColumnFooter));
  }
  finished_ = true;
  const uint64_t footer_offset = length_;
  char header[format::kChunkHeaderSize];
  EncodeChunkHeader(format::kChunkFooter, footer, header);
  RUNLOG_RETURN_IF_ERROR(Write(absl::string_view(header, sizeof(header))));
  RUNLOG_RETURN_IF_ERROR(Write(footer));
  std::string trailer;
  PutFixed64(&trailer, footer_offset);
  trailer.append(format::kColumnTrailerMagic, 8);
  RUNLOG_RETURN_IF_ERROR(Write(trailer));
  if (!buffer_.empty()) {
    absl::Status s = file_->Append(buffer_);
    buffer_.clear();
    if (!s.ok()) return Poison(std::move(s));
  }
  if (sync) {
    // Never retried: after a failed fsync the page cache may have dropped
    // the dirty pages, so the file's contents are unknown.
    absl::Status s = file_->Sync();
    if (!s.ok()) return Poison(std::move(s));
  }
  absl::Status s = file_->Close();
  file_.reset();
  if (!s.ok()) return Poison(std::move(s));
  return SegmentInfo{number_, length_, checksum_.Digest(),
                     format::SegmentKind::kColumn};
}

// ---- ColumnFileReader -------------------------------------------------------

ColumnFileReader::ColumnFileReader(std::unique_ptr<RandomAccessFile> file,
                                   std::string path, uint64_t blocks_end)
    : file_(std::move(file)), path_(std::move(path)), blocks_end_(blocks_end) {}

absl::StatusOr<std::unique_ptr<ColumnFileReader>> ColumnFileReader::Open(
    FileSystem* fs, const std::string& dir, absl::string_view run_id,
    const SegmentInfo& info) {
  std::string path = JoinPath(dir, ColumnFileName(info.number));
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                          fs->NewRandomAccessFile(path));
  RUNLOG_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  if (size != info.length) {
    return Damaged(path, std::min(size, info.length),
                   absl::StrCat("file is ", size, " bytes, the manifest says ",
                                info.length));
  }
  constexpr uint64_t kMinSize = format::kSegmentHeaderSize +
                                format::kChunkHeaderSize +
                                format::kColumnTrailerSize;
  if (size < kMinSize) {
    return Damaged(path, 0,
                   absl::StrCat("file of ", size,
                                " bytes is too short for a column file"));
  }
  std::string scratch;
  RUNLOG_RETURN_IF_ERROR(
      ReadExactly(*file, 0, format::kSegmentHeaderSize, &scratch));
  RUNLOG_RETURN_IF_ERROR(CheckFileHeader(scratch, format::kColumnFileMagic,
                                         run_id, info.number, path));

  const uint64_t trailer_at = size - format::kColumnTrailerSize;
  RUNLOG_RETURN_IF_ERROR(
      ReadExactly(*file, trailer_at, format::kColumnTrailerSize, &scratch));
  if (absl::string_view(scratch.data() + 8, 8) !=
      absl::string_view(format::kColumnTrailerMagic, 8)) {
    return Damaged(path, trailer_at + 8, "bad trailer magic");
  }
  const uint64_t footer_at = DecodeFixed64(scratch.data());
  if (footer_at < format::kSegmentHeaderSize ||
      footer_at > trailer_at - format::kChunkHeaderSize) {
    return Damaged(path, trailer_at,
                   absl::StrCat("footer offset ", footer_at,
                                " is outside the file's blocks"));
  }
  std::unique_ptr<ColumnFileReader> reader(
      new ColumnFileReader(std::move(file), path, footer_at));
  // The footer must fill exactly the bytes between its offset and the
  // trailer; its length is bounded by the file size checked above.
  RUNLOG_RETURN_IF_ERROR(ReadExactly(*reader->file_, footer_at,
                                     trailer_at - footer_at,
                                     &reader->footer_chunk_));
  Chunk chunk;
  RUNLOG_RETURN_IF_ERROR(
      ParseChunkAt(reader->footer_chunk_, 0, footer_at, path, &chunk));
  if (chunk.type != format::kChunkFooter) {
    return Damaged(path, footer_at,
                   absl::StrCat("chunk of type ", chunk.type,
                                " where the footer should be"));
  }
  if (format::kChunkHeaderSize + chunk.payload.size() !=
      reader->footer_chunk_.size()) {
    return Damaged(path, footer_at,
                   "footer does not end where the trailer begins");
  }
  reader->footer_ = chunk.payload;
  return reader;
}

absl::StatusOr<absl::string_view> ColumnFileReader::ReadBlock(
    const BlockHandle& handle, uint8_t* type, std::string* scratch) const {
  const uint64_t end =
      handle.offset + format::kChunkHeaderSize + uint64_t{handle.length};
  if (handle.offset < format::kSegmentHeaderSize || end > blocks_end_ ||
      handle.length > format::kMaxChunkPayload) {
    return Damaged(path_, handle.offset,
                   absl::StrCat("block of ", handle.length,
                                " bytes is outside the file's blocks"));
  }
  RUNLOG_RETURN_IF_ERROR(ReadExactly(*file_, handle.offset,
                                     format::kChunkHeaderSize + handle.length,
                                     scratch));
  Chunk chunk;
  RUNLOG_RETURN_IF_ERROR(
      ParseChunkAt(*scratch, 0, handle.offset, path_, &chunk));
  if (chunk.payload.size() != handle.length ||
      chunk.type == format::kChunkFooter) {
    return Damaged(path_, handle.offset,
                   "block does not match the footer's index");
  }
  *type = chunk.type;
  return chunk.payload;
}

absl::Status ColumnFileReader::VerifyWholeFile(const SegmentInfo& info) const {
  StreamingChecksum sum;
  std::string scratch;
  constexpr size_t kStep = 1 << 20;
  for (uint64_t at = 0; at < info.length; at += kStep) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kStep, info.length - at));
    RUNLOG_RETURN_IF_ERROR(ReadExactly(*file_, at, n, &scratch));
    sum.Update(scratch);
  }
  if (sum.Digest() != info.checksum) {
    return Damaged(path_, 0,
                   absl::StrFormat("checksum mismatch: file 0x%016x, "
                                   "manifest says 0x%016x",
                                   sum.Digest(), info.checksum));
  }
  return absl::OkStatus();
}

}  // namespace runlog::storage
