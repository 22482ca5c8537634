#include "interop/wandb/importer.h"

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interop/import_session.h"
#include "interop/wandb/log_reader.h"
#include "tests/interop/wire.h"
#include "tests/testing/decoder_probes.h"
#include "tests/testing/temp_dir.h"
#include "tracking/repo.h"

namespace runlog::interop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// CRC-32 (zlib's polynomial), written here so the framing below does not
// share code with the reader under test.
uint32_t Crc32(absl::string_view a, absl::string_view b) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ ((c & 1) ? 0xedb88320u : 0);
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = ~0u;
  for (absl::string_view s : {a, b}) {
    for (unsigned char ch : s) c = table[(c ^ ch) & 0xff] ^ (c >> 8);
  }
  return ~c;
}

// W&B's framing, as its datastore.py describes it.
std::string Frame(const std::vector<std::string>& records) {
  std::string out(":W&B\xe1\xbe\x00", 7);
  for (absl::string_view r : records) {
    bool first = true;
    do {
      size_t left = 32768 - out.size() % 32768;
      if (left < 7) {
        out.append(left, '\0');
        left = 32768;
      }
      const size_t n = std::min(left - 7, r.size());
      const bool last = n == r.size();
      const char type = first && last ? 1 : first ? 2 : last ? 4 : 3;
      const absl::string_view data = r.substr(0, n);
      const uint32_t crc = Crc32(absl::string_view(&type, 1), data);
      out.append(reinterpret_cast<const char*>(&crc), 4);
      const uint16_t len = static_cast<uint16_t>(n);
      out.append(reinterpret_cast<const char*>(&len), 2);
      out.push_back(type);
      out.append(data.data(), data.size());
      r.remove_prefix(n);
      first = false;
    } while (!r.empty());
  }
  return out;
}

std::string Item(absl::string_view key, absl::string_view json) {
  std::string i;
  wire::Bytes(&i, 1, key);
  wire::Bytes(&i, 16, json);
  return i;
}

std::string Record(int field, absl::string_view body) {
  std::string r;
  wire::Int(&r, 1, 1);
  wire::Bytes(&r, field, body);
  return r;
}

std::string History(int64_t step, const std::vector<std::string>& items) {
  std::string h, s;
  for (const std::string& i : items) wire::Bytes(&h, 1, i);
  wire::Int(&s, 1, static_cast<uint64_t>(step));
  wire::Bytes(&h, 2, s);
  return Record(2, h);
}

std::string RunRec() {
  std::string run, config;
  wire::Bytes(&run, 1, "abc123");
  wire::Bytes(&run, 3, "proj");
  wire::Bytes(&run, 8, "bright-sun-1");
  wire::Bytes(&run, 10, "baseline");
  wire::Bytes(&config, 1, Item("lr", "0.001"));
  wire::Bytes(&run, 4, config);
  return Record(17, run);
}

std::string Exit(int code) {
  std::string e;
  wire::Int(&e, 1, static_cast<uint64_t>(code));
  return Record(18, e);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

class WandbImportTest : public ::testing::Test {
 protected:
  ImportReport Import(ImportOptions options = {}) {
    auto session = ImportSession::Open(repo_, {}, kWandbFormat, options);
    EXPECT_TRUE(session.ok()) << session.status();
    absl::Status s = ImportWandb(dir_, session->get());
    EXPECT_TRUE(s.ok()) << s;
    return (*session)->report();
  }
  testing::TempDir tmp_;
  std::string dir_ = tmp_.path() + "/wandb";
  std::string repo_ = tmp_.path() + "/repo";
  std::string file_ =
      dir_ + "/offline-run-20240101_000000-abc123/run-abc123.wandb";
};

TEST_F(WandbImportTest, ReaderSeesRecordsAcrossBlocks) {
  const std::vector<std::string> records = {"a", std::string(40000, 'b'),
                                            std::string(32761 - 7 - 8, 'c'),
                                            "d", std::string(100000, 'e')};
  const std::string file = Frame(records);
  std::vector<std::string> got;
  WandbLogScan scan;
  absl::Status s = ScanWandbLog(
      file, "f", false,
      [&](absl::string_view r, uint64_t) {
        got.emplace_back(r);
        return absl::OkStatus();
      },
      &scan);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(got, records);
  std::string ours;
  WandbLogWriter writer(&ours);
  for (const std::string& r : records) writer.Add(r);
  EXPECT_EQ(ours, file);
}

TEST_F(WandbImportTest, CrcMismatchNamesTheOffsetAndTornTailIsNot) {
  std::string file = Frame({"alpha", "beta", "gamma"});
  std::string bad = file;
  bad[7 + 7 + 5 + 7] ^= 1;  // the second record's data
  WandbLogScan scan;
  auto nothing = [](absl::string_view, uint64_t) { return absl::OkStatus(); };
  absl::Status s = ScanWandbLog(bad, "f", false, nothing, &scan);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("f: offset 19: record CRC mismatch"));
  WandbLogScan torn;
  s = ScanWandbLog(absl::string_view(file).substr(0, file.size() - 2), "f",
                   false, nothing, &torn);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(torn.records, 2u);
  ASSERT_TRUE(torn.torn_at);
  s = ScanWandbLog("not a wandb file", "f", false, nothing, &scan);
  EXPECT_TRUE(absl::IsDataLoss(s));
}

