#include "storage/owner_liveness.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/format.h"
#include "tests/testing/status_matchers.h"

namespace runlog::storage {
namespace {

using ::runlog::testing::IsOk;
using ::runlog::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr char kPath[] = "runs/abc/OWNER";

// ---- OWNER text -------------------------------------------------------------

OwnerRecord SampleOwner() {
  OwnerRecord o;
  o.host.hostname = "trainer-1";
  o.host.machine_id = "3d1219c7c4c5404aaa1f6d2a48adfda4";
  o.host.boot_id = "72200d7a-ce43-4589-8039-2f8b1c9d95ff";
  o.host.pid_namespace = 4026531836;
  o.pid = 4242;
  o.start_time = 123456;
  o.created = absl::FromUnixMicros(1700000000123456);
  return o;
}

void ExpectSameOwner(const OwnerRecord& a, const OwnerRecord& b) {
  EXPECT_EQ(a.host.hostname, b.host.hostname);
  EXPECT_EQ(a.host.machine_id, b.host.machine_id);
  EXPECT_EQ(a.host.boot_id, b.host.boot_id);
  EXPECT_EQ(a.host.pid_namespace, b.host.pid_namespace);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.start_time, b.start_time);
  EXPECT_EQ(a.created, b.created);
}

TEST(OwnerTextTest, EncodesTheDocumentedFormat) {
  EXPECT_EQ(EncodeOwner(SampleOwner()),
            "runlog-owner 1\n"
            "hostname=trainer-1\n"
            "machine_id=3d1219c7c4c5404aaa1f6d2a48adfda4\n"
            "boot_id=72200d7a-ce43-4589-8039-2f8b1c9d95ff\n"
            "pid_ns=4026531836\n"
            "pid=4242\n"
            "start_time=123456\n"
            "created_us=1700000000123456\n");
}

TEST(OwnerTextTest, RoundTrips) {
  const OwnerRecord o = SampleOwner();
  RUNLOG_ASSERT_OK_AND_ASSIGN(OwnerRecord back,
                              DecodeOwner(EncodeOwner(o), kPath));
  ExpectSameOwner(o, back);
}

TEST(OwnerTextTest, RoundTripsEmptyIdentityFields) {
  OwnerRecord o = SampleOwner();
  o.host.machine_id = "";
  o.host.boot_id = "";
  o.host.pid_namespace = 0;
  o.start_time = 0;
  RUNLOG_ASSERT_OK_AND_ASSIGN(OwnerRecord back,
                              DecodeOwner(EncodeOwner(o), kPath));
  ExpectSameOwner(o, back);
}

TEST(OwnerTextTest, ValueMayContainEquals) {
  OwnerRecord o = SampleOwner();
  o.host.hostname = "a=b=c";
  RUNLOG_ASSERT_OK_AND_ASSIGN(OwnerRecord back,
                              DecodeOwner(EncodeOwner(o), kPath));
  EXPECT_EQ(back.host.hostname, "a=b=c");
}

TEST(OwnerTextTest, NewlineInValueCannotForgeAKey) {
  OwnerRecord o = SampleOwner();
  o.host.hostname = "evil\npid=1\r";
  const std::string text = EncodeOwner(o);
  EXPECT_THAT(text, HasSubstr("hostname=evil?pid=1?\n"));
  RUNLOG_ASSERT_OK_AND_ASSIGN(OwnerRecord back, DecodeOwner(text, kPath));
  EXPECT_EQ(back.pid, 4242);
  EXPECT_EQ(back.host.hostname, "evil?pid=1?");
}

TEST(OwnerTextTest, AcceptsMissingFinalNewlineAndIgnoresUnknownKeys) {
  std::string text = EncodeOwner(SampleOwner());
  text.pop_back();
  text = absl::StrReplaceAll(text, {{"pid=4242\n", "pid=4242\ncolor=blue\n"}});
  RUNLOG_ASSERT_OK_AND_ASSIGN(OwnerRecord back, DecodeOwner(text, kPath));
  ExpectSameOwner(SampleOwner(), back);
}

// Replaces the line starting with `key=` by `replacement` (no newline added).
std::string WithLine(const std::string& key, const std::string& replacement) {
  const OwnerRecord o = SampleOwner();
  std::string out;
  for (absl::string_view line : absl::StrSplit(EncodeOwner(o), '\n')) {
    if (line.empty()) continue;
    if (absl::StartsWith(line, key + "=")) {
      out += replacement;
    } else {
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

class MissingKeyTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MissingKeyTest, IsDataLossNamingKeyAndPath) {
  EXPECT_THAT(
      DecodeOwner(WithLine(GetParam(), ""), kPath),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr(kPath),
                     HasSubstr(absl::StrCat("missing key ", GetParam())))));
}

INSTANTIATE_TEST_SUITE_P(AllKeys, MissingKeyTest,
                         ::testing::Values("hostname", "machine_id", "boot_id",
                                           "pid_ns", "pid", "start_time",
                                           "created_us"));

struct BadNumber {
  const char* key;
  const char* value;
};

class BadNumberTest : public ::testing::TestWithParam<BadNumber> {};

TEST_P(BadNumberTest, IsDataLossNamingLineAndKey) {
  const BadNumber& p = GetParam();
  EXPECT_THAT(
      DecodeOwner(WithLine(p.key, absl::StrCat(p.key, "=", p.value, "\n")),
                  kPath),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr(kPath), HasSubstr(": line "),
                     HasSubstr(absl::StrCat(p.key, ": bad number")))));
}

