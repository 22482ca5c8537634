#include "storage/commit_manifest.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/run_id.h"
#include "storage/segment.h"
#include "storage/segment_reader.h"
#include "storage/status_macros.h"

namespace runlog::storage {
namespace {

// Offsets inside the fixed 64-byte part (format.h).
constexpr size_t kMagicSize = 8;
constexpr size_t kVersionOffset = 8;
constexpr size_t kStatusOffset = 10;
constexpr size_t kReserved1Offset = 11;
constexpr size_t kSegmentCountOffset = 12;
constexpr size_t kEndTimeOffset = 16;
constexpr size_t kRunIdLengthOffset = 24;
constexpr size_t kRunIdOffset = 25;
constexpr size_t kReserved2Offset = kRunIdOffset + format::kMaxRunIdLength;
constexpr size_t kChecksumSize = 8;
// Within a segment entry.
constexpr size_t kEntryKindOffset = 4;
constexpr size_t kEntryLengthOffset = 8;
constexpr size_t kEntryChecksumOffset = 16;

static_assert(kReserved2Offset == 57);
static_assert(sizeof(format::kCommitMagic) - 1 == kMagicSize);

bool IsKnownStatus(uint8_t status) {
  return status == static_cast<uint8_t>(format::RunStatus::kFinished) ||
         status == static_cast<uint8_t>(format::RunStatus::kFailed) ||
         status == static_cast<uint8_t>(format::RunStatus::kCrashed);
}

bool AllZero(absl::string_view bytes) {
  for (char c : bytes) {
    if (c != 0) return false;
  }
  return true;
}

absl::Status Damaged(absl::string_view path, uint64_t offset,
                     absl::string_view what) {
  return absl::DataLossError(
      absl::StrCat(path, ": offset ", offset, ": ", what));
}

absl::Status Truncated(absl::string_view path, uint64_t offset,
                       absl::string_view field, uint64_t need, uint64_t have) {
  return Damaged(path, offset,
                 absl::StrCat("truncated: ", field, " needs ", need,
                              " bytes but only ", have, " remain"));
}

// Storage errors already name their path by contract (file_system.h); this
// adds it only when an implementation forgot, so the caller's report always
// says which file the commit died on.
absl::Status WithPath(const absl::Status& s, absl::string_view op,
                      absl::string_view path) {
  if (s.ok() || absl::StrContains(s.message(), path)) return s;
  return absl::Status(s.code(), absl::StrCat(op, " ", path, ": ", s.message()));
}

// What a power loss does to a file whose bytes were never synced: it is
// empty, cut short, or has lost whole pages, which read as zeros. A flipped
// bit or a garbled block is none of these, and stays DataLoss.
bool LooksTorn(absl::string_view bytes, const absl::Status& damage) {
  if (bytes.empty() || absl::StrContains(damage.message(), "truncated")) {
    return true;
  }
  constexpr size_t kSector = 512;
  for (size_t at = 0; at < bytes.size(); at += kSector) {
    if (AllZero(bytes.substr(at, kSector))) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> EncodeCommitManifest(const CommitManifest& m) {
  if (!IsValidRunId(m.run_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit manifest: run_id: ", ValidateRunId(m.run_id).message()));
  }
  if (!IsKnownStatus(static_cast<uint8_t>(m.status))) {
    return absl::InvalidArgumentError(
        absl::StrCat("commit manifest for run ", m.run_id,
                     ": status: unknown value ", static_cast<int>(m.status)));
  }
  if (m.end_time == absl::InfiniteFuture() ||
      m.end_time == absl::InfinitePast()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit manifest for run ", m.run_id, ": end_time is not finite"));
  }
  if (m.segments.size() > format::kMaxCommitSegments) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit manifest for run ", m.run_id, ": segments: ", m.segments.size(),
        " exceeds the limit of ", format::kMaxCommitSegments));
  }
  for (size_t i = 0; i < m.segments.size(); ++i) {
    const uint32_t number = m.segments[i].number;
    if (number == 0 || (i > 0 && number <= m.segments[i - 1].number)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "commit manifest for run ", m.run_id, ": segments[", i, "]: number ",
          number, " is not a positive number above the previous entry's"));
    }
  }
  if (m.reason.size() > format::kMaxFailureReason) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit manifest for run ", m.run_id, ": reason: ", m.reason.size(),
        " bytes exceeds the limit of ", format::kMaxFailureReason));
  }
  if (m.summary.size() > format::kMaxCommitSummary) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit manifest for run ", m.run_id, ": summary: ", m.summary.size(),
        " bytes exceeds the limit of ", format::kMaxCommitSummary));
  }

  std::string out;
  out.reserve(format::kCommitFixedSize +
              m.segments.size() * format::kCommitSegmentEntrySize + 4 +
              m.reason.size() + 4 + m.summary.size() + kChecksumSize);
  out.append(format::kCommitMagic, kMagicSize);
  PutFixed16(&out, format::kCommitFormatVersion);
  out.push_back(static_cast<char>(m.status));
  out.push_back('\0');
  PutFixed32(&out, static_cast<uint32_t>(m.segments.size()));
  PutFixed64(&out, static_cast<uint64_t>(absl::ToUnixMicros(m.end_time)));
  out.push_back(static_cast<char>(m.run_id.size()));
  out.append(m.run_id);
  out.append(format::kMaxRunIdLength - m.run_id.size(), '\0');
  out.append(format::kCommitFixedSize - kReserved2Offset, '\0');
  for (const SegmentInfo& seg : m.segments) {
    PutFixed32(&out, seg.number);
    PutFixed32(&out, static_cast<uint32_t>(seg.kind));
    PutFixed64(&out, seg.length);
    PutFixed64(&out, seg.checksum);
  }
  PutFixed32(&out, static_cast<uint32_t>(m.reason.size()));
  out.append(m.reason);
  PutFixed32(&out, static_cast<uint32_t>(m.summary.size()));
  out.append(m.summary);
  PutFixed64(&out, Checksum64(out));
  return out;
}

