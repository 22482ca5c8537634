#include "storage/segment_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

std::string Hex64(uint64_t v) { return absl::StrFormat("0x%016x", v); }

bool AllZero(absl::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](char c) { return c == '\0'; });
}

absl::Status HeaderError(const std::string& path, absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": segment header at offset 0: ", what));
}

// Runlog files are append-only: one that shrinks while read was truncated
// by someone else.
absl::Status Shrank(const std::string& path, uint64_t size, uint64_t at) {
  return absl::DataLossError(absl::StrCat(path, ": file shrank from ", size,
                                          " to ", at,
                                          " bytes while being read"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SegmentReader>> SegmentReader::Open(
    FileSystem* fs, const std::string& path, absl::string_view run_id,
    TailPolicy policy, std::optional<SegmentInfo> expected) {
  const size_t slash = path.rfind('/');
  const absl::string_view base =
      slash == std::string::npos ? absl::string_view(path)
                                 : absl::string_view(path).substr(slash + 1);
  const std::optional<uint32_t> number = ParseSegmentFileName(base);
  if (!number.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a segment file name"));
  }
  if (run_id.size() > format::kMaxRunIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": run id \"", absl::CEscape(run_id),
                     "\" is longer than ", format::kMaxRunIdLength));
  }
  if (policy == TailPolicy::kExactManifest) {
    if (!expected.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path,
          ": reading with the exact-manifest policy needs the manifest "
          "entry"));
    }
    if (expected->number != *number) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": manifest entry is for segment ",
                       expected->number, ", not ", *number));
    }
  }

  // The size is checked as corruption before the read: the writer never makes
  // a file this large, so one that is can only be damage or foreign. Checked
  // again on the opened file, whose size is what is read.
  auto too_large = [&path](uint64_t size) {
    return absl::DataLossError(absl::StrCat(path, ": length ", size,
                                            " exceeds the limit of ",
                                            kMaxSegmentFileSize, " bytes"));
  };
  RUNLOG_ASSIGN_OR_RETURN(FileInfo info, fs->Stat(path));
  if (info.size > kMaxSegmentFileSize) return too_large(info.size);
  RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file,
                          fs->NewRandomAccessFile(path));
  RUNLOG_ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  if (size > kMaxSegmentFileSize) return too_large(size);
  bool checksum_mismatch = false;
  uint64_t file_checksum = 0;
  if (policy == TailPolicy::kExactManifest) {
    if (size != expected->length) {
      return absl::DataLossError(
          absl::StrCat(path, ": length ", size, ", manifest says ",
                       expected->length, " (data differs from offset ",
                       std::min(size, expected->length), ")"));
    }
    // A pass of its own, so that no chunk is returned from a file that does
    // not match its manifest, without holding the file.
    StreamingChecksum sum;
    std::string scratch(
        static_cast<size_t>(std::min<uint64_t>(size, kReadAhead)), '\0');
    for (uint64_t at = 0; at < size;) {
      const size_t n =
          static_cast<size_t>(std::min<uint64_t>(size - at, kReadAhead));
      RUNLOG_ASSIGN_OR_RETURN(absl::string_view got,
                              file->Read(at, n, scratch.data()));
      if (got.empty()) return Shrank(path, size, at);
      sum.Update(got);
      at += got.size();
    }
    file_checksum = sum.Digest();
    checksum_mismatch = file_checksum != expected->checksum;
  }

  std::unique_ptr<SegmentReader> reader(
      new SegmentReader(path, std::move(file), size, policy, *number));
  if (checksum_mismatch) {
    // Locate the damage so the message names an offset: the first header or
    // chunk that fails its own check. Every byte is covered by one of them,
    // so finding none means the whole file was replaced by another valid one.
    // (An error path: the whole file is read for it.)
    RUNLOG_RETURN_IF_ERROR(reader->Fill(size));
    absl::Status header = reader->CheckHeader(run_id);
    std::string where;
    if (!header.ok()) {
      where = std::string(header.message());
    } else {
      Chunk chunk;
      absl::Status io;
      while (reader->pos_ < reader->size_) {
        absl::Status damage = reader->ParseChunk(&chunk, &io);
        RUNLOG_RETURN_IF_ERROR(io);
        if (!damage.ok()) {
          where = std::string(damage.message());
          break;
        }
        reader->pos_ =
            chunk.offset + format::kChunkHeaderSize + chunk.payload.size();
      }
      if (where.empty()) {
        where = absl::StrCat(path,
                             ": every chunk from offset 0 is intact; the file "
                             "is not the one the manifest describes");
      }
    }
    return absl::DataLossError(absl::StrCat(
        path, ": checksum mismatch: file ", Hex64(file_checksum),
        ", manifest says ", Hex64(expected->checksum), "; ", where));
  }
  RUNLOG_RETURN_IF_ERROR(reader->CheckHeader(run_id));
  return reader;
}

