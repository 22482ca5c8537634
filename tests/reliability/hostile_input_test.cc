// Hostile input: whatever callers pass and whatever bytes or links a
// repository holds, runlog never reads, writes or deletes outside the
// repository, never allocates what a damaged length declares, and creates
// files as the umask says. One test per property (issue 6).
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checksum.h"
#include "storage/coding.h"
#include "storage/commit_manifest.h"
#include "storage/compression.h"
#include "storage/file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "storage/run_id.h"
#include "storage/segment.h"
#include "storage/segment_reader.h"
#include "tests/testing/decoder_probes.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tools/segtool/cli.h"
#include "tools/segtool/commands.h"
#include "tracking/codec/record_format.h"
#include "tracking/codec/run_log_decoder.h"
#include "tracking/codec/value_codec.h"
#include "tracking/repo.h"
#include "tracking/run_summary.h"

namespace runlog {
namespace {

namespace fs = std::filesystem;

using ::runlog::testing::AllocationProbe;
using ::runlog::testing::ExactBuffer;
using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::_;
using ::testing::Contains;
using ::testing::IsEmpty;
using ::testing::Not;

// A declared length that would exhaust memory if trusted.
constexpr uint64_t kHuge = uint64_t{1} << 40;
// What decoding a few bytes may allocate at most.
constexpr size_t kSmallAllocation = 64 << 10;

// Every file and directory under `root` (relative path -> bytes, "" for a
// directory, "-> target" for a symlink), not following links.
using Tree = std::map<std::string, std::string>;

Tree TakeTree(const std::string& root) {
  Tree tree;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const std::string rel = fs::relative(entry.path(), root).string();
    if (entry.is_symlink()) {
      tree[rel] = "-> " + fs::read_symlink(entry.path()).string();
    } else if (entry.is_directory()) {
      tree[rel + "/"] = "";
    } else {
      std::ifstream in(entry.path(), std::ios::binary);
      tree[rel] = std::string(std::istreambuf_iterator<char>(in), {});
    }
  }
  return tree;
}

std::string Varint(uint64_t v) {
  std::string s;
  storage::PutVarint64(&s, v);
  return s;
}

// A repository on the real file system, a directory beside it that nothing
// may touch ("outside"), and a fake process probe, so that a test decides
// which writers are alive (and recovery may treat a run as abandoned).
class HostileInputTest : public ::testing::Test {
 protected:
  HostileInputTest()
      : repo_path_(temp_.path() + "/repo"),
        outside_(temp_.path() + "/outside") {
    options_.probe = &probe_;
    env_.probe = &probe_;
  }

  void SetUp() override {
    RUNLOG_ASSERT_OK_AND_ASSIGN(repo_, Repo::Open(repo_path_, options_));
    fs::create_directory(outside_);
    std::ofstream(outside_ + "/victim") << "must survive";
  }

  std::string RunDir(const std::string& id) const {
    return repo_path_ + "/runs/" + id;
  }

  // A committed run with a scalar series "loss" (steps 0..9).
  std::string CommittedRun() {
    auto run = repo_->CreateRun({.experiment = "e"});
    EXPECT_THAT(run.status(), IsOk());
    if (!run.ok()) return "";
    for (int64_t step = 0; step < 10; ++step) {
      EXPECT_THAT((*run)->Track("loss", 0.5 * step, step), IsOk());
    }
    EXPECT_THAT((*run)->Commit(), IsOk());
    return (*run)->id();
  }

  // An uncommitted run whose writer is gone.
  std::string AbandonedRun() {
    const int64_t self = probe_.self_pid();
    probe_.set_self_pid(kDeadPid);
    probe_.SetProcess(kDeadPid, 7);
    auto run = repo_->CreateRun({.experiment = "e"});
    EXPECT_THAT(run.status(), IsOk());
    if (!run.ok()) return "";
    EXPECT_THAT((*run)->Track("loss", 1.0, 0), IsOk());
    EXPECT_THAT((*run)->Flush(), IsOk());
    EXPECT_THAT((*run)->Close(), IsOk());
    probe_.KillProcess(kDeadPid);
    probe_.set_self_pid(self);
    return (*run)->id();
  }

  // Moves `path` (in the repo) to `outside_`/`name` and leaves a symlink to
  // it in its place.
  void ReplaceWithSymlink(const std::string& path, const std::string& name) {
    const std::string target = outside_ + "/" + name;
    fs::rename(path, target);
    fs::create_symlink(target, path);
  }

