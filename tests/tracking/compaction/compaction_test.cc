// Compaction and salvage: every point reads back identically before and
// after, reads touch the compacted form transparently, and a power loss at
// any sync point or an I/O error at any operation leaves the run whole in
// its old or new form, verifiable, with recovery removing the leftovers.
#include "tracking/compaction/compaction.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/commit_manifest.h"
#include "storage/fault_file_system.h"
#include "storage/format.h"
#include "storage/mem_file_system.h"
#include "tests/testing/double_bits.h"
#include "tests/testing/fake_system_probe.h"
#include "tests/testing/status_matchers.h"
#include "tracking/compaction/compacted_run.h"
#include "tracking/repo.h"

namespace runlog {
namespace {

using ::runlog::testing::Bits;

using ::runlog::testing::FakeSystemProbe;
using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::_;
using ::testing::HasSubstr;

constexpr char kRoot[] = "/repo";

// Bit-exact equality of two scalar column sets, with the first difference.
::testing::AssertionResult SameScalars(const ScalarColumns& a,
                                       const ScalarColumns& b) {
  if (a.size() != b.size()) {
    return ::testing::AssertionFailure()
           << "sizes " << a.size() << " vs " << b.size();
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a.steps[i] != b.steps[i] || Bits(a.values[i]) != Bits(b.values[i]) ||
        Bits(a.epochs[i]) != Bits(b.epochs[i]) ||
        a.times_us[i] != b.times_us[i]) {
      return ::testing::AssertionFailure()
             << "point " << i << ": step " << a.steps[i] << "/" << b.steps[i]
             << " value " << a.values[i] << "/" << b.values[i];
    }
  }
  return ::testing::AssertionSuccess();
}

template <typename T>
::testing::AssertionResult SameColumns(const SeriesColumns<T>& a,
                                       const SeriesColumns<T>& b) {
  if (a.steps != b.steps || !(a.values == b.values) ||
      a.times_us != b.times_us || a.epochs.size() != b.epochs.size()) {
    return ::testing::AssertionFailure() << "columns differ";
  }
  for (size_t i = 0; i < a.epochs.size(); ++i) {
    if (Bits(a.epochs[i]) != Bits(b.epochs[i])) {
      return ::testing::AssertionFailure() << "epoch " << i << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

const SeriesKey kLoss{"loss", {{"subset", "train"}}};
const SeriesKey kValLoss{"loss", {{"subset", "val"}}};
const SeriesKey kLr{"lr", {}};
const SeriesKey kOdd{"odd", {}};
const SeriesKey kNote{"note", {}};
const SeriesKey kHist{"weights", {}};
const SeriesKey kImage{"image", {}};

class CompactionTest : public ::testing::Test {
 protected:
  CompactionTest() : clock_(absl::FromUnixSeconds(1'700'000'000)) {}

  std::unique_ptr<Repo> Open(storage::FileSystem* fs,
                             storage::SystemProbe* probe) {
    RepoOptions o;
    o.fs = fs;
    o.clock = &clock_;
    o.probe = probe;
    auto repo = Repo::Open(kRoot, o);
    EXPECT_THAT(repo, IsOk());
    return repo.ok() ? *std::move(repo) : nullptr;
  }

  // A run with every kind of series: several blocks of a float32 loss with
  // epochs, a short decimal series, NaN/inf/-0 values with steps that go
  // back, texts, histograms and blobs. Returns its id ("" on error).
  std::string WriteVariedRun(Repo& repo, int scalar_points = 10'000) {
    RunOptions options;
    options.experiment = "compaction";
    options.name = "varied";
    options.params = Value(Value::Map{{"lr", Value(3e-4)}});
    options.buffer_points = 1000;
    auto run = repo.CreateRun(options);
    EXPECT_THAT(run, IsOk());
    if (!run.ok()) return "";
    ::runlog::Run& r = **run;
    std::mt19937_64 gen(42);
    std::normal_distribution<double> noise(0, 0.05);
    auto loss = r.Series("loss", kLoss.context);
    EXPECT_THAT(loss, IsOk());
    for (int i = 0; i < scalar_points; ++i) {
      const double v = static_cast<float>(
          2.5 * std::exp(-3.0 * i / scalar_points) + 0.3 + noise(gen));
      EXPECT_THAT(loss->Track(i, v, static_cast<double>(i / 1000)), IsOk());
      if (i % 100 == 0) {
        EXPECT_THAT(r.Track("loss", v + 0.1, i, kValLoss.context), IsOk());
      }
      if (i % 10 == 0) {
        EXPECT_THAT(r.Track("lr", i < scalar_points / 2 ? 3e-4 : 3e-5, i),
                    IsOk());
      }
      if (i % 500 == 0) clock_.Advance(absl::Seconds(1));
    }
    const double odd[] = {std::nan(""), INFINITY, -INFINITY,    -0.0, 0.0,
                          1e-310,       1.5,      std::nan(""), -2.25};
    int64_t step = 100;
    for (double v : odd) {
      EXPECT_THAT(r.Track("odd", v, step), IsOk());
      step -= 7;  // steps that go back
    }
    for (int i = 0; i < 30; ++i) {
      EXPECT_THAT(r.TrackText("note", absl::StrCat("text ", i), i), IsOk());
      EXPECT_THAT(
          r.TrackHistogram("weights", Histogram{{0, 1, 2}, {i * 1.0, 2}}, i),
          IsOk());
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_THAT(r.TrackBlob("image",
                              Blob{"image/png", std::string(1000 + i, 'x')}, i),
                  IsOk());
    }
    EXPECT_THAT(r.Commit(), IsOk());
    return r.id();
  }

  // Every read the views offer, to compare before and after compaction.
  struct Reads {
    std::vector<ScalarColumns> scalars;
    TextColumns texts;
    HistogramColumns histograms;
    BlobColumns blobs;
  };
  Reads ReadEverything(Repo& repo, const std::string& id) {
    Reads out;
    auto view = repo.OpenRun(id);
    EXPECT_THAT(view, IsOk());
    if (!view.ok()) return out;
    const StepRange ranges[] = {
        {}, {1000, 5000}, {4095, 4096}, {-5, 3}, {9'999, 20'000}};
    for (const SeriesKey& key : {kLoss, kValLoss, kLr, kOdd}) {
      for (const StepRange& range : ranges) {
        auto all = (*view)->ReadScalars(key, range);
        EXPECT_THAT(all, IsOk());
        out.scalars.push_back(all.ok() ? *all : ScalarColumns());
        for (size_t max_points : {2, 3, 10, 1000, 5000}) {
          auto down = (*view)->ReadScalarsDownsampled(key, max_points, range);
          EXPECT_THAT(down, IsOk());
          out.scalars.push_back(down.ok() ? *down : ScalarColumns());
        }
      }
    }
    auto texts = (*view)->ReadTexts(kNote, {5, 20});
    EXPECT_THAT(texts, IsOk());
    if (texts.ok()) out.texts = *texts;
    auto hists = (*view)->ReadHistograms(kHist);
    EXPECT_THAT(hists, IsOk());
    if (hists.ok()) out.histograms = *hists;
    auto blobs = (*view)->ReadBlobs(kImage);
    EXPECT_THAT(blobs, IsOk());
    if (blobs.ok()) out.blobs = *blobs;
    return out;
  }

  void ExpectSameReads(const Reads& a, const Reads& b) {
    ASSERT_EQ(a.scalars.size(), b.scalars.size());
    for (size_t i = 0; i < a.scalars.size(); ++i) {
      EXPECT_TRUE(SameScalars(a.scalars[i], b.scalars[i])) << "read " << i;
    }
    EXPECT_TRUE(SameColumns(a.texts, b.texts));
    EXPECT_TRUE(SameColumns(a.histograms, b.histograms));
    EXPECT_TRUE(SameColumns(a.blobs, b.blobs));
  }

  std::vector<std::string> Files(storage::FileSystem& fs,
                                 const std::string& id) {
    auto names = fs.ListDir(storage::JoinPath(kRoot, "runs/" + id));
    return names.ok() ? *names : std::vector<std::string>{};
  }

  storage::ManualClock clock_;
};

TEST_F(CompactionTest, EveryPointReadsBackIdentically) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  const std::string id = WriteVariedRun(*repo);
  ASSERT_FALSE(HasFailure());
  const Reads before = ReadEverything(*repo, id);
  auto record_before = repo->GetRun(id);
  ASSERT_THAT(record_before, IsOk());

  auto report = repo->CompactRun(id);
  ASSERT_THAT(report, IsOk());
  EXPECT_FALSE(report->already_compacted);
  EXPECT_LT(report->bytes_after, report->bytes_before);
  int64_t expected_points = 0;
  for (const SeriesSummary& s : record_before->summary.series) {
    expected_points += s.count;
  }
  EXPECT_EQ(report->points, expected_points);
  // Only the column file, the new manifest (COMMIT.2), OWNER and the
  // superseded COMMIT remain; recovery removes the last once it is older
  // than the staleness period (another client may still have it open).
  std::vector<std::string> files = Files(mem, id);
  EXPECT_THAT(files,
              ::testing::UnorderedElementsAre("COMMIT", "COMMIT.2", "OWNER",
                                              ::testing::EndsWith(".col")));

  const Reads after = ReadEverything(*repo, id);
  ExpectSameReads(before, after);
  auto record_after = repo->GetRun(id);
  ASSERT_THAT(record_after, IsOk());
  EXPECT_EQ(record_after->summary.series.size(),
            record_before->summary.series.size());
  EXPECT_EQ(record_after->status, RunStatus::kFinished);

  auto verify = repo->VerifyRun(id);
  ASSERT_THAT(verify, IsOk());
  EXPECT_TRUE(verify->problems.empty()) << verify->problems[0].status;
  EXPECT_EQ(verify->points, expected_points);
}

// Compaction streams: each series' points go out in blocks as they fill,
// and when the buffers of many series together pass the budget (32 MiB)
// they are written as short blocks. 300 series of 3,500 interleaved points
// hold 300 x 4,096 x 32 B = 39 MB of buffers at their fullest, so every
// series is cut once; every point still reads back in order.
TEST_F(CompactionTest, ManySeriesOverTheBufferBudgetGoOutInShortBlocks) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  constexpr int kSeries = 300, kPoints = 3500;
  auto run = repo->CreateRun(RunOptions{});
  ASSERT_THAT(run, IsOk());
  std::vector<ScalarSeries> handles;
  for (int j = 0; j < kSeries; ++j) {
    auto h = (*run)->Series(absl::StrCat("s", j), {});
    ASSERT_THAT(h, IsOk());
    handles.push_back(*h);
  }
  for (int i = 0; i < kPoints; ++i) {
    for (int j = 0; j < kSeries; ++j) {
      ASSERT_THAT(handles[j].Track(i, i * 0.5 + j), IsOk());
    }
  }
  ASSERT_THAT((*run)->Commit(), IsOk());
  const std::string id = (*run)->id();
  auto report = repo->CompactRun(id);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->points, int64_t{kSeries} * kPoints);

  const std::string dir = storage::JoinPath(kRoot, "runs/" + id);
  auto manifest = storage::ReadCommitManifest(mem, dir);
  ASSERT_THAT(manifest, IsOk());
  auto reader =
      CompactedRunReader::Open(&mem, dir, id, manifest->segments.front());
  ASSERT_THAT(reader, IsOk());
  ASSERT_EQ((*reader)->footer().series.size(), size_t{kSeries});
  for (const CompactedSeries& s : (*reader)->footer().series) {
    EXPECT_GE(s.blocks.size(), 2u) << s.key.ToString();
    EXPECT_EQ(s.count(), kPoints);
  }
  auto view = repo->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  for (int j : {0, 137, kSeries - 1}) {
    auto c = (*view)->ReadScalars(SeriesKey{absl::StrCat("s", j), {}});
    ASSERT_THAT(c, IsOk());
    ASSERT_EQ(c->size(), size_t{kPoints});
    for (int i = 0; i < kPoints; ++i) {
      ASSERT_EQ(c->steps[i], i);
      ASSERT_EQ(c->values[i], i * 0.5 + j);
    }
  }
  auto verify = repo->VerifyRun(id);
  ASSERT_THAT(verify, IsOk());
  EXPECT_TRUE(verify->problems.empty());
}

TEST_F(CompactionTest, SecondCompactionHasNothingToDo) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  const std::string id = WriteVariedRun(*repo, 100);
  ASSERT_THAT(repo->CompactRun(id), IsOk());
  auto again = repo->CompactRun(id);
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(again->already_compacted);
  EXPECT_EQ(again->bytes_after, again->bytes_before);
}

TEST_F(CompactionTest, UncommittedRunIsNeverCompacted) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  auto run = repo->CreateRun();
  ASSERT_THAT(run, IsOk());
  ASSERT_THAT((*run)->Track("loss", 1.0), IsOk());
  ASSERT_THAT((*run)->Flush(), IsOk());
  const std::vector<std::string> files = Files(mem, (*run)->id());
  EXPECT_THAT(repo->CompactRun((*run)->id()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not committed")));
  EXPECT_EQ(Files(mem, (*run)->id()), files);
}

TEST_F(CompactionTest, UnknownAndMalformedIdsAreRefused) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  EXPECT_THAT(repo->CompactRun("zzzz"),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
  EXPECT_THAT(repo->CompactRun("../x"),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(CompactionTest, DamagedRunIsLeftUntouched) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  const std::string id = WriteVariedRun(*repo, 100);
  const std::string seg =
      storage::JoinPath(kRoot, "runs/" + id + "/000001.seg");
  auto bytes = mem.Contents(seg);
  ASSERT_THAT(bytes, IsOk());
  std::string damaged = *bytes;
  damaged[200] ^= 0x10;
  ASSERT_THAT(mem.SetContents(seg, damaged), IsOk());
  const std::vector<std::string> files = Files(mem, id);
  EXPECT_THAT(repo->CompactRun(id),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("000001.seg")));
  EXPECT_EQ(Files(mem, id), files);
}

TEST_F(CompactionTest, RunningCompactionExcludesAnother) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  const std::string id = WriteVariedRun(*repo, 100);
  // A COMPACTING owned by a live process (this one, per the probe).
  const std::string owner =
      storage::EncodeOwner(storage::CurrentOwner(probe, clock_.Now()));
  const std::string path =
      storage::JoinPath(kRoot, "runs/" + id + "/COMPACTING");
  ASSERT_THAT(storage::WriteNewFileSynced(mem, path, owner), IsOk());
  EXPECT_THAT(repo->CompactRun(id),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("being compacted")));
  // Recovery leaves a run being compacted alone.
  auto report = repo->Recover();
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->actions.empty());
  // Once its owner is gone, the claim is taken over.
  probe.KillProcess(probe.self_pid());
  probe.SetProcess(probe.self_pid(), 999);  // same pid, another process
  EXPECT_THAT(repo->CompactRun(id), IsOk());
  EXPECT_THAT(Files(mem, id),
              ::testing::Not(::testing::Contains("COMPACTING")));
}