SegmentReader::SegmentReader(std::string path,
                             std::unique_ptr<RandomAccessFile> file,
                             uint64_t size, TailPolicy policy, uint32_t number)
    : path_(std::move(path)),
      file_(std::move(file)),
      size_(size),
      policy_(policy),
      number_(number),
      pos_(0) {}

absl::Status SegmentReader::Fill(uint64_t end) {
  end = std::min(end, size_);
  const uint64_t have = window_base_ + window_.size();
  if (end <= have) return absl::OkStatus();
  // What lies before pos_ was returned already (its views expire now).
  if (pos_ > window_base_) {
    window_.erase(0, static_cast<size_t>(pos_ - window_base_));
    window_base_ = pos_;
  }
  const uint64_t target =
      std::min(size_, std::max<uint64_t>(end, have + kReadAhead));
  uint64_t at = have;
  window_.resize(static_cast<size_t>(target - window_base_));
  while (at < target) {
    char* dst = window_.data() + (at - window_base_);
    absl::StatusOr<absl::string_view> got =
        file_->Read(at, static_cast<size_t>(target - at), dst);
    if (!got.ok() || got->empty()) {
      window_.resize(static_cast<size_t>(at - window_base_));
      if (!got.ok()) return got.status();
      return Shrank(path_, size_, at);
    }
    if (got->data() != dst) std::memcpy(dst, got->data(), got->size());
    at += got->size();
  }
  return absl::OkStatus();
}

absl::Status SegmentReader::CheckHeader(absl::string_view run_id) {
  RUNLOG_RETURN_IF_ERROR(Fill(format::kSegmentHeaderSize));
  const absl::string_view data = From(0);
  if (size_ < format::kSegmentHeaderSize ||
      AllZero(data.substr(0, format::kSegmentHeaderSize))) {
    if (policy_ == TailPolicy::kTornTailIsEnd) {
      // A writer that died before its first write reached the disk: the file
      // exists (created first) but holds a partial header, or only zeros
      // where a power loss kept the size but not the data. No chunks.
      done_ = true;
      ignored_tail_bytes_ = size_;
      return absl::OkStatus();
    }
    if (size_ < format::kSegmentHeaderSize) {
      return HeaderError(path_,
                         absl::StrCat("truncated, ", size_, " of ",
                                      format::kSegmentHeaderSize, " bytes"));
    }
  }
  RUNLOG_RETURN_IF_ERROR(
      CheckFileHeader(data, format::kSegmentMagic, run_id, number_, path_));
  pos_ = format::kSegmentHeaderSize;
  return absl::OkStatus();
}

absl::Status SegmentReader::ParseChunk(Chunk* chunk, absl::Status* io) {
  *io = Fill(pos_ + format::kChunkHeaderSize);
  if (!io->ok()) return absl::OkStatus();
  const absl::string_view at = From(pos_);
  if (at.size() >= format::kChunkHeaderSize) {
    // A length over the limit is damage ParseChunkAt names; nothing is read
    // for it.
    const uint64_t declared = DecodeFixed32(at.data() + 8);
    if (declared <= format::kMaxChunkPayload) {
      *io = Fill(pos_ + format::kChunkHeaderSize + declared);
      if (!io->ok()) return absl::OkStatus();
    }
  }
  return ParseChunkAt(window_, static_cast<size_t>(pos_ - window_base_),
                      window_base_, path_, chunk);
}

