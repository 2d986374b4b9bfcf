// tests/unit/control/dispatcher_test.cc — JSON-RPC 2.0 semantics through plain strings.
#include "control/dispatcher.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "control/protocol/error_codes.h"

namespace vsw::control {
namespace {

using nlohmann::json;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(d_.add("test.echo", "echo params",
                       {{"text", FieldType::String, true},
                        {"n", FieldType::Unsigned, false},
                        {"flag", FieldType::Bool, false},
                        {"opts", FieldType::StringMap, false}},
                       [this](Call& c) -> Result<json> {
                         ++calls_;
                         return c.params;
                       }));
    ASSERT_TRUE(d_.add("test.fail", "", {}, [](Call& c) -> Result<json> {
      c.error_data["done"] = json::array({"add-br br0"});
      return make_error(Errc::NotFound, "bridge 'br9' does not exist");
    }));
    ASSERT_TRUE(d_.add("test.throw", "", {},
                       [](Call&) -> Result<json> { throw std::runtime_error("boom"); }));
  }

  json call(std::string_view line) {
    auto reply = d_.handle(line);
    EXPECT_TRUE(reply.has_value()) << line;
    if (!reply) return nullptr;
    EXPECT_EQ(reply->find('\n'), std::string::npos) << "replies are single lines";
    return json::parse(*reply);
  }

  static int code(const json& reply) { return reply.at("error").at("code").get<int>(); }

  Dispatcher d_;
  int calls_ = 0;
};

TEST_F(DispatcherTest, SuccessEchoesIdAndResult) {
  json r = call(R"({"jsonrpc":"2.0","id":7,"method":"test.echo","params":{"text":"hi"}})");
  EXPECT_EQ(r["jsonrpc"], "2.0");
  EXPECT_EQ(r["id"], 7);
  EXPECT_EQ(r["result"]["text"], "hi");
  EXPECT_FALSE(r.contains("error"));

  r = call(R"({"jsonrpc":"2.0","id":"abc","method":"test.echo","params":{"text":"x"}})");
  EXPECT_EQ(r["id"], "abc");
}

TEST_F(DispatcherTest, ParseErrorHasNullId) {
  for (std::string_view bad : {"{", "not json", "{\"jsonrpc\":\"2.0\",}", "\xff\xfe", ""}) {
    json r = call(bad);
    EXPECT_EQ(code(r), protocol::kParseError) << bad;
    EXPECT_TRUE(r["id"].is_null());
  }
}

TEST_F(DispatcherTest, DeepNestingIsAParseErrorNotACrash) {
  std::string deep(1 << 20, '[');
  EXPECT_EQ(code(call(deep)), protocol::kParseError);
  std::string ok_depth = std::string(10, '[') + std::string(10, ']');
  json r = call(ok_depth);  // a batch holding one non-object
  ASSERT_TRUE(r.is_array());
  EXPECT_EQ(code(r[0]), protocol::kInvalidRequest);
}