INSTANTIATE_TEST_SUITE_P(
    Variants, BadNumberTest,
    ::testing::Values(BadNumber{"pid", ""}, BadNumber{"pid", "12a"},
                      BadNumber{"pid", "0"}, BadNumber{"pid", "-7"},
                      BadNumber{"pid", " 12"}, BadNumber{"pid", "+12"},
                      BadNumber{"pid", "99999999999999999999"},
                      BadNumber{"pid_ns", "-1"}, BadNumber{"pid_ns", "x"},
                      BadNumber{"start_time", "1.5"},
                      BadNumber{"start_time", "18446744073709551616"},
                      BadNumber{"created_us", "--1"},
                      BadNumber{"created_us", "1e6"}));

TEST(OwnerTextTest, RejectsWrongHeader) {
  const std::string body =
      EncodeOwner(SampleOwner()).substr(sizeof(format::kOwnerHeaderLine));
  for (const std::string& header :
       {std::string("runlog-owner 2"), std::string("runlog-owner"),
        std::string("RUNLOG-OWNER 1"), std::string(""),
        std::string("runlog-owner 1 ")}) {
    EXPECT_THAT(DecodeOwner(header + "\n" + body, kPath),
                StatusIs(absl::StatusCode::kDataLoss,
                         AllOf(HasSubstr(kPath), HasSubstr("line 1"),
                               HasSubstr("expected header"))))
        << header;
  }
  EXPECT_THAT(DecodeOwner("", kPath),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(kPath)));
}

TEST(OwnerTextTest, RejectsLineWithoutKey) {
  EXPECT_THAT(DecodeOwner(EncodeOwner(SampleOwner()) + "justtext\n", kPath),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("line 9"), HasSubstr("key=value"))));
  EXPECT_THAT(DecodeOwner(EncodeOwner(SampleOwner()) + "=x\n", kPath),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("key=value")));
  EXPECT_THAT(DecodeOwner(EncodeOwner(SampleOwner()) + "\n", kPath),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("key=value")));
}

TEST(OwnerTextTest, RejectsDuplicateKey) {
  EXPECT_THAT(
      DecodeOwner(EncodeOwner(SampleOwner()) + "pid=1\n", kPath),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("line 9"), HasSubstr("duplicate key pid"))));
}

TEST(OwnerTextTest, RejectsCarriageReturns) {
  const std::string crlf =
      absl::StrReplaceAll(EncodeOwner(SampleOwner()), {{"\n", "\r\n"}});
  EXPECT_THAT(DecodeOwner(crlf, kPath),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(kPath)));
}