bool SegmentReader::LooksTorn() const {
  const absl::string_view tail = From(pos_);
  // A header cut short, or a chunk running past the end: the writer (or the
  // page cache, in a power loss) stopped mid-append.
  if (tail.size() < format::kChunkHeaderSize) return true;
  const uint64_t declared = DecodeFixed32(tail.data() + 8);
  if (declared > format::kMaxChunkPayload) return AllZero(tail);
  const uint64_t extent = format::kChunkHeaderSize + declared;
  if (extent > tail.size()) return true;
  // The whole chunk is in the file. Bytes written after it mean the writer
  // went on past it: it was complete when written.
  if (!AllZero(tail.substr(extent))) return false;
  // A power loss keeps a file's new size but can lose any of its pages,
  // which then read as zeros: a zeroed page (4 KiB at a 4 KiB file offset),
  // or zeros from a sector boundary to the end, is that. A flipped bit or a
  // garbled block is not; neither is a run of zeros inside the data, which
  // would have to fill a whole aligned page.
  constexpr uint64_t kPage = 4096;
  for (uint64_t at = (pos_ + kPage - 1) / kPage * kPage;
       at + kPage <= pos_ + extent; at += kPage) {
    if (AllZero(From(at).substr(0, kPage))) return true;
  }
  constexpr uint64_t kSector = 512;
  const uint64_t end = pos_ + extent;
  const uint64_t last_sector =
      std::max<uint64_t>(pos_, (end - 1) / kSector * kSector);
  return AllZero(From(last_sector).substr(0, end - last_sector));
}

absl::StatusOr<bool> SegmentReader::EndAt(absl::Status damage) {
  done_ = true;
  if (policy_ == TailPolicy::kTornTailIsEnd) {
    // Where the writer stopped (or the disk lost its last writes): chunks are
    // appended in order, so nothing after the first bad one is trusted.
    ignored_tail_bytes_ = size_ - pos_;
    // Telling a torn append from damage looks at the rest of the file.
    absl::Status io = Fill(size_);
    if (!io.ok()) {
      error_ = std::move(io);
      return error_;
    }
    if (!LooksTorn()) {
      tail_damage_ = absl::DataLossError(absl::StrCat(
          damage.message(),
          " (the file holds the whole chunk, so this is damage, not a torn "
          "write; ",
          ignored_tail_bytes_, " bytes from this offset unread)"));
    }
    return false;
  }
  error_ = std::move(damage);
  return error_;
}

absl::StatusOr<bool> SegmentReader::Next(Chunk* chunk) {
  if (!error_.ok()) return error_;
  while (!done_) {
    if (pos_ == size_) {
      done_ = true;
      return false;
    }
    Chunk next;
    absl::Status io;
    absl::Status damage = ParseChunk(&next, &io);
    if (!io.ok()) {
      done_ = true;
      error_ = std::move(io);
      return error_;
    }
    if (!damage.ok()) return EndAt(std::move(damage));
    const uint64_t end = pos_ + format::kChunkHeaderSize + next.payload.size();
    if (!format::IsKnownChunkType(next.type)) {
      if (format::IsIgnorableChunkType(next.type)) {
        pos_ = end;
        continue;
      }
      // An intact chunk we cannot interpret: a newer writer made it, and
      // skipping it could silently drop data the reader was meant to see.
      done_ = true;
      error_ = absl::UnimplementedError(
          absl::StrFormat("%s: chunk at offset %d: unknown chunk type 0x%02x",
                          path_, pos_, next.type));
      return error_;
    }
    pos_ = end;
    *chunk = next;
    return true;
  }
  return false;
}

}  // namespace runlog::storage
