// tests/unit/intel/intel_options_test.cc — `--type ixgbe` / `--type igb` options: what is
// refused before the PCI layer is asked for anything (ports/intel/intel_create.cc), and the
// factory entries.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "ports/intel/intel_port.h"
#include "tests/unit/intel/intel_test_rig.h"

namespace vsw::ports::intel::testing {
namespace {

std::string refusal(const std::string& type, std::map<std::string, std::string> options) {
  auto pool = make_pool(64);
  boost::asio::io_context io;
  PortEnv env{*pool, io, "/tmp", 2, nullptr};
  PortSpec spec{"nic0", type, std::move(options)};
  auto port = type == "ixgbe" ? create_ixgbe(spec, 3, env) : create_igb(spec, 3, env);
  EXPECT_FALSE(port.has_value());
  return port ? "" : port.error().message;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(IntelOptions, PciAddressIsRequiredAndChecked) {
  for (const char* type : {"ixgbe", "igb"}) {
    SCOPED_TRACE(type);
    EXPECT_TRUE(has(refusal(type, {}), "-o pci=DDDD:BB:DD.F"));
    const std::string bad = refusal(type, {{"pci", "03:00.0"}});
    EXPECT_TRUE(has(bad, "03:00.0")) << bad;
  }
}

TEST(IntelOptions, BadRxQueuesDriverAndUnknownKeysAreNamed) {
  const std::string pci = "0000:03:00.0";
  EXPECT_TRUE(has(refusal("ixgbe", {{"pci", pci}, {"driver", "igb_uio"}}), "vfio or uio"));
  EXPECT_TRUE(has(refusal("igb", {{"pci", pci}, {"driver", "kernel"}}), "vfio or uio"));
  EXPECT_TRUE(has(refusal("ixgbe", {{"pci", pci}, {"rx-queues", "0"}}), "rx-queues"));
  EXPECT_TRUE(has(refusal("ixgbe", {{"pci", pci}, {"rx-queues", "17"}}), "rx-queues"));
  EXPECT_TRUE(has(refusal("igb", {{"pci", pci}, {"rx-queues", "9"}}), "rx-queues"));
  EXPECT_TRUE(has(refusal("igb", {{"pci", pci}, {"rx-queues", "two"}}), "rx-queues"));
  EXPECT_TRUE(has(refusal("ixgbe", {{"pci", pci}, {"queues", "2"}}), "queues"));
  EXPECT_TRUE(has(refusal("igb", {{"pci", pci}, {"mtu", "9601"}}), "mtu"));
}

}  // namespace
}  // namespace vsw::ports::intel::testing