TEST(OwnerTextTest, RejectsOversizedText) {
  const std::string text = EncodeOwner(SampleOwner()) + "pad=" +
                           std::string(format::kMaxOwnerFileSize, 'x') + "\n";
  EXPECT_THAT(DecodeOwner(text, kPath),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr(kPath), HasSubstr("limit"))));
}

// ---- Decision table with a fake probe --------------------------------------

class FakeProbe : public SystemProbe {
 public:
  HostIdentity LocalIdentity() override { return local; }
  int64_t SelfPid() override { return self_pid; }
  std::optional<uint64_t> ProcessStartTime(int64_t pid) override {
    probed.push_back(pid);
    auto it = processes.find(pid);
    if (it == processes.end()) return std::nullopt;
    return it->second;
  }

  HostIdentity local;
  int64_t self_pid = 777;
  absl::flat_hash_map<int64_t, uint64_t> processes;  // pid -> start time
  std::vector<int64_t> probed;
};

class LivenessTest : public ::testing::Test {
 protected:
  static constexpr int64_t kPid = 4242;
  static constexpr uint64_t kStart = 123456;

  LivenessTest() {
    owner_ = SampleOwner();
    probe_.local = owner_.host;  // same machine, boot and pid namespace
  }

  // Verbs.
  void ProcessRuns(int64_t pid, uint64_t start) {
    probe_.processes[pid] = start;
  }
  void OwnerOnHost(const std::string& host) { owner_.host.hostname = host; }

  absl::Time Fresh() const { return kNow - absl::Seconds(12); }
  absl::Time Stale() const { return kNow - kStaleness - absl::Seconds(1); }

  LivenessVerdict Decide(absl::Time last_write) {
    return DecideWith(owner_, last_write);
  }
  LivenessVerdict DecideWith(const absl::StatusOr<OwnerRecord>& owner,
                             absl::Time last_write) {
    LivenessVerdict v = DecideLiveness(owner, probe_.local, probe_, last_write,
                                       kNow, kStaleness);
    EXPECT_THAT(v.reason, Not(IsEmpty()));
    EXPECT_THAT(v.reason, Not(HasSubstr("\n")));
    return v;
  }

  const absl::Time kNow = absl::FromUnixSeconds(1700000000);
  const absl::Duration kStaleness = absl::Minutes(10);
  OwnerRecord owner_;
  FakeProbe probe_;
};

// Row 2a.
TEST_F(LivenessTest, SamePidSameStartTimeIsLive) {
  ProcessRuns(kPid, kStart);
  LivenessVerdict v = Decide(Fresh());
  EXPECT_EQ(v.state, RunState::kLive);
  EXPECT_THAT(v.reason, HasSubstr("pid 4242"));
  EXPECT_THAT(probe_.probed, ::testing::ElementsAre(kPid));
}

TEST_F(LivenessTest, LiveWriterIsKeptHoweverLongItIsQuiet) {
  ProcessRuns(kPid, kStart);
  EXPECT_EQ(Decide(Stale()).state, RunState::kLive);
  EXPECT_EQ(Decide(absl::InfinitePast()).state, RunState::kLive);
}

TEST_F(LivenessTest, SamePidOtherStartTimeIsReused) {
  ProcessRuns(kPid, kStart + 1);
  LivenessVerdict v = Decide(Fresh());
  EXPECT_EQ(v.state, RunState::kAbandoned);
  EXPECT_THAT(v.reason, HasSubstr("pid 4242 on trainer-1 was reused"));
}

TEST_F(LivenessTest, DeadPidIsAbandonedEvenWithFreshWrites) {
  ProcessRuns(kPid + 1, kStart);
  LivenessVerdict v = Decide(Fresh());
  EXPECT_EQ(v.state, RunState::kAbandoned);
  EXPECT_THAT(v.reason, AllOf(HasSubstr("pid 4242 on trainer-1 is gone"),
                              HasSubstr("last write 12s ago")));
}

