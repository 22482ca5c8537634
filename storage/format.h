// On-disk format constants shared by every reader and writer in storage/.
// docs/format.md describes each byte with box diagrams and a worked example;
// a change here is a format change and must change that document and the
// golden files under tests/storage/golden/.
//
// All integers are little-endian. Checksums are XXH3-64 (checksum.h).
#ifndef RUNLOG_STORAGE_FORMAT_H_
#define RUNLOG_STORAGE_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace runlog::storage::format {

// ---- Repository ------------------------------------------------------------
inline constexpr char kRepoMarkerName[] = "RUNLOG";
inline constexpr char kRunsDirName[] = "runs";
inline constexpr char kTrashDirName[] = "trash";
inline constexpr char kOwnerFileName[] = "OWNER";
inline constexpr char kCommitFileName[] = "COMMIT";
inline constexpr char kCommitTempFileName[] = "COMMIT.tmp";
// Later manifests of the same run (compaction) are "COMMIT.2", "COMMIT.3",
// ...: a manifest is never renamed over, so a reader on another NFS or
// GlusterFS client never opens a name whose inode was replaced under it. The
// highest generation present wins; "COMMIT" is generation 1.
inline constexpr char kCommitGenerationPrefix[] = "COMMIT.";
inline constexpr uint32_t kMaxCommitGeneration = 1u << 30;
// A run is built under runs/.creating.<id> (OWNER written, nothing synced)
// and renamed to runs/<id> when it is ready, so runs/ never holds a run
// whose OWNER is missing. Leftovers of a creator that died are removed by
// recovery.
inline constexpr char kCreatingPrefix[] = ".creating.";
// Recovery and deletion without force move an uncommitted run to
// trash/<id>.recheck, judge it again there, and either move it back (it
// committed or wrote meanwhile) or on to trash/<id> for unlinking.
inline constexpr char kRecheckSuffix[] = ".recheck";
// A file a process creates in trash/ and removes at once: its modification
// time is the file system's clock (the server's, on NFS or GlusterFS).
inline constexpr char kClockProbePrefix[] = ".clock.";
inline constexpr char kSegmentSuffix[] = ".seg";
inline constexpr char kColumnFileSuffix[] = ".col";  // compacted: "000007.col"
// Written by a compaction while it runs (an OWNER record naming the
// compacting process); recovery uses it to tell a crashed compaction's
// leftovers from a running one's outputs.
inline constexpr char kCompactingFileName[] = "COMPACTING";
inline constexpr size_t kSegmentNameDigits = 6;  // "000001.seg"

// RUNLOG marker: magic(8) version(2) reserved(6, zero) checksum(8) of [0,16).
inline constexpr char kRepoMagic[] = "RUNLOGRP";
inline constexpr uint16_t kRepoFormatVersion = 1;
inline constexpr size_t kRepoMarkerSize = 24;

// ---- Run ids ---------------------------------------------------------------
// [0-9a-z]{1,32}. Generated ids are 17 characters: 9 base-36 digits of
// milliseconds since the Unix epoch (so ids sort by creation time) followed by
// 8 random base-36 digits.
inline constexpr size_t kMaxRunIdLength = 32;
inline constexpr size_t kRunIdTimeDigits = 9;
inline constexpr size_t kRunIdRandomDigits = 8;

// ---- Segment header (64 bytes) ---------------------------------------------
//  0  magic "RUNLOGSG"          8
//  8  format version            2
// 10  header length (64)        2
// 12  segment number            4
// 16  run id length             1
// 17  run id, zero padded      32
// 49  reserved, zero            7
// 56  XXH3-64 of bytes [0,56)   8
inline constexpr char kSegmentMagic[] = "RUNLOGSG";
inline constexpr uint16_t kSegmentFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 64;
inline constexpr size_t kSegmentHeaderChecksumOffset = 56;
static_assert(17 + kMaxRunIdLength + 7 == kSegmentHeaderChecksumOffset);
static_assert(kSegmentHeaderChecksumOffset + 8 == kSegmentHeaderSize);

// ---- Chunk (16-byte header + payload) --------------------------------------
//  0  checksum                  8  XXH3-64 of the payload, seeded with the
//                                  little-endian u64 at bytes [8,16), so a flip
//                                  in length, type or reserved is detected too
//  8  payload length            4
// 12  type                      1
// 13  reserved, zero            3
// 16  payload                   length
inline constexpr size_t kChunkHeaderSize = 16;
inline constexpr size_t kChunkChecksumSize = 8;
// A declared length above this is corruption; it is rejected before any
// allocation.
inline constexpr uint32_t kMaxChunkPayload = 64u << 20;

// Chunk types. Bit 0x80 marks a type an older reader may skip; a reader that
// meets an unknown type without that bit stops with Unimplemented.
inline constexpr uint8_t kChunkIgnorableBit = 0x80;
inline constexpr uint8_t kChunkRecords = 0x01;  // tracking records batch
inline constexpr uint8_t kChunkBlob = 0x02;     // one large opaque value
// The commit record: the last chunk of a committed run's last log segment.
// Its payload is a COMMIT encoding of the manifest as it stood before the
// record (the last segment's entry gives the record's own offset and the
// XXH3-64 of the bytes before it). It is synced with the segment, so COMMIT
// itself need not be: a COMMIT a power loss left empty or torn is rebuilt
// from it (docs/design.md, "flushes per run"). Readers of data skip it.
inline constexpr uint8_t kChunkCommit = 0x83;
inline constexpr bool IsKnownChunkType(uint8_t type) {
  return type == kChunkRecords || type == kChunkBlob;
}
inline constexpr bool IsIgnorableChunkType(uint8_t type) {
  return (type & kChunkIgnorableBit) != 0;
}

