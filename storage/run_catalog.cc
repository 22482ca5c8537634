#include "storage/run_catalog.h"

#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/format.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

constexpr size_t kMagicSize = sizeof(format::kCatalogMagic) - 1;
constexpr size_t kVersionOffset = 8;
constexpr size_t kReservedOffset = 10;
constexpr size_t kCountOffset = 12;
constexpr size_t kChecksumSize = 8;
static_assert(kCountOffset + 4 == format::kCatalogHeaderSize);

absl::Status Damaged(absl::string_view path, uint64_t offset,
                     absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": offset ", offset, ": ", what));
}

}  // namespace

absl::StatusOr<std::string> EncodeRunCatalog(
    const std::vector<CommitManifest>& runs) {
  if (runs.size() > UINT32_MAX) {
    return absl::InvalidArgumentError(
        absl::StrCat("run catalog: ", runs.size(), " runs exceed 2^32-1"));
  }
  std::string out(format::kCatalogMagic, kMagicSize);
  PutFixed16(&out, format::kCatalogFormatVersion);
  PutFixed16(&out, 0);
  PutFixed32(&out, static_cast<uint32_t>(runs.size()));
  CommitManifest bare;
  for (const CommitManifest& m : runs) {
    bare.run_id = m.run_id;
    bare.status = m.status;
    bare.end_time = m.end_time;
    bare.reason = m.reason;
    bare.summary = m.summary;
    RUNLOG_ASSIGN_OR_RETURN(std::string entry, EncodeCommitManifest(bare));
    PutFixed32(&out, static_cast<uint32_t>(entry.size()));
    out += entry;
  }
  PutFixed64(&out, Checksum64(out));
  if (out.size() > format::kMaxCatalogFileSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("run catalog: ", out.size(), " bytes exceed the limit of ",
                     format::kMaxCatalogFileSize));
  }
  return out;
}

absl::StatusOr<std::vector<CommitManifest>> DecodeRunCatalog(
    absl::string_view bytes, absl::string_view path) {
  if (bytes.size() < format::kCatalogHeaderSize + kChecksumSize) {
    return Damaged(path, 0,
                   absl::StrCat("truncated: ", bytes.size(),
                                " bytes is shorter than an empty catalog"));
  }
  if (bytes.substr(0, kMagicSize) !=
      absl::string_view(format::kCatalogMagic, kMagicSize)) {
    return Damaged(path, 0, "bad magic: not a runlog catalog");
  }
  const size_t body = bytes.size() - kChecksumSize;
  if (Checksum64(bytes.substr(0, body)) != DecodeFixed64(bytes.data() + body)) {
    return Damaged(path, body, "checksum mismatch");
  }
  const uint16_t version = DecodeFixed16(bytes.data() + kVersionOffset);
  if (version != format::kCatalogFormatVersion) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": catalog format version ", version, " is not supported"));
  }
  if (DecodeFixed16(bytes.data() + kReservedOffset) != 0) {
    return Damaged(path, kReservedOffset, "reserved field is not zero");
  }
  const uint32_t count = DecodeFixed32(bytes.data() + kCountOffset);
  // Each entry takes at least its length field and a COMMIT's fixed part,
  // so a count the file cannot hold is rejected before reserving for it.
  const uint64_t room = body - format::kCatalogHeaderSize;
  if (uint64_t{count} * (4 + format::kCommitFixedSize) > room) {
    return Damaged(path, kCountOffset,
                   absl::StrCat("entry count ", count, " does not fit in ",
                                room, " bytes"));
  }
  std::vector<CommitManifest> runs;
  runs.reserve(count);
  size_t offset = format::kCatalogHeaderSize;
  for (uint32_t i = 0; i < count; ++i) {
    if (body - offset < 4) {
      return Damaged(path, offset, absl::StrCat("truncated: entry ", i));
    }
    const uint32_t length = DecodeFixed32(bytes.data() + offset);
    offset += 4;
    if (length > body - offset) {
      return Damaged(path, offset - 4,
                     absl::StrCat("entry ", i, " length ", length,
                                  " runs past the end of the catalog"));
    }
    // The entry's name is built only for an error (decoding again names
    // it): a string per entry was a tenth of a listing's time.
    absl::StatusOr<CommitManifest> m =
        DecodeCommitManifest(bytes.substr(offset, length), path);
    if (!m.ok()) {
      m = DecodeCommitManifest(bytes.substr(offset, length),
                               absl::StrCat(path, " entry ", i));
      return Damaged(path, offset, m.status().message());
    }
    if (!m->segments.empty()) {
      return Damaged(path, offset,
                     absl::StrCat("entry ", i, " lists segments"));
    }
    runs.push_back(*std::move(m));
    offset += length;
  }
  if (offset != body) {
    return Damaged(path, offset,
                   absl::StrCat(body - offset, " bytes follow the last entry"));
  }
  return runs;
}

absl::StatusOr<std::vector<CommitManifest>> ReadRunCatalog(
    FileSystem& fs, const std::string& root) {
  const std::string path = JoinPath(root, format::kCatalogFileName);
  RUNLOG_ASSIGN_OR_RETURN(
      std::string bytes,
      ReadFileToString(fs, path, format::kMaxCatalogFileSize));
  return DecodeRunCatalog(bytes, path);
}

absl::Status WriteRunCatalog(FileSystem& fs, const std::string& root,
                             const std::vector<CommitManifest>& runs,
                             absl::string_view unique_suffix) {
  RUNLOG_ASSIGN_OR_RETURN(std::string bytes, EncodeRunCatalog(runs));
  const std::string temp =
      JoinPath(root, absl::StrCat(format::kCatalogTempPrefix, unique_suffix));
  absl::Status s = [&]() -> absl::Status {
    RUNLOG_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                            fs.NewWritableFile(temp));
    absl::Status written = file->Append(bytes);
    absl::Status closed = file->Close();
    RUNLOG_RETURN_IF_ERROR(written);
    RUNLOG_RETURN_IF_ERROR(closed);
    return fs.Rename(temp, JoinPath(root, format::kCatalogFileName));
  }();
  if (!s.ok()) fs.RemoveFile(temp).IgnoreError();
  return s;
}

bool IsCatalogTempFileName(absl::string_view name) {
  return absl::StartsWith(name, format::kCatalogTempPrefix);
}

}  // namespace runlog::storage