TEST_F(LivenessTest, UnknownStartTimeOfExistingPidIsKept) {
  ProcessRuns(kPid, 0);  // exists, start time unreadable
  EXPECT_EQ(Decide(Stale()).state, RunState::kUnknown);
  ProcessRuns(kPid, kStart + 5);
  owner_.start_time = 0;  // OWNER written without a start time
  LivenessVerdict v = Decide(Stale());
  EXPECT_EQ(v.state, RunState::kUnknown);
  EXPECT_THAT(v.reason, HasSubstr("cannot be compared"));
}

TEST_F(LivenessTest, EmptyMachineIdOnBothSidesStillCountsAsSameMachine) {
  owner_.host.machine_id = "";
  probe_.local.machine_id = "";
  ProcessRuns(kPid, kStart);
  EXPECT_EQ(Decide(Fresh()).state, RunState::kLive);
  probe_.processes.clear();
  EXPECT_EQ(Decide(Fresh()).state, RunState::kAbandoned);
}

// Row 2b.
TEST_F(LivenessTest, OtherPidNamespaceFollowsStaleness) {
  owner_.host.pid_namespace = 4026532000;
  ProcessRuns(kPid, kStart);  // a same-numbered pid here proves nothing
  LivenessVerdict fresh = Decide(Fresh());
  EXPECT_EQ(fresh.state, RunState::kUnknown);
  EXPECT_THAT(fresh.reason, AllOf(HasSubstr("another pid namespace"),
                                  HasSubstr("last write 12s ago")));
  EXPECT_EQ(Decide(Stale()).state, RunState::kAbandoned);
  EXPECT_THAT(probe_.probed, IsEmpty());
}

TEST_F(LivenessTest, UnreadablePidNamespaceFollowsStaleness) {
  owner_.host.pid_namespace = 0;
  probe_.local.pid_namespace = 0;
  EXPECT_EQ(Decide(Fresh()).state, RunState::kUnknown);
  EXPECT_EQ(Decide(Stale()).state, RunState::kAbandoned);
  EXPECT_THAT(probe_.probed, IsEmpty());
}

// Row 3.
TEST_F(LivenessTest, OtherBootOfSameMachineIsAbandoned) {
  probe_.local.boot_id = "0f0f0f0f-0000-4000-8000-000000000000";
  ProcessRuns(kPid, kStart);  // a pid of this boot proves nothing
  LivenessVerdict v = Decide(Fresh());
  EXPECT_EQ(v.state, RunState::kAbandoned);
  EXPECT_THAT(v.reason, HasSubstr("machine rebooted since the run started"));
  EXPECT_THAT(probe_.probed, IsEmpty());
}

TEST_F(LivenessTest, OtherBootWithoutMachineIdFollowsStaleness) {
  owner_.host.machine_id = "";
  probe_.local.machine_id = "";
  probe_.local.boot_id = "0f0f0f0f-0000-4000-8000-000000000000";
  EXPECT_EQ(Decide(Fresh()).state, RunState::kUnknown);
  EXPECT_EQ(Decide(Stale()).state, RunState::kAbandoned);
}

TEST_F(LivenessTest, UnreadableBootIdFollowsStaleness) {
  owner_.host.boot_id = "";
  ProcessRuns(kPid, kStart);
  EXPECT_EQ(Decide(Fresh()).state, RunState::kUnknown);
  EXPECT_EQ(Decide(Stale()).state, RunState::kAbandoned);
  owner_.host.boot_id = SampleOwner().host.boot_id;
  probe_.local.boot_id = "";
  EXPECT_EQ(Decide(Fresh()).state, RunState::kUnknown);
  EXPECT_THAT(probe_.probed, IsEmpty());
}

// Row 4.
TEST_F(LivenessTest, OtherHostWithFreshWritesIsUnknown) {
  OwnerOnHost("trainer-2");
  ProcessRuns(kPid, kStart);
  LivenessVerdict v = Decide(Fresh());
  EXPECT_EQ(v.state, RunState::kUnknown);
  EXPECT_THAT(v.reason, AllOf(HasSubstr("owner pid 4242 on host trainer-2"),
                              HasSubstr("last write 12s ago")));
  EXPECT_THAT(probe_.probed, IsEmpty());
}