// A recovery that checked for COMPACTING just before this compaction
// claimed the run removes the compaction's COMMIT.tmp as a leftover, right
// before the rename; the compaction writes its manifest again.
TEST_F(CompactionTest, CommitTempRemovedByARacingRecoveryIsWrittenAgain) {
  storage::MemFileSystem mem(&clock_);
  storage::FaultInjectingFileSystem fs(&mem);
  FakeSystemProbe probe;
  auto repo = Open(&fs, &probe);
  const std::string id = WriteVariedRun(*repo, 3000);
  const Reads expected = ReadEverything(*repo, id);
  int removed = 0;
  fs.set_observer([&](storage::FsOp op, const std::string& path) {
    if (op == storage::FsOp::kRename && removed == 0 &&
        absl::EndsWith(path, "/COMMIT.tmp")) {
      ++removed;
      EXPECT_THAT(mem.RemoveFile(path), IsOk());
    }
  });
  EXPECT_THAT(repo->CompactRun(id), IsOk());
  fs.set_observer(nullptr);
  EXPECT_EQ(removed, 1);
  ExpectSameReads(expected, ReadEverything(*repo, id));
  for (const std::string& f : Files(mem, id)) {
    EXPECT_FALSE(absl::EndsWith(f, ".seg")) << f;
    EXPECT_NE(f, "COMMIT.tmp");
  }
  auto verify = repo->VerifyRun(id);
  ASSERT_THAT(verify, IsOk());
  EXPECT_TRUE(verify->problems.empty());
}