// ---- Commit manifest (COMMIT) ----------------------------------------------
//  0  magic "RUNLOGCM"          8
//  8  format version            2
// 10  run status                1  (RunStatus below)
// 11  reserved, zero            1
// 12  segment count N           4
// 16  end time, Unix µs (i64)   8
// 24  run id length             1
// 25  run id, zero padded      32
// 57  reserved, zero            7
// 64  N segment entries, 24 bytes each:
//       segment number 4, kind 1 (SegmentKind), reserved 3, length 8,
//       XXH3-64 of whole file 8
//     reason length 4, reason bytes
//     summary length 4, summary bytes (opaque, from the tracking layer)
//     XXH3-64 of every preceding byte of the file 8
inline constexpr char kCommitMagic[] = "RUNLOGCM";
inline constexpr uint16_t kCommitFormatVersion = 1;
inline constexpr size_t kCommitFixedSize = 64;
inline constexpr size_t kCommitSegmentEntrySize = 24;
inline constexpr uint32_t kMaxCommitSegments = 1u << 20;
inline constexpr uint32_t kMaxFailureReason = 4096;
inline constexpr uint32_t kMaxCommitSummary = 256u << 20;
inline constexpr uint64_t kMaxCommitFileSize =
    kCommitFixedSize + uint64_t{kMaxCommitSegments} * kCommitSegmentEntrySize +
    4 + kMaxFailureReason + 4 + kMaxCommitSummary + 8;
static_assert(25 + kMaxRunIdLength + 7 == kCommitFixedSize);

// What a COMMIT segment entry names. An unknown kind is Unimplemented (a
// newer writer), never skipped: skipping would lose data silently.
enum class SegmentKind : uint8_t {
  kLog = 0,     // "NNNNNN.seg": header + chunks (this section above)
  kColumn = 1,  // "NNNNNN.col": a compacted column file (below)
};

enum class RunStatus : uint8_t {
  kFinished = 1,
  kFailed = 2,
  kCrashed = 3,  // salvaged by recovery: the readable prefix of a dead run
};

// ---- Run catalog ("CATALOG" at the repository root; a cache) -------------
//  0  magic "RUNLOGCT" 8, version 2, reserved 2 (zero), entry count 4
// 16  entries, each: length 4, then the COMMIT encoding (above) of one
//     committed run's manifest with zero segment entries
//     XXH3-64 of every preceding byte of the file 8
// Written whole to "CATALOG.tmp.<16 hex digits>" and renamed over CATALOG by
// any process that lists runs; never synced. It holds only what cannot
// change once a run is committed (status, end time, reason, summary), so an
// entry is valid for as long as runs/<id> exists. A missing, damaged or
// newer-version catalog is ignored (and rewritten), never an error.
inline constexpr char kCatalogFileName[] = "CATALOG";
inline constexpr char kCatalogTempPrefix[] = "CATALOG.tmp.";
inline constexpr char kCatalogMagic[] = "RUNLOGCT";
inline constexpr uint16_t kCatalogFormatVersion = 1;
inline constexpr size_t kCatalogHeaderSize = 16;
inline constexpr uint64_t kMaxCatalogFileSize = uint64_t{1} << 32;
static_assert(sizeof(kCatalogMagic) - 1 + 2 + 2 + 4 == kCatalogHeaderSize);

// ---- Column file (compacted run) ------------------------------------------
//  0  header, 64 bytes, laid out as the segment header with magic
//     "RUNLOGCF" (same version, length, number, run id, checksum fields)
// 64  blocks: each one chunk (16-byte chunk header + payload) whose type the
//     tracking layer chooses; blocks are found through the footer, never by
//     scanning
//  F  footer: one chunk of type kChunkFooter (payload from the tracking layer)
//  L-16 trailer: offset F of the footer chunk (u64), magic "RUNLOGCE"
// A reader checks the header, then the trailer, then the footer chunk's
// checksum and that it ends exactly at the trailer; each block's checksum is
// checked when the block is read. The whole-file XXH3-64 in COMMIT is checked
// by verification.
inline constexpr char kColumnFileMagic[] = "RUNLOGCF";
inline constexpr char kColumnTrailerMagic[] = "RUNLOGCE";
inline constexpr size_t kColumnTrailerSize = 16;
inline constexpr uint8_t kChunkFooter = 0x7e;
// The footer is read whole into memory; larger is corruption.
inline constexpr uint32_t kMaxColumnFooter = kMaxChunkPayload;
static_assert(sizeof(kColumnFileMagic) - 1 == 8);
static_assert(sizeof(kColumnTrailerMagic) - 1 == 8);

// ---- OWNER -----------------------------------------------------------------
// Text, one "key=value" per line, first line "runlog-owner 1"; see
// owner_liveness.h for the keys.
inline constexpr char kOwnerHeaderLine[] = "runlog-owner 1";
inline constexpr uint64_t kMaxOwnerFileSize = 4096;

}  // namespace runlog::storage::format

#endif  // RUNLOG_STORAGE_FORMAT_H_