  int Segtool(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    return segtool::RunCli(args, env_, out, err);
  }

  // Runs every operation that takes a run id on `id`; each must fail or at
  // least leave `outside_` as it was.
  void TouchRunEverywhere(const std::string& id) {
    repo_->GetRun(id).status().IgnoreError();
    auto view = repo_->OpenRun(id);
    if (view.ok()) (*view)->ReadScalars({"loss", {}}).status().IgnoreError();
    repo_->ListRuns().status().IgnoreError();
    repo_->VerifyRun(id).status().IgnoreError();
    repo_->CompactRun(id).status().IgnoreError();
    Segtool({"ls", repo_path_});
    Segtool({"show", repo_path_, id});
    Segtool({"cat", repo_path_, id, "loss"});
    Segtool({"verify", repo_path_, id});
    Segtool({"compact", repo_path_, id});
    Segtool({"export", repo_path_, id, "--output", temp_.path() + "/x.jsonl"});
    repo_->Recover(RecoverOptions{.salvage = true}).status().IgnoreError();
    Segtool({"recover", repo_path_});
    repo_->DeleteRun(id, {.force = true}).IgnoreError();
    Segtool({"rm", repo_path_, id});
  }

  static constexpr int64_t kDeadPid = 4242;

  testing::TempDir temp_;
  std::string repo_path_;
  std::string outside_;
  FakeSystemProbe probe_;
  RepoOptions options_;
  segtool::Env env_;
  std::unique_ptr<Repo> repo_;
};

std::vector<std::string> HostileIds() {
  return {"../x",
          "../../outside",
          "/abs",
          "/",
          "a/b",
          "",
          std::string(4096, 'a'),
          std::string("abc\0def", 7),
          std::string("\0", 1),
          ".",
          "..",
          "runs/..",
          "RUNLOG",
          "..\\x",
          "0000000000000000/"};
}

TEST_F(HostileInputTest, RunIdsFromCallersAreInvalidAndTouchNothing) {
  const std::string id = CommittedRun();
  const Tree before = TakeTree(temp_.path());
  for (const std::string& bad : HostileIds()) {
    SCOPED_TRACE(absl::StrCat("id \"", absl::CEscape(bad), "\""));
    EXPECT_THAT(repo_->GetRun(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    EXPECT_THAT(repo_->OpenRun(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    EXPECT_THAT(repo_->DeleteRun(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    EXPECT_THAT(repo_->DeleteRun(bad, {.force = true}),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    EXPECT_THAT(repo_->CompactRun(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    EXPECT_THAT(repo_->VerifyRun(bad).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    EXPECT_THAT(repo_->store().DeleteRun(bad),
                StatusIs(absl::StatusCode::kInvalidArgument, _));
    if (bad.find('\0') == std::string::npos) {
      for (const char* command : {"show", "rm", "verify", "compact"}) {
        EXPECT_NE(Segtool({command, repo_path_, bad}), segtool::kExitOk)
            << command;
      }
      EXPECT_NE(Segtool({"cat", repo_path_, bad, "loss"}), segtool::kExitOk);
    }
  }
  EXPECT_EQ(TakeTree(temp_.path()), before);
  EXPECT_THAT(repo_->GetRun(id).status(), IsOk());
}

TEST_F(HostileInputTest, NamesFromCallersLiveOnlyInsidePayloads) {
  const std::string evil = "../../outside/evil";
  RunOptions options;
  options.experiment = evil;
  options.name = "/etc/passwd";
  options.description = "a/../b";
  options.tags = {"..", "/", "x/../../y"};
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<runlog::Run> run,
                              repo_->CreateRun(options));
  RUNLOG_ASSERT_OK(run->SetParam("hparams./etc/passwd", Value(evil)));
  RUNLOG_ASSERT_OK(run->Track(evil, 1.0, 0, {{"/", ".."}}));
  RUNLOG_ASSERT_OK(run->TrackText("/abs/text", "..", 0));
  RUNLOG_ASSERT_OK(run->TrackBlob("../blob", Blob{"../../x", "bytes"}, 0));
  RUNLOG_ASSERT_OK(run->Commit());
  const std::string id = run->id();

  // The run directory holds only runlog's own names.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(RunDir(id))) {
    names.push_back(e.path().filename().string());
  }
  EXPECT_THAT(names,
              ::testing::UnorderedElementsAre("OWNER", "000001.seg", "COMMIT"));
  for (const auto& [path, bytes] : TakeTree(temp_.path())) {
    EXPECT_EQ(path.find("evil"), std::string::npos) << path;
    EXPECT_EQ(path.find("passwd"), std::string::npos) << path;
    EXPECT_EQ(path.find("blob"), std::string::npos) << path;
    const bool ours = path.rfind("repo/", 0) == 0 || path == "outside/" ||
                      path == "outside/victim";
    EXPECT_TRUE(ours) << path << " was created outside the repository";
  }
  RUNLOG_ASSERT_OK_AND_ASSIGN(RunRecord record, repo_->GetRun(id));
  EXPECT_EQ(record.summary.experiment, evil);
  EXPECT_EQ(record.summary.name, "/etc/passwd");
  EXPECT_THAT(record.summary.tags, Contains("x/../../y"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RunView> view,
                              repo_->OpenRun(id));
  RUNLOG_ASSERT_OK_AND_ASSIGN(ScalarColumns points,
                              view->ReadScalars({evil, {{"/", ".."}}}));
  EXPECT_EQ(points.size(), 1u);
}

TEST_F(HostileInputTest, SymlinkedRunDirectoryIsNotFollowed) {
  const std::string id = CommittedRun();
  // The run now lives outside; runs/<id> only points at it.
  ReplaceWithSymlink(RunDir(id), "run");
  const Tree outside_before = TakeTree(outside_);
  EXPECT_THAT(repo_->GetRun(id).status(), Not(IsOk()));
  EXPECT_THAT(repo_->OpenRun(id).status(), Not(IsOk()));
  EXPECT_THAT(repo_->VerifyRun(id).status(), Not(IsOk()));
  EXPECT_THAT(repo_->CompactRun(id).status(), Not(IsOk()));
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::vector<RunRecord> runs, repo_->ListRuns());
  EXPECT_THAT(runs, IsEmpty());
  TouchRunEverywhere(id);
  EXPECT_EQ(TakeTree(outside_), outside_before);
}

TEST_F(HostileInputTest, SymlinkedCommitIsNotFollowed) {
  const std::string id = CommittedRun();
  ReplaceWithSymlink(RunDir(id) + "/COMMIT", "COMMIT");
  const Tree outside_before = TakeTree(outside_);
  RUNLOG_ASSERT_OK_AND_ASSIGN(RunRecord record, repo_->GetRun(id));
  EXPECT_THAT(record.error, Not(IsOk()));
  EXPECT_TRUE(record.summary.series.empty())
      << "the summary came from the COMMIT outside";
  RUNLOG_ASSERT_OK_AND_ASSIGN(VerifyReport report, repo_->VerifyRun(id));
  EXPECT_THAT(report.problems, Not(IsEmpty()));
  EXPECT_THAT(repo_->CompactRun(id).status(), Not(IsOk()));
  TouchRunEverywhere(id);
  EXPECT_EQ(TakeTree(outside_), outside_before);
}

TEST_F(HostileInputTest, SymlinkedSegmentIsNotFollowed) {
  const std::string id = CommittedRun();
  ReplaceWithSymlink(RunDir(id) + "/000001.seg", "000001.seg");
  const Tree outside_before = TakeTree(outside_);
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RunView> view,
                              repo_->OpenRun(id));
  EXPECT_THAT(view->ReadScalars({"loss", {}}).status(), Not(IsOk()));
  RUNLOG_ASSERT_OK_AND_ASSIGN(VerifyReport report, repo_->VerifyRun(id));
  EXPECT_THAT(report.problems, Not(IsEmpty()));
  EXPECT_THAT(repo_->CompactRun(id).status(), Not(IsOk()));
  TouchRunEverywhere(id);
  EXPECT_EQ(TakeTree(outside_), outside_before);
}

TEST_F(HostileInputTest, SymlinkedSegmentOfAbandonedRunIsNotFollowed) {
  const std::string id = AbandonedRun();
  ReplaceWithSymlink(RunDir(id) + "/000001.seg", "000001.seg");
  ReplaceWithSymlink(RunDir(id) + "/OWNER", "OWNER");
  const Tree outside_before = TakeTree(outside_);
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<RunView> view,
                              repo_->OpenRun(id));
  EXPECT_THAT(view->ReadScalars({"loss", {}}).status(), Not(IsOk()));
  TouchRunEverywhere(id);
  EXPECT_EQ(TakeTree(outside_), outside_before);
}

TEST_F(HostileInputTest, SymlinkedTrashEntryIsUnlinkedNotFollowed) {
  const std::string id = CommittedRun();
  fs::create_symlink(outside_, repo_path_ + "/trash/" + id);
  fs::create_symlink(outside_ + "/victim", repo_path_ + "/trash/x");
  const Tree outside_before = TakeTree(outside_);
  RUNLOG_ASSERT_OK(repo_->Recover().status());
  EXPECT_EQ(Segtool({"recover", repo_path_}), segtool::kExitOk);
  EXPECT_EQ(TakeTree(outside_), outside_before);
}

// A zstd frame header (single segment, 8-byte content size) declaring
// `size` bytes, then one empty raw block.
std::string FrameDeclaring(uint64_t size) {
  std::string frame("\x28\xb5\x2f\xfd\xe0", 5);
  storage::PutFixed64(&frame, size);
  frame.append("\x01\x00\x00", 3);
  return frame;
}

TEST(HostileBytesTest, DecompressionIsBoundedByTheDeclaredSizeLimit) {
  {
    AllocationProbe probe;
    EXPECT_THAT(storage::ZstdDecompress(FrameDeclaring(kHuge), 1 << 20),
                StatusIs(absl::StatusCode::kDataLoss, _));
    EXPECT_LT(probe.largest(), kSmallAllocation);
  }
  // A bomb: 16 MiB of zeros compress to a few hundred bytes.
  RUNLOG_ASSERT_OK_AND_ASSIGN(std::string bomb,
                              storage::ZstdCompress(std::string(16 << 20, 0)));
  ASSERT_LT(bomb.size(), 4096u);
  AllocationProbe probe;
  EXPECT_THAT(storage::ZstdDecompress(bomb, 1 << 20),
              StatusIs(absl::StatusCode::kDataLoss, _));
  EXPECT_LT(probe.largest(), kSmallAllocation);
}

TEST(HostileBytesTest, HugeDeclaredValueLengthsAreRejectedBeforeAllocating) {
  for (const uint8_t tag : {0x06, 0x07, 0x08}) {  // string, list, map
    const ExactBuffer bytes(std::string(1, static_cast<char>(tag)) +
                            Varint(kHuge));
    absl::string_view in = bytes.view();
    AllocationProbe probe;
    EXPECT_THAT(DecodeValue(&in).status(),
                StatusIs(absl::StatusCode::kDataLoss, _));
    EXPECT_LT(probe.largest(), kSmallAllocation) << "tag " << int{tag};
  }
}

TEST(HostileBytesTest, HugeDeclaredSummaryLengthsAreRejectedBeforeAllocating) {
  const ExactBuffer bytes(
      absl::StrCat(std::string(1, static_cast<char>(record::kSummaryVersion)),
                   Varint(0), Varint(kHuge)));
  AllocationProbe probe;
  EXPECT_THAT(DecodeRunSummary(bytes.view(), "COMMIT").status(),
              StatusIs(absl::StatusCode::kDataLoss, _));
  EXPECT_LT(probe.largest(), kSmallAllocation);
}

TEST(HostileBytesTest, HugeDeclaredRecordLengthsAreRejectedBeforeAllocating) {
  const uint8_t kTypes[] = {
      static_cast<uint8_t>(record::RecordType::kSetParam),
      static_cast<uint8_t>(record::RecordType::kScalarPoints),
      static_cast<uint8_t>(record::RecordType::kTextPoints)};
  for (const uint8_t type : kTypes) {
    const ExactBuffer payload(std::string(1, static_cast<char>(type)) +
                              Varint(kHuge) + "xx");
    storage::Chunk chunk;
    chunk.type = storage::format::kChunkRecords;
    chunk.payload = payload.view();
    RunLogDecoder decoder = RunLogDecoder::CollectingAll();
    AllocationProbe probe;
    EXPECT_THAT(decoder.Apply(chunk, "000001.seg"),
                StatusIs(absl::StatusCode::kDataLoss, _));
    EXPECT_LT(probe.largest(), kSmallAllocation) << "type " << int{type};
  }
}

// COMMIT bytes for a valid manifest with fields at `offset` replaced by
// `patch` and the trailing checksum recomputed, so only the length is wrong.
std::string PatchedCommit(size_t offset, absl::string_view patch) {
  storage::CommitManifest m;
  absl::BitGen gen;
  m.run_id = storage::NewRunId(absl::Now(), gen);
  absl::StatusOr<std::string> bytes = storage::EncodeCommitManifest(m);
  EXPECT_THAT(bytes.status(), IsOk());
  std::string b = bytes.ok() ? *bytes : std::string();
  if (b.size() < offset + patch.size() + 8) return b;
  b.replace(offset, patch.size(), std::string(patch));
  const uint64_t sum =
      storage::Checksum64(absl::string_view(b).substr(0, b.size() - 8));
  storage::EncodeFixed64(b.data() + b.size() - 8, sum);
  return b;
}

TEST(HostileBytesTest, HugeDeclaredCommitLengthsAreRejectedBeforeAllocating) {
  const std::string all_ones(4, '\xff');
  constexpr size_t kSegmentCount = 12;
  constexpr size_t kReasonLength = storage::format::kCommitFixedSize;
  constexpr size_t kSummaryLength = kReasonLength + 4;
  for (const size_t offset : {kSegmentCount, kReasonLength, kSummaryLength}) {
    const ExactBuffer bytes(PatchedCommit(offset, all_ones));
    AllocationProbe probe;
    EXPECT_THAT(storage::DecodeCommitManifest(bytes.view(), "COMMIT").status(),
                StatusIs(absl::StatusCode::kDataLoss, _))
        << "offset " << offset;
    EXPECT_LT(probe.largest(), kSmallAllocation) << "offset " << offset;
  }
}

TEST(HostileBytesTest, HugeDeclaredChunkLengthIsRejectedBeforeAllocating) {
  storage::MemFileSystem mem;
  RUNLOG_ASSERT_OK(mem.CreateDir("/run"));
  absl::BitGen gen;
  const std::string id = storage::NewRunId(absl::Now(), gen);
  std::string file = storage::EncodeSegmentHeader(id, 1);
  std::string header(storage::format::kChunkHeaderSize, '\0');
  storage::EncodeFixed32(header.data() + 8, 0xffffffffu);
  header[12] = static_cast<char>(storage::format::kChunkRecords);
  file += header;
  RUNLOG_ASSERT_OK(mem.SetContents("/run/000001.seg", file));
  const storage::SegmentInfo info{.number = 1,
                                  .length = file.size(),
                                  .checksum = storage::Checksum64(file)};
  for (const auto policy : {storage::TailPolicy::kTornTailIsEnd,
                            storage::TailPolicy::kExactManifest}) {
    AllocationProbe probe;
    RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<storage::SegmentReader> reader,
                                storage::SegmentReader::Open(
                                    &mem, "/run/000001.seg", id, policy, info));
    storage::Chunk chunk;
    absl::StatusOr<bool> next = reader->Next(&chunk);
    if (policy == storage::TailPolicy::kTornTailIsEnd) {
      ASSERT_THAT(next.status(), IsOk());
      EXPECT_FALSE(*next) << "a chunk declaring 4 GiB is the torn end";
    } else {
      EXPECT_THAT(next.status(), StatusIs(absl::StatusCode::kDataLoss, _));
    }
    EXPECT_LT(probe.largest(), kSmallAllocation);
  }
}

// Sets the umask for the life of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t saved_;
};

mode_t ModeOf(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

TEST(HostileUmaskTest, FilesAndDirectoriesRespectTheUmask) {
  for (const mode_t mask : {mode_t{027}, mode_t{077}}) {
    SCOPED_TRACE(absl::StrCat("umask 0", absl::Hex(mask)));
    testing::TempDir temp;
    const std::string root = temp.path() + "/repo";
    std::string id;
    {
      ScopedUmask umask(mask);
      RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<Repo> repo, Repo::Open(root));
      RUNLOG_ASSERT_OK_AND_ASSIGN(std::unique_ptr<runlog::Run> run,
                                  repo->CreateRun());
      RUNLOG_ASSERT_OK(run->Track("loss", 1.0, 0));
      RUNLOG_ASSERT_OK(run->Commit());
      id = run->id();
      RUNLOG_ASSERT_OK(repo->CompactRun(id).status());
    }
    int files = 0, dirs = 0;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      const std::string path = e.path().string();
      if (e.is_directory()) {
        EXPECT_EQ(ModeOf(path), 0777 & ~mask) << path;
        ++dirs;
      } else {
        EXPECT_EQ(ModeOf(path), 0666 & ~mask) << path;
        ++files;
      }
    }
    EXPECT_EQ(ModeOf(root), 0777 & ~mask);
    EXPECT_GE(dirs, 3);   // runs, trash, the run
    EXPECT_GE(files, 4);  // RUNLOG, OWNER, COMMIT, a column file
  }
}

}  // namespace
}  // namespace runlog