TEST_F(CompactionTest, VerifyNamesTheDamagedBlock) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  const std::string id = WriteVariedRun(*repo, 10'000);
  ASSERT_THAT(repo->CompactRun(id), IsOk());
  std::string col;
  for (const std::string& f : Files(mem, id)) {
    if (absl::EndsWith(f, ".col"))
      col = storage::JoinPath(kRoot, "runs/" + id + "/" + f);
  }
  auto bytes = mem.Contents(col);
  ASSERT_THAT(bytes, IsOk());
  std::string damaged = *bytes;
  damaged[100] ^= 0x01;  // inside the first block
  ASSERT_THAT(mem.SetContents(col, damaged), IsOk());
  auto verify = repo->VerifyRun(id);
  ASSERT_THAT(verify, IsOk());
  ASSERT_GE(verify->problems.size(), 2u);  // the block and the file checksum
  bool named_block = false;
  for (const VerifyProblem& p : verify->problems) {
    EXPECT_EQ(p.file, col);
    EXPECT_THAT(p.status, StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
    if (p.offset == 64) named_block = true;
  }
  EXPECT_TRUE(named_block);
  auto view = repo->OpenRun(id);
  ASSERT_THAT(view, IsOk());
  EXPECT_THAT((*view)->ReadScalars(kLoss),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(".col")));
}

