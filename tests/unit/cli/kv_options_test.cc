// tests/unit/cli/kv_options_test.cc — `-o key=value` parsing for vswctl add-port.
#include "cli/kv_options.h"

#include <gtest/gtest.h>

namespace vsw::cli {
namespace {

using json = nlohmann::json;

TEST(KeyValues, PairsBecomeAStringObject) {
  Result<json> r = parse_key_values({"ifname=vsw-tap0", "role=server"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, json({{"ifname", "vsw-tap0"}, {"role", "server"}}));
}

TEST(KeyValues, ValueMayBeEmptyOrHoldEqualsSigns) {
  Result<json> r = parse_key_values({"secret=", "filter=a=b"});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, json({{"secret", ""}, {"filter", "a=b"}}));
}

TEST(KeyValues, NoItemsIsAnEmptyObject) {
  Result<json> r = parse_key_values({});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, json::object());
}

TEST(KeyValues, MissingEqualsIsUsageError) {
  Result<json> r = parse_key_values({"ifname"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_EQ(r.error().message, "bad option 'ifname': expected key=value");
}

TEST(KeyValues, EmptyKeyIsUsageError) {
  Result<json> r = parse_key_values({"=x"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
}

TEST(KeyValues, RepeatedKeyIsUsageError) {
  Result<json> r = parse_key_values({"a=1", "a=2"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "option 'a' is given more than once");
}

}  // namespace
}  // namespace vsw::cli