absl::StatusOr<CommitManifest> DecodeCommitManifest(absl::string_view bytes,
                                                    absl::string_view path) {
  const uint64_t size = bytes.size();
  const absl::string_view magic(format::kCommitMagic, kMagicSize);
  if (bytes.substr(0, kMagicSize) != magic.substr(0, size)) {
    return Damaged(path, 0, "bad magic (not a runlog commit manifest)");
  }
  if (size < format::kCommitFixedSize) {
    return Truncated(path, size, "fixed header", format::kCommitFixedSize,
                     size);
  }
  // The version is checked before the checksum: a newer version may lay out
  // (and checksum) the rest of the file differently.
  const uint16_t version = DecodeFixed16(bytes.data() + kVersionOffset);
  if (version > format::kCommitFormatVersion) {
    return absl::UnimplementedError(absl::StrCat(
        path, ": offset ", kVersionOffset, ": commit format version ", version,
        " is newer than this reader supports (", format::kCommitFormatVersion,
        ")"));
  }
  if (version == 0) {
    return Damaged(path, kVersionOffset, "commit format version 0");
  }

  // Walk the variable part checking every declared length against the format
  // limit and the bytes actually present, before anything is allocated: a
  // damaged or hostile file must not be able to make us reserve memory.
  const uint32_t segment_count =
      DecodeFixed32(bytes.data() + kSegmentCountOffset);
  if (segment_count > format::kMaxCommitSegments) {
    return Damaged(
        path, kSegmentCountOffset,
        absl::StrCat("segment count ", segment_count, " exceeds the limit of ",
                     format::kMaxCommitSegments));
  }
  uint64_t pos = format::kCommitFixedSize;
  const uint64_t entries_size =
      uint64_t{segment_count} * format::kCommitSegmentEntrySize;
  if (entries_size > size - pos) {
    return Truncated(path, pos, absl::StrCat(segment_count, " segment entries"),
                     entries_size, size - pos);
  }
  const uint64_t entries_offset = pos;
  pos += entries_size;

  // Reads one length-prefixed field at `pos`, advancing it.
  auto read_field = [&](absl::string_view name,
                        uint32_t limit) -> absl::StatusOr<absl::string_view> {
    if (size - pos < 4) {
      return Truncated(path, pos, absl::StrCat(name, " length"), 4, size - pos);
    }
    const uint32_t len = DecodeFixed32(bytes.data() + pos);
    if (len > limit) {
      return Damaged(
          path, pos,
          absl::StrCat(name, " length ", len, " exceeds the limit of ", limit));
    }
    pos += 4;
    if (len > size - pos) {
      return Truncated(path, pos, name, len, size - pos);
    }
    absl::string_view field = bytes.substr(pos, len);
    pos += len;
    return field;
  };
  RUNLOG_ASSIGN_OR_RETURN(absl::string_view reason,
                          read_field("reason", format::kMaxFailureReason));
  RUNLOG_ASSIGN_OR_RETURN(absl::string_view summary,
                          read_field("summary", format::kMaxCommitSummary));
  if (size - pos < kChecksumSize) {
    return Truncated(path, pos, "checksum", kChecksumSize, size - pos);
  }
  const uint64_t checksum_offset = pos;
  if (size - pos > kChecksumSize) {
    return Damaged(path, pos + kChecksumSize,
                   absl::StrCat(size - pos - kChecksumSize,
                                " unexpected bytes after the checksum"));
  }
  const uint64_t stored = DecodeFixed64(bytes.data() + checksum_offset);
  const uint64_t computed = Checksum64(bytes.substr(0, checksum_offset));
  if (stored != computed) {
    return Damaged(path, checksum_offset,
                   absl::StrFormat("checksum mismatch: stored %016x, "
                                   "computed %016x over bytes [0, %d)",
                                   stored, computed, checksum_offset));
  }

  // The checksum matched, so anything still wrong below was written that way
  // (a bug or a hand-made file), not damaged in transit; still DataLoss,
  // because the manifest cannot be trusted.
  const uint8_t status = static_cast<uint8_t>(bytes[kStatusOffset]);
  if (!IsKnownStatus(status)) {
    return Damaged(path, kStatusOffset,
                   absl::StrCat("unknown run status ", status));
  }
  if (bytes[kReserved1Offset] != 0) {
    return Damaged(path, kReserved1Offset, "reserved byte is not zero");
  }
  const uint8_t id_len = static_cast<uint8_t>(bytes[kRunIdLengthOffset]);
  if (id_len > format::kMaxRunIdLength) {
    return Damaged(
        path, kRunIdLengthOffset,
        absl::StrCat("run id length ", id_len, " exceeds the limit of ",
                     format::kMaxRunIdLength));
  }
  const absl::string_view run_id = bytes.substr(kRunIdOffset, id_len);
  if (!IsValidRunId(run_id)) {
    return Damaged(path, kRunIdOffset, ValidateRunId(run_id).message());
  }
  if (!AllZero(bytes.substr(kRunIdOffset + id_len,
                            format::kMaxRunIdLength - id_len))) {
    return Damaged(path, kRunIdOffset + id_len, "run id padding is not zero");
  }
  if (!AllZero(bytes.substr(kReserved2Offset,
                            format::kCommitFixedSize - kReserved2Offset))) {
    return Damaged(path, kReserved2Offset, "reserved bytes are not zero");
  }
  uint32_t previous = 0;
  for (uint32_t i = 0; i < segment_count; ++i) {
    const uint64_t at =
        entries_offset + uint64_t{i} * format::kCommitSegmentEntrySize;
    const uint32_t number = DecodeFixed32(bytes.data() + at);
    if (number <= previous) {
      return Damaged(
          path, at,
          absl::StrCat("segment entry ", i, ": number ", number,
                       " does not ascend (previous ", previous, ")"));
    }
    previous = number;
    const uint8_t kind = static_cast<uint8_t>(bytes[at + kEntryKindOffset]);
    if (kind > static_cast<uint8_t>(format::SegmentKind::kColumn)) {
      return absl::UnimplementedError(absl::StrCat(
          path, ": offset ", at + kEntryKindOffset, ": segment entry ", i,
          ": kind ", kind, " is from a newer runlog version"));
    }
    if (DecodeFixed32(bytes.data() + at + kEntryKindOffset) >> 8 != 0) {
      return Damaged(
          path, at + kEntryKindOffset + 1,
          absl::StrCat("segment entry ", i, ": reserved bytes are not zero"));
    }
  }

  CommitManifest m;
  m.run_id = std::string(run_id);
  m.status = static_cast<format::RunStatus>(status);
  m.end_time = absl::FromUnixMicros(
      static_cast<int64_t>(DecodeFixed64(bytes.data() + kEndTimeOffset)));
  m.segments.reserve(segment_count);
  for (uint32_t i = 0; i < segment_count; ++i) {
    const char* p = bytes.data() + entries_offset +
                    uint64_t{i} * format::kCommitSegmentEntrySize;
    SegmentInfo seg;
    seg.number = DecodeFixed32(p);
    seg.length = DecodeFixed64(p + kEntryLengthOffset);
    seg.checksum = DecodeFixed64(p + kEntryChecksumOffset);
    seg.kind = static_cast<format::SegmentKind>(
        static_cast<uint8_t>(p[kEntryKindOffset]));
    m.segments.push_back(seg);
  }
  m.reason = std::string(reason);
  m.summary = std::string(summary);
  return m;
}