TEST_F(DispatcherTest, NestingScanIgnoresBracketsInStrings) {
  EXPECT_FALSE(nesting_exceeds(R"({"a":"[[[[[[[[[[\"[[[["})", 3));
  EXPECT_TRUE(nesting_exceeds("[[[[", 3));
  EXPECT_FALSE(nesting_exceeds("[[[]]]", 3));
}

TEST_F(DispatcherTest, InvalidRequests) {
  EXPECT_EQ(code(call("42")), protocol::kInvalidRequest);
  EXPECT_EQ(code(call(R"({"id":1,"method":"test.echo"})")), protocol::kInvalidRequest);
  EXPECT_EQ(code(call(R"({"jsonrpc":"1.0","id":1,"method":"test.echo"})")),
            protocol::kInvalidRequest);
  EXPECT_EQ(code(call(R"({"jsonrpc":"2.0","id":1,"method":5})")), protocol::kInvalidRequest);
  EXPECT_EQ(code(call(R"({"jsonrpc":"2.0","id":1})")), protocol::kInvalidRequest);
  EXPECT_EQ(code(call(R"({"jsonrpc":"2.0","id":{},"method":"test.echo"})")),
            protocol::kInvalidRequest);
  EXPECT_EQ(code(call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":3})")),
            protocol::kInvalidRequest);
  // The id is echoed when it could be read.
  EXPECT_EQ(call(R"({"jsonrpc":"1.0","id":9,"method":"x"})")["id"], 9);
  EXPECT_EQ(code(call("[]")), protocol::kInvalidRequest);
}

TEST_F(DispatcherTest, UnknownMethod) {
  json r = call(R"({"jsonrpc":"2.0","id":1,"method":"nope.nope"})");
  EXPECT_EQ(code(r), protocol::kMethodNotFound);
  EXPECT_EQ(r["id"], 1);
}

TEST_F(DispatcherTest, InvalidParamsNameTheField) {
  json r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("'text'"), std::string::npos);

  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a","bogus":1}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  EXPECT_NE(r["error"]["message"].get<std::string>().find("'bogus'"), std::string::npos);

  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":5}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a","n":-1}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a","n":1.5}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a","flag":"yes"}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a","opts":{"k":1}}})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":["a"]})");
  EXPECT_EQ(code(r), protocol::kInvalidParams);
  EXPECT_EQ(calls_, 0);

  r = call(
      R"({"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a","opts":{"k":"v"}}})");
  EXPECT_TRUE(r.contains("result"));
}

TEST_F(DispatcherTest, DomainErrorsMapToFixedCodesWithData) {
  json r = call(R"({"jsonrpc":"2.0","id":3,"method":"test.fail"})");
  EXPECT_EQ(code(r), -32002);
  EXPECT_EQ(r["error"]["message"], "bridge 'br9' does not exist");
  EXPECT_EQ(r["error"]["data"]["errc"], "not_found");
  EXPECT_EQ(r["error"]["data"]["done"], json::array({"add-br br0"}));
}

TEST_F(DispatcherTest, HandlerExceptionBecomesInternalError) {
  json r = call(R"({"jsonrpc":"2.0","id":4,"method":"test.throw"})");
  EXPECT_EQ(code(r), protocol::kInternalError);
  EXPECT_EQ(r["id"], 4);
}

TEST_F(DispatcherTest, NotificationsRunWithoutReply) {
  EXPECT_FALSE(d_.handle(R"({"jsonrpc":"2.0","method":"test.echo","params":{"text":"a"}})"));
  EXPECT_EQ(calls_, 1);
  // Errors in notifications are not reported either.
  EXPECT_FALSE(d_.handle(R"({"jsonrpc":"2.0","method":"nope"})"));
  EXPECT_FALSE(d_.handle(R"({"jsonrpc":"2.0","method":"test.fail"})"));
  EXPECT_FALSE(d_.handle(R"({"jsonrpc":"2.0","method":"test.echo","params":{}})"));
  // A null id is a request, not a notification.
  json r = call(R"({"jsonrpc":"2.0","id":null,"method":"test.echo","params":{"text":"a"}})");
  EXPECT_TRUE(r["id"].is_null());
  EXPECT_TRUE(r.contains("result"));
}

TEST_F(DispatcherTest, BatchRepliesOnlyToRequests) {
  json r = call(R"([
    {"jsonrpc":"2.0","id":1,"method":"test.echo","params":{"text":"a"}},
    {"jsonrpc":"2.0","method":"test.echo","params":{"text":"b"}},
    {"jsonrpc":"2.0","id":2,"method":"nope"},
    1,
    {"jsonrpc":"2.0","id":3,"method":"test.fail"}
  ])");
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0]["id"], 1);
  EXPECT_EQ(r[1]["error"]["code"], protocol::kMethodNotFound);
  EXPECT_EQ(r[2]["error"]["code"], protocol::kInvalidRequest);
  EXPECT_EQ(r[3]["error"]["code"], -32002);
  EXPECT_EQ(calls_, 2);

  EXPECT_FALSE(d_.handle(R"([{"jsonrpc":"2.0","method":"test.echo","params":{"text":"a"}}])"));
}

TEST_F(DispatcherTest, RegistrationRules) {
  auto noop = [](Call&) -> Result<json> { return json::object(); };
  EXPECT_FALSE(d_.add("rpc.discover", "", {}, noop));
  EXPECT_EQ(d_.add("test.echo", "", {}, noop).error().code, Errc::AlreadyExists);
  auto m = d_.methods();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].first, "test.echo");
  EXPECT_EQ(m[0].second, "echo params");
}

TEST_F(DispatcherTest, InvalidUtf8InResultsIsReplaced) {
  ASSERT_TRUE(d_.add("test.bytes", "", {}, [](Call&) -> Result<json> {
    return json{{"s", std::string("a\xff"
                                  "b")}};
  }));
  json r = call(R"({"jsonrpc":"2.0","id":1,"method":"test.bytes"})");
  EXPECT_TRUE(r["result"]["s"].is_string());
}

TEST(ErrorCodes, MapBothWays) {
  for (Errc c : protocol::kAllErrc) {
    EXPECT_EQ(protocol::rpc_code_to_errc(protocol::errc_to_rpc_code(c)), c);
    EXPECT_EQ(protocol::errc_from_name(errc_name(c)), c);
  }
  EXPECT_FALSE(protocol::rpc_code_to_errc(protocol::kParseError));
}

}  // namespace
}  // namespace vsw::control
