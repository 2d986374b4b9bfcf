// tests/unit/virtio/virtio_options_test.cc — `--type virtio` options: what is refused before the
// PCI layer is asked for anything (ports/virtio/virtio_create.cc).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "ports/virtio/virtio_port.h"
#include "tests/unit/virtio/test_rig.h"

namespace vsw::ports::virtio::testing {
namespace {

std::string refusal(std::map<std::string, std::string> options) {
  auto pool = make_pool(64);
  boost::asio::io_context io;
  PortEnv env{*pool, io, "/tmp", 2, nullptr};
  PortSpec spec{"eth1", "virtio", std::move(options)};
  auto port = create(spec, 3, env);
  EXPECT_FALSE(port.has_value());
  return port ? "" : port.error().message;
}

TEST(VirtioOptions, PciAddressIsRequiredAndChecked) {
  EXPECT_NE(refusal({}).find("-o pci=DDDD:BB:DD.F"), std::string::npos);
  const std::string bad = refusal({{"pci", "00:04.0"}});
  EXPECT_NE(bad.find("00:04.0"), std::string::npos) << bad;
}

TEST(VirtioOptions, UnknownKeysAndBadValuesAreNamed) {
  EXPECT_NE(refusal({{"pci", "0000:00:04.0"}, {"ifname", "x"}}).find("ifname"),
            std::string::npos);
  EXPECT_NE(refusal({{"pci", "0000:00:04.0"}, {"driver", "igb_uio"}}).find("vfio or uio"),
            std::string::npos);
  EXPECT_NE(refusal({{"pci", "0000:00:04.0"}, {"interface", "new"}}).find("legacy or modern"),
            std::string::npos);
  EXPECT_NE(refusal({{"pci", "0000:00:04.0"}, {"queues", "0"}}).find("queues"),
            std::string::npos);
  EXPECT_NE(refusal({{"pci", "0000:00:04.0"}, {"queues", "65"}}).find("queues"),
            std::string::npos);
  EXPECT_NE(refusal({{"pci", "0000:00:04.0"}, {"offloads", "maybe"}}).find("on or off"),
            std::string::npos);
}

}  // namespace
}  // namespace vsw::ports::virtio::testing