TEST_F(WandbImportTest, ConfigHistorySummaryAndExit) {
  std::string summary;
  wire::Bytes(&summary, 1, Item("best", "0.9"));
  std::string nested;
  wire::Bytes(&nested, 2, "optimizer");
  wire::Bytes(&nested, 2, "name");
  wire::Bytes(&nested, 16, "\"adam\"");
  std::string config;
  wire::Bytes(&config, 1, nested);
  std::string files;
  wire::Bytes(&files, 1, "x");
  WriteFile(file_,
            Frame({RunRec(), Record(5, config),
                   History(0, {Item("loss", "0.5"),
                               Item("_timestamp", "1700000000.5"),
                               Item("_step", "0")}),
                   History(1, {Item("loss", "0.25"), Item("note", "\"hi\""),
                               Item("img", "{\"_type\": \"image-file\"}")}),
                   Record(6, files), Record(3, summary), Exit(0)}));
  ImportReport report = Import();
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].action, "imported") << FormatImportReport(report);
  auto repo = Repo::Open(repo_);
  auto runs = (*repo)->ListRuns();
  ASSERT_EQ(runs->size(), 1u);
  const RunRecord& r = (*runs)[0];
  EXPECT_EQ(r.status, RunStatus::kFinished);
  EXPECT_EQ(r.summary.experiment, "proj");
  EXPECT_EQ(r.summary.name, "bright-sun-1");
  EXPECT_EQ(r.summary.params.Find("lr")->as_double(), 0.001);
  EXPECT_EQ(r.summary.params.Find("optimizer")->Find("name")->as_string(),
            "adam");
  EXPECT_EQ(r.summary.params.Find("wandb_summary")->Find("best")->as_double(),
            0.9);
  auto view = (*repo)->OpenRun(r.id);
  auto loss = (*view)->ReadScalars({"loss", {}});
  ASSERT_TRUE(loss.ok()) << loss.status();
  EXPECT_THAT(loss->steps, ElementsAre(0, 1));
  EXPECT_THAT(loss->values, ElementsAre(0.5, 0.25));
  EXPECT_EQ(loss->times_us[0], 1700000000500000);
  EXPECT_THAT((*view)->ReadTexts({"note", {}})->values, ElementsAre("hi"));
  EXPECT_EQ(report.runs[0].skipped.count(
                "history value of type image-file: not imported"),
            1u);
  EXPECT_EQ(report.runs[0].skipped.count("files record: not imported"), 1u);
  EXPECT_EQ(Import().runs[0].action, "unchanged");
}

TEST_F(WandbImportTest, NoExitRecordOrAFailingExitFailsTheRun) {
  WriteFile(file_, Frame({RunRec(), History(0, {Item("loss", "1")})}));
  WriteFile(dir_ + "/run-zzz/run-zzz.wandb",
            Frame({History(0, {Item("loss", "1")}), Exit(3)}));
  ImportReport report = Import();
  ASSERT_EQ(report.runs.size(), 2u);
  auto repo = Repo::Open(repo_);
  auto runs = (*repo)->ListRuns();
  ASSERT_EQ(runs->size(), 2u);
  std::vector<std::string> reasons;
  for (const RunRecord& r : *runs) {
    EXPECT_EQ(r.status, RunStatus::kFailed);
    reasons.push_back(r.failure_reason);
  }
  std::sort(reasons.begin(), reasons.end());
  EXPECT_THAT(reasons,
              ElementsAre("wandb exit code 3", HasSubstr("no exit record")));
}

TEST_F(WandbImportTest, HostileRecords) {
  // A protobuf nested 100,000 levels deep: below the history record's step
  // the levels are unknown fields, kept as bytes, never recursed into.
  std::string one_gb;  // a string field declaring 1 GB it does not hold
  wire::Key(&one_gb, 1, 2);
  wire::Varint(&one_gb, uint64_t{1} << 30);
  one_gb += "short";
  WriteFile(file_, Frame({wire::Nested(2, 100000), Record(17, one_gb)}));
  testing::AllocationProbe probe;
  ImportReport report = Import();
  EXPECT_LT(probe.largest(), size_t{64} << 20);
  ASSERT_EQ(report.runs.size(), 1u);
  EXPECT_EQ(report.runs[0].action, "failed");
  EXPECT_THAT(report.runs[0].error, HasSubstr("not a W&B Record"));
  EXPECT_THAT(report.runs[0].error, HasSubstr("offset"));
  ImportReport skipped = Import({.skip_damaged = true});
  EXPECT_EQ(skipped.runs[0].action, "imported");
  EXPECT_EQ(skipped.runs[0].points, 0);
  EXPECT_EQ(skipped.runs[0].skipped.count("record that is not a W&B Record"),
            1u);
}

}  // namespace
}  // namespace runlog::interop
