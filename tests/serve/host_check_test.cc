#include "tools/serve/host_check.h"

#include "gtest/gtest.h"

namespace runlog::serve {
namespace {

TEST(HostCheckTest, LoopbackBindAcceptsItsLoopbackNamesOnItsPort) {
  EXPECT_TRUE(HostAllowed("127.0.0.1:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("localhost:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("LOCALHOST:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("[::1]:8080", "127.0.0.1", 8080));
  EXPECT_TRUE(HostAllowed("localhost", "127.0.0.1", 80));
}

TEST(HostCheckTest, RebindingNamesAndOtherPortsAreRefused) {
  EXPECT_FALSE(HostAllowed("evil.example:8080", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("localhost.evil.example:8080", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("127.0.0.1:8081", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("127.0.0.1", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed(":8080", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("127.0.0.1:80x", "127.0.0.1", 80));
  EXPECT_FALSE(HostAllowed("[evil]:8080", "127.0.0.1", 8080));
  EXPECT_FALSE(HostAllowed("::1:8080", "127.0.0.1", 8080));
}

TEST(HostCheckTest, WildcardBindAcceptsAddressesNeverNames) {
  EXPECT_TRUE(HostAllowed("192.0.2.7:9000", "0.0.0.0", 9000));
  EXPECT_TRUE(HostAllowed("[2001:db8::1]:9000", "::", 9000));
  EXPECT_TRUE(HostAllowed("localhost:9000", "0.0.0.0", 9000));
  EXPECT_FALSE(HostAllowed("evil.example:9000", "0.0.0.0", 9000));
}

TEST(HostCheckTest, NamedBindAcceptsItsName) {
  EXPECT_TRUE(HostAllowed("box.lan:9000", "box.lan", 9000));
  EXPECT_TRUE(HostAllowed("BOX.lan:9000", "box.lan", 9000));
  EXPECT_FALSE(HostAllowed("localhost:9000", "box.lan", 9000));
  EXPECT_FALSE(HostAllowed("other.lan:9000", "box.lan", 9000));
}

TEST(HostCheckTest, LoopbackNames) {
  EXPECT_TRUE(IsLoopbackName("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackName("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackName("::1"));
  EXPECT_TRUE(IsLoopbackName("[::1]"));
  EXPECT_TRUE(IsLoopbackName("localhost"));
  EXPECT_FALSE(IsLoopbackName("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackName("192.168.1.1"));
  EXPECT_FALSE(IsLoopbackName("127.evil.example"));
}

}  // namespace
}  // namespace runlog::serve