TEST_F(LivenessTest, OtherHostWithStaleWritesIsAbandoned) {
  OwnerOnHost("trainer-2");
  LivenessVerdict v = Decide(Stale());
  EXPECT_EQ(v.state, RunState::kAbandoned);
  EXPECT_THAT(v.reason, AllOf(HasSubstr("host trainer-2"),
                              HasSubstr("last write 10m1s ago")));
}

TEST_F(LivenessTest, OtherMachineIdWithSameHostnameFollowsStaleness) {
  probe_.local.machine_id = "ffffffffffffffffffffffffffffffff";
  ProcessRuns(kPid, kStart);
  EXPECT_EQ(Decide(Fresh()).state, RunState::kUnknown);
  EXPECT_EQ(Decide(Stale()).state, RunState::kAbandoned);
  EXPECT_THAT(probe_.probed, IsEmpty());
}

TEST_F(LivenessTest, EmptyHostnamesNeverMatch) {
  OwnerOnHost("");
  probe_.local.hostname = "";
  ProcessRuns(kPid, kStart);
  LivenessVerdict v = Decide(Fresh());
  EXPECT_EQ(v.state, RunState::kUnknown);
  EXPECT_THAT(v.reason, HasSubstr("<unknown>"));
  EXPECT_THAT(probe_.probed, IsEmpty());
}

TEST_F(LivenessTest, StalenessBoundaryIsInclusive) {
  OwnerOnHost("trainer-2");
  EXPECT_EQ(Decide(kNow - kStaleness).state, RunState::kAbandoned);
  EXPECT_EQ(Decide(kNow - kStaleness + absl::Microseconds(1)).state,
            RunState::kUnknown);
}

TEST_F(LivenessTest, WriteFromTheFutureIsFresh) {
  OwnerOnHost("trainer-2");
  LivenessVerdict v = Decide(kNow + absl::Hours(1));
  EXPECT_EQ(v.state, RunState::kUnknown);
  EXPECT_THAT(v.reason, HasSubstr("clock skew"));
}

TEST_F(LivenessTest, InfiniteStalenessNeverAbandonsByTime) {
  OwnerOnHost("trainer-2");
  LivenessVerdict v =
      DecideLiveness(owner_, probe_.local, probe_, absl::InfinitePast(), kNow,
                     absl::InfiniteDuration());
  EXPECT_EQ(v.state, RunState::kUnknown);
}

TEST_F(LivenessTest, NoWriteRecordedIsStale) {
  OwnerOnHost("trainer-2");
  LivenessVerdict v = Decide(absl::InfinitePast());
  EXPECT_EQ(v.state, RunState::kAbandoned);
  EXPECT_THAT(v.reason, HasSubstr("no write recorded"));
}

// Row 1: OWNER missing or garbled, with fresh and stale writes.
struct BadOwner {
  const char* name;
  std::string text;  // empty: the file is missing
};

class BadOwnerTest : public LivenessTest,
                     public ::testing::WithParamInterface<BadOwner> {
 protected:
  absl::StatusOr<OwnerRecord> Owner() {
    if (GetParam().text.empty()) {
      return absl::NotFoundError("open runs/abc/OWNER: No such file");
    }
    return DecodeOwner(GetParam().text, kPath);
  }
};

TEST_P(BadOwnerTest, FreshWritesAreUnknown) {
  ProcessRuns(kPid, kStart);
  absl::StatusOr<OwnerRecord> owner = Owner();
  ASSERT_FALSE(owner.ok());
  LivenessVerdict v = DecideWith(owner, Fresh());
  EXPECT_EQ(v.state, RunState::kUnknown);
  EXPECT_THAT(v.reason, AllOf(HasSubstr("OWNER unusable"), HasSubstr(kPath),
                              HasSubstr("last write 12s ago")));
  EXPECT_THAT(probe_.probed, IsEmpty());
}