TEST_F(CompactionTest, SalvageCommitsTheReadablePrefixAsCrashed) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  std::string id;
  {
    auto run = repo->CreateRun();
    ASSERT_THAT(run, IsOk());
    id = (*run)->id();
    for (int i = 0; i < 5000; ++i) {
      ASSERT_THAT((*run)->Track("loss", 1.0 / (i + 1), i), IsOk());
    }
    ASSERT_THAT((*run)->Flush(), IsOk());
    ASSERT_THAT((*run)->Track("loss", 9.0, 5000), IsOk());  // never flushed
    ASSERT_THAT((*run)->Close(), IsOk());
  }
  // Tear the last chunk as a crash would.
  const std::string seg =
      storage::JoinPath(kRoot, "runs/" + id + "/000001.seg");
  auto bytes = mem.Contents(seg);
  ASSERT_THAT(bytes, IsOk());
  ASSERT_THAT(mem.SetContents(seg, bytes->substr(0, bytes->size() - 3)),
              IsOk());
  probe.Reboot();
  auto before = repo->OpenRun(id);
  ASSERT_THAT(before, IsOk());
  auto prefix = (*before)->ReadScalars({"loss", {}});
  ASSERT_THAT(prefix, IsOk());
  ASSERT_GE(prefix->size(), 5000u);

  RecoverOptions options;
  options.salvage = true;
  auto report = repo->Recover(options);
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->actions.size(), 1u);
  EXPECT_EQ(report->actions[0].kind,
            storage::RecoveryAction::Kind::kSalvageAbandonedRun);
  EXPECT_TRUE(report->actions[0].done);

  auto record = repo->GetRun(id);
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->state, storage::RunState::kCommitted);
  EXPECT_EQ(record->status, RunStatus::kCrashed);
  EXPECT_THAT(record->failure_reason, HasSubstr("salvaged"));
  auto after = repo->OpenRun(id);
  ASSERT_THAT(after, IsOk());
  auto points = (*after)->ReadScalars({"loss", {}});
  ASSERT_THAT(points, IsOk());
  EXPECT_TRUE(SameScalars(*prefix, *points));
  EXPECT_THAT(Files(mem, id),
              ::testing::UnorderedElementsAre("COMMIT", "OWNER",
                                              ::testing::EndsWith(".col")));
  auto verify = repo->VerifyRun(id);
  ASSERT_THAT(verify, IsOk());
  EXPECT_TRUE(verify->problems.empty());
}

