// A SystemProbe whose identity and process table tests set by hand.
#ifndef RUNLOG_TESTS_TESTING_FAKE_SYSTEM_PROBE_H_
#define RUNLOG_TESTS_TESTING_FAKE_SYSTEM_PROBE_H_

#include <cstdint>
#include <map>
#include <optional>

#include "storage/owner_liveness.h"

namespace runlog::testing {

class FakeSystemProbe : public storage::SystemProbe {
 public:
  FakeSystemProbe() {
    identity_.hostname = "host-a";
    identity_.machine_id = "machine-a";
    identity_.boot_id = "boot-1";
    identity_.pid_namespace = 4026531836;
    processes_[self_pid_] = 1000;
  }

  storage::HostIdentity LocalIdentity() override { return identity_; }
  int64_t SelfPid() override { return self_pid_; }
  std::optional<uint64_t> ProcessStartTime(int64_t pid) override {
    auto it = processes_.find(pid);
    if (it == processes_.end()) return std::nullopt;
    return it->second;
  }

  storage::HostIdentity& identity() { return identity_; }
  void SetProcess(int64_t pid, uint64_t start_time) {
    processes_[pid] = start_time;
  }
  void KillProcess(int64_t pid) { processes_.erase(pid); }
  // Models a reboot: new boot id, empty process table.
  void Reboot() {
    identity_.boot_id += "-next";
    processes_.clear();
  }
  int64_t self_pid() const { return self_pid_; }
  // Which pid this process claims to be (its entry in the table is the
  // test's to set).
  void set_self_pid(int64_t pid) { self_pid_ = pid; }

 private:
  storage::HostIdentity identity_;
  int64_t self_pid_ = 4242;
  std::map<int64_t, uint64_t> processes_;
};

}  // namespace runlog::testing

#endif  // RUNLOG_TESTS_TESTING_FAKE_SYSTEM_PROBE_H_