TEST_P(BadOwnerTest, StaleWritesAreAbandoned) {
  LivenessVerdict v = DecideWith(Owner(), Stale());
  EXPECT_EQ(v.state, RunState::kAbandoned);
  EXPECT_THAT(v.reason, HasSubstr("OWNER unusable"));
}

INSTANTIATE_TEST_SUITE_P(
    Variants, BadOwnerTest,
    ::testing::Values(
        BadOwner{"Missing", ""}, BadOwner{"MissingKey", WithLine("pid", "")},
        BadOwner{"BadNumber", WithLine("start_time", "start_time=12x\n")},
        BadOwner{"WrongHeader",
                 absl::StrReplaceAll(EncodeOwner(SampleOwner()),
                                     {{"runlog-owner 1", "runlog-owner 9"}})},
        BadOwner{"Garbage", "\x01\x02\x03 not an owner file\n"}),
    [](const ::testing::TestParamInfo<BadOwner>& info) {
      return std::string(info.param.name);
    });

TEST(RunStateTest, Names) {
  EXPECT_EQ(RunStateName(RunState::kCommitted), "committed");
  EXPECT_EQ(RunStateName(RunState::kLive), "live");
  EXPECT_EQ(RunStateName(RunState::kAbandoned), "abandoned");
  EXPECT_EQ(RunStateName(RunState::kUnknown), "unknown");
}

TEST(CurrentOwnerTest, TakesEverythingFromTheProbe) {
  FakeProbe probe;
  probe.local = SampleOwner().host;
  probe.self_pid = 31;
  probe.processes[31] = 999;
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  OwnerRecord o = CurrentOwner(probe, now);
  EXPECT_EQ(o.host.boot_id, SampleOwner().host.boot_id);
  EXPECT_EQ(o.pid, 31);
  EXPECT_EQ(o.start_time, 999u);
  EXPECT_EQ(o.created, now);
}

// ---- The real /proc probe
// ----------------------------------------------------

TEST(SystemProbeTest, DefaultIsASingleton) {
  ASSERT_NE(SystemProbe::Default(), nullptr);
  EXPECT_EQ(SystemProbe::Default(), SystemProbe::Default());
}

TEST(SystemProbeTest, LocalIdentityHasHostnameBootIdAndNamespace) {
  HostIdentity id = SystemProbe::Default()->LocalIdentity();
  EXPECT_THAT(id.hostname, Not(IsEmpty()));
  EXPECT_EQ(id.boot_id.size(), 36u) << id.boot_id;  // a trimmed UUID
  EXPECT_NE(id.pid_namespace, 0u);
  EXPECT_THAT(id.machine_id, Not(HasSubstr("\n")));
}

TEST(SystemProbeTest, OwnStartTimeIsFoundAndStable) {
  SystemProbe* probe = SystemProbe::Default();
  EXPECT_EQ(probe->SelfPid(), ::getpid());
  std::optional<uint64_t> a = probe->ProcessStartTime(::getpid());
  std::optional<uint64_t> b = probe->ProcessStartTime(::getpid());
  ASSERT_TRUE(a.has_value());
  EXPECT_NE(*a, 0u);
  EXPECT_EQ(a, b);
}