std::string CommitFileName(uint32_t generation) {
  if (generation <= 1) return format::kCommitFileName;
  return absl::StrCat(format::kCommitGenerationPrefix, generation);
}

std::optional<uint32_t> ParseCommitFileName(absl::string_view name) {
  if (name == format::kCommitFileName) return 1;
  if (!absl::ConsumePrefix(&name, format::kCommitGenerationPrefix)) {
    return std::nullopt;
  }
  if (name.empty() || name.size() > 10 || name[0] == '0') return std::nullopt;
  uint64_t n = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n < 2 || n > format::kMaxCommitGeneration) return std::nullopt;
  return static_cast<uint32_t>(n);
}

uint32_t HighestCommitGeneration(const std::vector<std::string>& names) {
  uint32_t best = 0;
  for (const std::string& name : names) {
    if (std::optional<uint32_t> g = ParseCommitFileName(name); g && *g > best) {
      best = *g;
    }
  }
  return best;
}

absl::Status WriteCommitManifest(FileSystem& fs, const std::string& run_dir,
                                 const CommitManifest& m, bool sync,
                                 uint32_t generation) {
  if (generation == 0 || generation > format::kMaxCommitGeneration) {
    return absl::InvalidArgumentError(absl::StrCat(
        "commit manifest for run ", m.run_id, ": generation ", generation,
        " is outside [1, ", format::kMaxCommitGeneration, "]"));
  }
  RUNLOG_ASSIGN_OR_RETURN(std::string bytes, EncodeCommitManifest(m));
  const std::string tmp_path = JoinPath(run_dir, format::kCommitTempFileName);
  const std::string final_path = JoinPath(run_dir, CommitFileName(generation));

  absl::StatusOr<std::unique_ptr<WritableFile>> file =
      fs.NewWritableFile(tmp_path);
  if (absl::IsAlreadyExists(file.status())) {
    // Left by a process that died mid-commit: a crashed compaction, or the
    // dead writer of a run that recovery is now salvaging (a live writer
    // commits once, and only one process at a time writes a run's COMMIT).
    // It was never renamed into place, so it carries no committed state and
    // is safe to discard.
    RUNLOG_RETURN_IF_ERROR(
        WithPath(fs.RemoveFile(tmp_path), "remove stale", tmp_path));
    file = fs.NewWritableFile(tmp_path);
  }
  RUNLOG_RETURN_IF_ERROR(WithPath(file.status(), "create", tmp_path));

  // A failure from here on leaves a COMMIT.tmp that was never renamed; it is
  // removed on a best-effort basis, and recovery or the next writer clears
  // it otherwise. The error is returned as is: after a failed fsync the page
  // cache may already have dropped the dirty pages, so retrying could
  // "succeed" over lost data (fsyncgate). The caller poisons the run.
  auto fail = [&](const absl::Status& s, absl::string_view op) {
    (*file).reset();
    fs.RemoveFile(tmp_path).IgnoreError();
    return WithPath(s, op, tmp_path);
  };
  absl::Status s = (*file)->Append(bytes);
  if (!s.ok()) return fail(s, "write");
  if (sync) {
    s = (*file)->Sync();
    if (!s.ok()) return fail(s, "sync");
  }
  s = (*file)->Close();
  if (!s.ok()) return fail(s, "close");
  s = fs.Rename(tmp_path, final_path);
  if (!s.ok()) return fail(s, "rename");
  // The manifest now exists in the namespace but its directory entry is not
  // yet durable: a power loss before this fsync may forget the rename. The
  // run is reported as failed even though readers may already see it
  // committed.
  if (!sync) return absl::OkStatus();
  return WithPath(fs.SyncDir(run_dir), "sync dir", run_dir);
}

