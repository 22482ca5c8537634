#include "interop/tensorboard/tfrecord_reader.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "interop/tensorboard/crc32c.h"
#include "storage/coding.h"
#include "tests/testing/decoder_probes.h"

namespace runlog::interop {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Scan(absl::string_view bytes, bool skip,
                              TFRecordScan* scan, absl::Status* status) {
  std::vector<std::string> out;
  *status = ScanTFRecords(
      bytes, "f", skip,
      [&](absl::string_view r, uint64_t) {
        out.emplace_back(r);
        return absl::OkStatus();
      },
      scan);
  return out;
}

TEST(Crc32cTest, KnownValues) {
  // RFC 3720 B.4: 32 bytes of zeros.
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);
}

TEST(TFRecordReaderTest, ReadsEveryRecord) {
  std::string file;
  AppendTFRecord("alpha", &file);
  AppendTFRecord("", &file);
  AppendTFRecord(std::string(70000, 'x'), &file);
  TFRecordScan scan;
  absl::Status s;
  std::vector<std::string> r = Scan(file, false, &scan, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(r, ElementsAre("alpha", "", std::string(70000, 'x')));
  EXPECT_FALSE(scan.torn_at);
}

TEST(TFRecordReaderTest, TornLastRecordEndsTheRecords) {
  std::string file;
  AppendTFRecord("alpha", &file);
  const size_t second = file.size();
  AppendTFRecord("beta-record", &file);
  for (size_t cut = second + 1; cut < file.size(); ++cut) {
    TFRecordScan scan;
    absl::Status s;
    std::vector<std::string> r =
        Scan(absl::string_view(file).substr(0, cut), false, &scan, &s);
    ASSERT_TRUE(s.ok()) << cut << ": " << s;
    EXPECT_THAT(r, ElementsAre("alpha")) << cut;
    ASSERT_TRUE(scan.torn_at) << cut;
    EXPECT_EQ(*scan.torn_at, second);
  }
}

TEST(TFRecordReaderTest, DataCrcMismatchNamesTheOffset) {
  std::string file;
  AppendTFRecord("alpha", &file);
  const size_t second = file.size();
  AppendTFRecord("beta", &file);
  AppendTFRecord("gamma", &file);
  file[second + 12] ^= 1;  // a data byte of the second record
  TFRecordScan scan;
  absl::Status s;
  Scan(file, false, &scan, &s);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("f: offset 21: record data CRC"));

  TFRecordScan skipped;
  std::vector<std::string> r = Scan(file, true, &skipped, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(r, ElementsAre("alpha", "gamma"));
  EXPECT_EQ(skipped.damage.size(), 1u);
}

TEST(TFRecordReaderTest, LengthCrcMismatchResynchronises) {
  std::string file;
  AppendTFRecord("alpha", &file);
  const size_t second = file.size();
  AppendTFRecord("beta", &file);
  AppendTFRecord("gamma", &file);
  file[second] ^= 0x40;  // the length of the second record
  TFRecordScan scan;
  absl::Status s;
  Scan(file, false, &scan, &s);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("offset 21: record length CRC"));
  std::vector<std::string> r = Scan(file, true, &scan, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(r, ElementsAre("alpha", "gamma"));
}

TEST(TFRecordReaderTest, HostileLengthIsAnErrorNotAnAllocation) {
  // A sound length CRC over a length of 2^63.
  std::string file(12, '\0');
  storage::EncodeFixed64(file.data(), uint64_t{1} << 63);
  storage::EncodeFixed32(file.data() + 8,
                         MaskedCrc32c(absl::string_view(file.data(), 8)));
  file += "tail";
  TFRecordScan scan;
  absl::Status s;
  testing::AllocationProbe probe;
  Scan(file, false, &scan, &s);
  EXPECT_LT(probe.largest(), size_t{1} << 20);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr("implausible record length"));
}

}  // namespace
}  // namespace runlog::interop