TEST_F(CompactionTest, HostileColumnFileBytesNeverCrash) {
  storage::MemFileSystem mem(&clock_);
  FakeSystemProbe probe;
  auto repo = Open(&mem, &probe);
  const std::string id = WriteVariedRun(*repo, 9'000);
  ASSERT_THAT(repo->CompactRun(id), IsOk());
  std::string col;
  for (const std::string& f : Files(mem, id)) {
    if (absl::EndsWith(f, ".col")) {
      col = storage::JoinPath(kRoot, "runs/" + id + "/" + f);
    }
  }
  auto original = mem.Contents(col);
  ASSERT_THAT(original, IsOk());
  std::mt19937_64 gen(99);
  int damaged_reads = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string bytes = *original;
    const int edits = 1 + static_cast<int>(gen() % 4);
    for (int e = 0; e < edits && !bytes.empty(); ++e) {
      const size_t at = gen() % bytes.size();
      switch (gen() % 3) {
        case 0:
          bytes[at] ^= static_cast<char>(1 << (gen() % 8));
          break;
        case 1:
          bytes[at] = static_cast<char>(gen());
          break;
        default:
          bytes.resize(at);  // truncation
          break;
      }
    }
    if (bytes == *original) continue;
    ASSERT_THAT(mem.SetContents(col, bytes), IsOk());
    // Every call returns a status; none may crash, hang or read out of
    // bounds (ASan). Damage is DataLoss, never silently accepted data.
    auto view = repo->OpenRun(id);
    if (!view.ok()) continue;
    for (const SeriesKey& key : {kLoss, kOdd}) {
      auto all = (*view)->ReadScalars(key);
      if (!all.ok()) {
        ++damaged_reads;
        EXPECT_THAT(
            all.status(),
            ::testing::AnyOf(StatusIs(absl::StatusCode::kDataLoss, _),
                             StatusIs(absl::StatusCode::kUnimplemented, _)));
      }
      (*view)->ReadScalarsDownsampled(key, 100).IgnoreError();
    }
    (*view)->ReadTexts(kNote).IgnoreError();
    (*view)->ReadBlobs(kImage).IgnoreError();
    auto verify = repo->VerifyRun(id);
    ASSERT_THAT(verify, IsOk());
    EXPECT_FALSE(verify->problems.empty()) << "trial " << trial;
  }
  EXPECT_GT(damaged_reads, 100);
}