absl::StatusOr<CommitManifest> ManifestFromCommitRecord(
    FileSystem& fs, const std::string& run_dir) {
  RUNLOG_ASSIGN_OR_RETURN(std::vector<std::string> names, fs.ListDir(run_dir));
  uint32_t last = 0;
  for (const std::string& name : names) {
    if (std::optional<uint32_t> n = ParseSegmentFileName(name);
        n && *n > last) {
      last = *n;
    }
  }
  if (last == 0) {
    return absl::NotFoundError(absl::StrCat(run_dir, ": no log segment"));
  }
  const std::string path = JoinPath(run_dir, SegmentFileName(last));
  absl::StatusOr<std::string> data =
      ReadFileToString(fs, path, kMaxSegmentFileSize);
  if (absl::IsInvalidArgument(data.status())) {
    return absl::DataLossError(data.status().message());
  }
  RUNLOG_RETURN_IF_ERROR(data.status());
  // Walk the chunks to the last intact one; the record is written last.
  uint64_t pos = format::kSegmentHeaderSize;
  Chunk chunk;
  bool found = false;
  while (pos < data->size()) {
    if (!ParseChunkAt(*data, pos, 0, path, &chunk).ok()) break;
    found = true;
    pos = chunk.offset + format::kChunkHeaderSize + chunk.payload.size();
  }
  if (!found || chunk.type != format::kChunkCommit || pos != data->size()) {
    return absl::NotFoundError(
        absl::StrCat(path, ": does not end in a commit record"));
  }
  const std::string where =
      absl::StrCat(path, ": commit record at offset ", chunk.offset);
  RUNLOG_ASSIGN_OR_RETURN(CommitManifest m,
                          DecodeCommitManifest(chunk.payload, where));
  RUNLOG_RETURN_IF_ERROR(
      CheckFileHeader(*data, format::kSegmentMagic, m.run_id, last, path));
  if (m.segments.empty() || m.segments.back().number != last ||
      m.segments.back().kind != format::SegmentKind::kLog ||
      m.segments.back().length != chunk.offset ||
      m.segments.back().checksum !=
          Checksum64(absl::string_view(*data).substr(0, chunk.offset))) {
    return Damaged(path, chunk.offset,
                   "commit record does not describe the bytes before it");
  }
  m.segments.back().length = data->size();
  m.segments.back().checksum = Checksum64(*data);
  return m;
}

