// tests/unit/ports/kernel_port_options_test.cc — option validation and error paths of the tap and
// afpacket factory entries. Every case fails before touching /dev/net/tun or opening a packet
// socket, so no root is needed and no interface is created.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "dataplane/mempool.h"
#include "ports/afpacket/afpacket_port.h"
#include "ports/tap/netdev.h"
#include "ports/tap/tap_port.h"

namespace vsw::ports {
namespace {

class KernelPortOptions : public ::testing::Test {
 protected:
  KernelPortOptions() {
    auto p = Mempool::create("opts", {.buffers = 256, .buffer_bytes = 2048, .hugepages = false});
    EXPECT_TRUE(p.has_value());
    pool_ = std::move(*p);
  }
  PortEnv env() { return PortEnv{*pool_, io_, "/tmp", 1}; }
  Result<std::unique_ptr<Port>> tap(std::map<std::string, std::string> opts) {
    PortEnv e = env();
    return tap::create({"t0", "tap", std::move(opts)}, 1, e);
  }
  Result<std::unique_ptr<Port>> afp(std::map<std::string, std::string> opts) {
    PortEnv e = env();
    return afpacket::create({"a0", "afpacket", std::move(opts)}, 2, e);
  }

  boost::asio::io_context io_;
  std::unique_ptr<Mempool> pool_;
};

TEST_F(KernelPortOptions, TapRejectsUnknownKeys) {
  auto r = tap({{"colour", "blue"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("colour"), std::string::npos);
  EXPECT_NE(r.error().message.find("ifname"), std::string::npos);  // lists the valid keys
}

TEST_F(KernelPortOptions, TapRejectsBadInterfaceNames) {
  for (const char* name : {"", "sixteen-chars-xx", "a/b", "a b", "tap%d", ".", ".."}) {
    auto r = tap({{"ifname", name}});
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument) << name;
  }
}

TEST_F(KernelPortOptions, TapRejectsMtuThatDoesNotFitABuffer) {
  auto r = tap({{"ifname", "vswk-x"}, {"mtu", "9000"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("1902"), std::string::npos);  // 1920 - 14 - 4
  auto low = tap({{"ifname", "vswk-x"}, {"mtu", "20"}});
  ASSERT_FALSE(low);
  auto junk = tap({{"ifname", "vswk-x"}, {"mtu", "15OO"}});
  ASSERT_FALSE(junk);
}

TEST_F(KernelPortOptions, TapRejectsBadBoolean) {
  auto r = tap({{"ifname", "vswk-x"}, {"up", "maybe"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
}

TEST_F(KernelPortOptions, TapRefusesAnExistingInterfaceName) {
  auto r = tap({{"ifname", "lo"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::AlreadyExists);
  EXPECT_NE(r.error().message.find("'lo'"), std::string::npos);
}

TEST_F(KernelPortOptions, AfpacketNeedsIfname) {
  auto r = afp({});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("ifname"), std::string::npos);
}

TEST_F(KernelPortOptions, AfpacketMissingInterfaceIsNotFound) {
  auto r = afp({{"ifname", "vswk-nope0"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
  EXPECT_NE(r.error().message.find("vswk-nope0"), std::string::npos);
}

TEST_F(KernelPortOptions, AfpacketRefusesNonEthernetInterfaces) {
  auto r = afp({{"ifname", "lo"}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("not an Ethernet"), std::string::npos);
}

TEST_F(KernelPortOptions, AfpacketValidatesRingAndMtuOptions) {
  for (auto opts : std::vector<std::map<std::string, std::string>>{
           {{"ifname", "lo"}, {"rx-frames", "0"}},
           {{"ifname", "lo"}, {"tx-frames", "1000000"}},
           {{"ifname", "lo"}, {"mtu", "9000"}},
           {{"ifname", "lo"}, {"bogus", "1"}}}) {
    auto r = afp(opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::InvalidArgument) << r.error().message;
  }
}

TEST(Netdev, LinkStateOfMissingInterfaceIsDown) {
  EXPECT_EQ(netdev::link_state("vswk-nope1"), LinkState::Down);
  EXPECT_FALSE(netdev::exists("vswk-nope1"));
  auto idx = netdev::ifindex("lo");
  ASSERT_TRUE(idx);
  EXPECT_GT(*idx, 0);
}

}  // namespace
}  // namespace vsw::ports