// ---- faults
// -------------------------------------------------------------------

class CompactionFaultTest : public CompactionTest {
 protected:
  // After a fault: a new process after a reboot opens the repo, must see
  // the run committed and reading exactly `expected` (in either form), and
  // recovery (once the staleness period has passed) leaves only the files
  // of one form.
  void CheckWhole(storage::MemFileSystem& mem, const std::string& id,
                  const Reads& expected, const std::string& label) {
    FakeSystemProbe rebooted;
    rebooted.Reboot();
    auto repo = Open(&mem, &rebooted);
    ASSERT_NE(repo, nullptr) << label;
    auto record = repo->GetRun(id);
    ASSERT_THAT(record, IsOk()) << label;
    ASSERT_EQ(record->state, storage::RunState::kCommitted) << label;
    {
      SCOPED_TRACE(label);
      ExpectSameReads(expected, ReadEverything(*repo, id));
    }
    clock_.Advance(storage::kDefaultStaleness + absl::Hours(1));
    ASSERT_THAT(repo->Recover(), IsOk()) << label;
    auto again = repo->Recover();
    ASSERT_THAT(again, IsOk()) << label;
    EXPECT_TRUE(again->actions.empty())
        << label << ": " << again->actions[0].path << ": "
        << again->actions[0].reason;
    std::vector<std::string> files = Files(mem, id);
    int seg = 0, col = 0;
    for (const std::string& f : files) {
      EXPECT_FALSE(absl::StrContains(f, ".tmp")) << label << ": " << f;
      EXPECT_NE(f, "COMPACTING") << label;
      seg += absl::EndsWith(f, ".seg");
      col += absl::EndsWith(f, ".col");
    }
    EXPECT_TRUE((seg > 0) != (col > 0))
        << label << ": " << seg << " log and " << col << " column files";
    auto verify = repo->VerifyRun(id);
    ASSERT_THAT(verify, IsOk()) << label;
    EXPECT_TRUE(verify->problems.empty())
        << label << ": " << verify->problems[0].status;
  }
};

