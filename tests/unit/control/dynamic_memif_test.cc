// Unit tests for control/dynamic_memif: port names from client interface names, and the
// bridge setting in the configuration model.
#include "control/dynamic_memif.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "control/config_model.h"

namespace vsw::control {
namespace {

TEST(DynamicMemif, PortNameKeepsValidCharactersOnly) {
  EXPECT_EQ(dynamic_port_name("app1", 3), "app1");
  EXPECT_EQ(dynamic_port_name("my app/../x", 3), "myapp..x");
  EXPECT_EQ(dynamic_port_name("a-very-long-interface-name", 3), "a-very-long-int");
  EXPECT_EQ(dynamic_port_name("", 42), "memif42");
  EXPECT_EQ(dynamic_port_name("\x01\x02", 7), "memif7");
}

TEST(DynamicMemif, BridgeSettingRoundTripsAndIsValidated) {
  auto cfg = config_from_json(nlohmann::json::parse(
      R"({"bridges":[{"name":"br0","memif_dynamic":"/run/vsw/memif.sock"}]})"));
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message;
  EXPECT_EQ(cfg->bridges[0].settings.memif_dynamic, "/run/vsw/memif.sock");
  EXPECT_EQ(config_to_json(*cfg)["bridges"][0]["memif_dynamic"], "/run/vsw/memif.sock");
  // Absent when off, so configurations without it look as before.
  auto off = config_from_json(nlohmann::json::parse(R"({"bridges":[{"name":"br0"}]})"));
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(config_to_json(*off)["bridges"][0].contains("memif_dynamic"));
  EXPECT_FALSE(config_from_json(nlohmann::json::parse(
                   R"({"bridges":[{"name":"br0","memif_dynamic":"relative.sock"}]})"))
                   .has_value());
  EXPECT_FALSE(config_from_json(nlohmann::json::parse(
                   R"({"bridges":[{"name":"br0","memif_dynamic":5}]})"))
                   .has_value());
  BridgeSettings long_path;
  long_path.memif_dynamic = "/" + std::string(120, 'x');
  EXPECT_FALSE(validate_settings(long_path).has_value());
}

}  // namespace
}  // namespace vsw::control