absl::StatusOr<CommitManifest> ReadCommitManifest(FileSystem& fs,
                                                  const std::string& run_dir,
                                                  ManifestSource* source) {
  // Each retry follows a manifest that vanished or went stale after it was
  // listed; a newer one is already in place by then, so a few suffice.
  constexpr int kAttempts = 8;
  absl::Status last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    absl::StatusOr<std::vector<std::string>> names = fs.ListDir(run_dir);
    if (absl::IsUnavailable(names.status())) {
      last = names.status();
      continue;
    }
    RUNLOG_RETURN_IF_ERROR(names.status());
    const uint32_t g = HighestCommitGeneration(*names);
    if (g == 0) {
      return absl::NotFoundError(absl::StrCat(
          JoinPath(run_dir, format::kCommitFileName), ": no commit manifest"));
    }
    const std::string path = JoinPath(run_dir, CommitFileName(g));
    absl::StatusOr<std::string> bytes =
        ReadFileToString(fs, path, format::kMaxCommitFileSize);
    if (absl::IsNotFound(bytes.status()) ||
        absl::IsUnavailable(bytes.status())) {
      last = bytes.status();
      continue;
    }
    if (absl::IsInvalidArgument(bytes.status())) {
      // Larger than any valid manifest can be: damage, not a caller mistake.
      return absl::DataLossError(bytes.status().message());
    }
    RUNLOG_RETURN_IF_ERROR(bytes.status());
    if (source != nullptr) *source = ManifestSource{g, false, absl::OkStatus()};
    absl::StatusOr<CommitManifest> m = DecodeCommitManifest(*bytes, path);
    if (m.ok() || g != 1 || !absl::IsDataLoss(m.status()) ||
        !LooksTorn(*bytes, m.status())) {
      return m;
    }
    // COMMIT's bytes are not synced at commit (the record in the segment
    // is): rebuild a torn or emptied one from the record.
    absl::StatusOr<CommitManifest> rebuilt =
        ManifestFromCommitRecord(fs, run_dir);
    if (!rebuilt.ok()) return m;
    if (source != nullptr) {
      source->from_record = true;
      source->commit_damage = m.status();
    }
    return rebuilt;
  }
  return absl::UnavailableError(
      absl::StrCat(run_dir, ": the commit manifest kept changing or failing (",
                   kAttempts, " attempts): ", last.message()));
}

}  // namespace runlog::storage