TEST_F(CompactionFaultTest, PowerLossAtEverySyncPoint) {
  int64_t syncs = 0;
  for (int64_t k = 0;; ++k) {
    storage::MemFileSystem mem(&clock_);
    storage::FaultInjectingFileSystem fs(&mem);
    FakeSystemProbe probe;
    std::string id;
    Reads expected;
    {
      auto repo = Open(&fs, &probe);
      id = WriteVariedRun(*repo, 3000);
      ASSERT_FALSE(HasFailure());
      expected = ReadEverything(*repo, id);
      const int64_t before = fs.count(storage::FsOp::kSync);
      fs.CrashAfterSyncs(static_cast<int>(k));
      absl::StatusOr<CompactionReport> r = repo->CompactRun(id);
      if (!fs.crashed()) {
        ASSERT_THAT(r, IsOk());
        syncs = fs.count(storage::FsOp::kSync) - before;
      }
    }
    const bool done = !fs.crashed();
    fs.SimulatePowerLoss();
    CheckWhole(mem, id, expected, absl::StrCat("power loss after sync ", k));
    if (HasFatalFailure() || done) break;
  }
  EXPECT_GE(syncs, 4);  // column file, directory, COMMIT.tmp, directory
}

TEST_F(CompactionFaultTest, IoErrorAtEveryOperation) {
  const storage::FsOp ops[] = {storage::FsOp::kOpen, storage::FsOp::kWrite,
                               storage::FsOp::kSync, storage::FsOp::kRename,
                               storage::FsOp::kUnlink};
  int injected = 0;
  for (storage::FsOp op : ops) {
    for (int64_t n = 1;; ++n) {
      storage::MemFileSystem mem(&clock_);
      storage::FaultInjectingFileSystem fs(&mem);
      FakeSystemProbe probe;
      auto repo = Open(&fs, &probe);
      const std::string id = WriteVariedRun(*repo, 3000);
      ASSERT_FALSE(HasFailure());
      const Reads expected = ReadEverything(*repo, id);
      const int64_t before = fs.count(op);
      fs.FailNth(op, static_cast<int>(n), EIO, /*persistent=*/false);
      absl::StatusOr<CompactionReport> r = repo->CompactRun(id);
      const bool hit = fs.count(op) >= before + n;
      fs.ClearFaults();
      if (hit && !r.ok()) {
        ++injected;
        EXPECT_THAT(r.status().message(), HasSubstr(kRoot));
      }
      CheckWhole(mem, id, expected,
                 absl::StrCat("op ", static_cast<int>(op), " #", n, ": ",
                              r.status().ToString()));
      if (HasFatalFailure() || !hit) break;
    }
  }
  EXPECT_GT(injected, 5);
}

}  // namespace
}  // namespace runlog
