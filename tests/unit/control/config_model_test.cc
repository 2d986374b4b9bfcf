// tests/unit/control/config_model_test.cc — strict topology parsing and validation.
#include "control/config_model.h"

#include <gtest/gtest.h>

#include <string>

namespace vsw::control {
namespace {

using nlohmann::json;

Result<ConfigModel> parse(std::string_view text) { return config_from_json(json::parse(text)); }

std::string error_of(std::string_view text) {
  auto r = parse(text);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? std::string() : r.error().message;
}

TEST(ConfigModel, ParsesTheDocumentedExample) {
  auto cfg = parse(R"({"bridges":[{"name":"br0","aging_s":300,"max_macs":8192,"ports":[
      {"name":"tap0","type":"tap","options":{"ifname":"vsw-tap0"}},
      {"name":"veth0","type":"afpacket","options":{"ifname":"veth0"}}]}]})");
  ASSERT_TRUE(cfg) << cfg.error().message;
  ASSERT_EQ(cfg->bridges.size(), 1u);
  EXPECT_EQ(cfg->bridges[0].ports[1].options.at("ifname"), "veth0");
  EXPECT_EQ(cfg->port_count(), 2u);
}

TEST(ConfigModel, DefaultsWhenOmitted) {
  auto cfg = parse(R"({"bridges":[{"name":"br0","ports":[{"name":"p","type":"loopback"}]}]})");
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->bridges[0].settings.aging_s, kDefaultAgingS);
  EXPECT_EQ(cfg->bridges[0].settings.max_macs, kDefaultMaxMacs);
  EXPECT_TRUE(cfg->bridges[0].ports[0].options.empty());
  EXPECT_TRUE(parse("{}"));
  EXPECT_TRUE(parse(R"({"bridges":[]})"));
}

TEST(ConfigModel, RoundTripsThroughJson) {
  auto cfg = parse(R"({"bridges":[{"name":"br0","aging_s":60,"max_macs":1024,"ports":[
      {"name":"m0","type":"memif","options":{"id":"0","socket":"/run/vsw/m.sock"}}]},
      {"name":"br1"}]})");
  ASSERT_TRUE(cfg);
  auto again = config_from_json(config_to_json(*cfg));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *cfg);
}

TEST(ConfigModel, RejectsUnknownFieldsWithAPath) {
  EXPECT_NE(error_of(R"({"bridge":[]})").find("unknown field 'bridge'"), std::string::npos);
  EXPECT_NE(error_of(R"({"bridges":[{"name":"br0","agin_s":3}]})").find("bridges[0]"),
            std::string::npos);
  std::string e = error_of(R"({"bridges":[{"name":"br0","ports":[{"name":"a","type":"tap"},
      {"name":"b","type":"tap","opts":{}}]}]})");
  EXPECT_NE(e.find("bridges[0]: ports[1]: unknown field 'opts'"), std::string::npos) << e;
}

TEST(ConfigModel, RejectsWrongTypes) {
  error_of("[]");
  error_of(R"({"bridges":{}})");
  error_of(R"({"bridges":[{"name":3}]})");
  error_of(R"({"bridges":[{"name":"br0","aging_s":"300"}]})");
  error_of(R"({"bridges":[{"name":"br0","aging_s":-1}]})");
  error_of(R"({"bridges":[{"name":"br0","aging_s":30.5}]})");
  error_of(R"({"bridges":[{"name":"br0","ports":{}}]})");
  error_of(R"({"bridges":[{"name":"br0","ports":[{"name":"p"}]}]})");
  std::string e = error_of(
      R"({"bridges":[{"name":"br0","ports":[{"name":"p","type":"tap","options":{"mtu":9000}}]}]})");
  EXPECT_NE(e.find("option 'mtu' must be a string"), std::string::npos) << e;
}

TEST(ConfigModel, ValidatesNames) {
  EXPECT_TRUE(validate_name("bridge", "br-0_a.b"));
  EXPECT_TRUE(validate_name("bridge", std::string(15, 'a')));
  EXPECT_FALSE(validate_name("bridge", std::string(16, 'a')));
  EXPECT_FALSE(validate_name("bridge", ""));
  EXPECT_FALSE(validate_name("bridge", "a b"));
  EXPECT_FALSE(validate_name("bridge", "a/b"));
  EXPECT_FALSE(validate_name("bridge", "\xc3\xa9"));
  error_of(R"({"bridges":[{"name":"bad name"}]})");
  error_of(
      R"({"bridges":[{"name":"br0","ports":[{"name":"this-name-is-too-long","type":"tap"}]}]})");
}

TEST(ConfigModel, NamesAreUniqueAcrossTheDaemon) {
  EXPECT_NE(error_of(R"({"bridges":[{"name":"br0"},{"name":"br0"}]})").find("'br0'"),
            std::string::npos);
  error_of(R"({"bridges":[{"name":"br0","ports":[{"name":"p","type":"tap"}]},
                          {"name":"br1","ports":[{"name":"p","type":"tap"}]}]})");
  error_of(R"({"bridges":[{"name":"br0","ports":[{"name":"br0","type":"tap"}]}]})");
}

TEST(ConfigModel, ValidatesRanges) {
  error_of(R"({"bridges":[{"name":"br0","aging_s":9}]})");
  error_of(R"({"bridges":[{"name":"br0","aging_s":1000001}]})");
  error_of(R"({"bridges":[{"name":"br0","max_macs":15}]})");
  error_of(R"({"bridges":[{"name":"br0","max_macs":1048577}]})");
  error_of(R"({"bridges":[{"name":"br0","max_macs":18446744073709551615}]})");
  EXPECT_TRUE(parse(R"({"bridges":[{"name":"br0","aging_s":10,"max_macs":1048576}]})"));
}

TEST(ConfigModel, Lookups) {
  auto cfg = parse(R"({"bridges":[{"name":"a","ports":[{"name":"p1","type":"t"}]},
                                  {"name":"b","ports":[{"name":"p2","type":"t"}]}]})");
  ASSERT_TRUE(cfg);
  const BridgeModel* br = nullptr;
  ASSERT_NE(cfg->find_port("p2", &br), nullptr);
  EXPECT_EQ(br->name, "b");
  EXPECT_EQ(cfg->find_port("p3"), nullptr);
  EXPECT_NE(cfg->find_bridge("a"), nullptr);
  EXPECT_EQ(cfg->find_bridge("p1"), nullptr);
}

}  // namespace
}  // namespace vsw::control