// The facts read once per process are read again in a forked child: its
// OWNER must name the child, not the parent it was copied from.
TEST(SystemProbeTest, ForkedChildReportsItsOwnPidAndStartTime) {
  SystemProbe* probe = SystemProbe::Default();
  const OwnerRecord parent = CurrentOwner(*probe, absl::Now());
  ASSERT_EQ(parent.pid, ::getpid());
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const OwnerRecord o = CurrentOwner(*SystemProbe::Default(), absl::Now());
    // The start time read here, not through the probe: field 22 of
    // /proc/self/stat, after the command name's closing parenthesis.
    std::string stat;
    {
      char b[1024] = {};
      const int fd = ::open("/proc/self/stat", O_RDONLY);
      const ssize_t got = fd < 0 ? -1 : ::read(fd, b, sizeof(b) - 1);
      if (fd >= 0) ::close(fd);
      if (got > 0) stat.assign(b, static_cast<size_t>(got));
    }
    const size_t paren = stat.rfind(')');
    const std::vector<std::string> fields =
        paren == std::string::npos
            ? std::vector<std::string>()
            : absl::StrSplit(stat.substr(paren + 2), ' ');
    // Fields from the state (field 3) on: the start time is the 20th.
    const bool ok = o.pid == ::getpid() && fields.size() > 19 &&
                    fields[19] == absl::StrCat(o.start_time);
    const std::string line = absl::StrCat(o.pid, " ", o.start_time, " ", ok);
    (void)!::write(fds[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[128] = {};
  const ssize_t n = ::read(fds[0], buf, sizeof(buf) - 1);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_GT(n, 0);
  const std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(buf, static_cast<size_t>(n)), ' ');
  ASSERT_EQ(parts.size(), 3u) << buf;
  EXPECT_EQ(parts[0], absl::StrCat(child));
  EXPECT_EQ(parts[2], "1") << buf;
  // The parent's own facts are unchanged by the child's.
  const OwnerRecord again = CurrentOwner(*probe, absl::Now());
  EXPECT_EQ(again.pid, parent.pid);
  EXPECT_EQ(again.start_time, parent.start_time);
  EXPECT_EQ(again.host.boot_id, parent.host.boot_id);
  EXPECT_EQ(again.host.pid_namespace, parent.host.pid_namespace);
}

TEST(SystemProbeTest, NonPositivePidsAreNeverProbed) {
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(0), std::nullopt);
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(-1), std::nullopt);
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(int64_t{1} << 40),
            std::nullopt);
}

TEST(SystemProbeTest, ReapedChildHasNoStartTime) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(child), std::nullopt);
}

TEST(SystemProbeTest, ExitedButUnreapedChildCountsAsGone) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  // Wait for the exit without reaping: the child stays a zombie.
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT),
            0);
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(child), std::nullopt);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
}

// A running child whose name contains spaces and parentheses: the start time
// the parent reads must equal the one the child read before renaming itself.
TEST(SystemProbeTest, RunningChildWithParensInItsNameIsFound) {
  int to_parent[2], to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    const uint64_t own =
        SystemProbe::Default()->ProcessStartTime(::getpid()).value_or(0);
    ::prctl(PR_SET_NAME, "a) b (c) 1 2", 0, 0, 0);
    if (::write(to_parent[1], &own, sizeof(own)) != sizeof(own)) ::_exit(1);
    char c;
    while (::read(to_child[0], &c, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  uint64_t child_says = 0;
  ASSERT_EQ(::read(to_parent[0], &child_says, sizeof(child_says)),
            static_cast<ssize_t>(sizeof(child_says)));
  ASSERT_NE(child_says, 0u);
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(child), child_says);

  ::close(to_child[1]);  // lets the child exit
  ::close(to_parent[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(SystemProbe::Default()->ProcessStartTime(child), std::nullopt);
}

TEST(SystemProbeTest, ThisProcessIsLiveAndAReapedChildIsAbandoned) {
  SystemProbe* probe = SystemProbe::Default();
  const absl::Time now = absl::Now();
  OwnerRecord me = CurrentOwner(*probe, now);
  LivenessVerdict v = DecideLiveness(me, probe->LocalIdentity(), *probe, now,
                                     now, absl::Hours(1));
  EXPECT_EQ(v.state, RunState::kLive) << v.reason;

  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  OwnerRecord dead = me;
  dead.pid = child;
  v = DecideLiveness(dead, probe->LocalIdentity(), *probe, now, now,
                     absl::Hours(1));
  EXPECT_EQ(v.state, RunState::kAbandoned) << v.reason;
  EXPECT_THAT(v.reason, HasSubstr(absl::StrCat("pid ", child, " ")));
}

}  // namespace
}  // namespace runlog::storage
