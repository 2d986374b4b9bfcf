// tests/unit/control/methods_test.cc — every RPC method through Dispatcher strings, on a real
// Switch with in-memory loopback ports (no root, no hugepages, workers not started), with the
// state file in a temporary directory.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <boost/asio/io_context.hpp>

#include "control/control_plane.h"
#include "control/dispatcher.h"
#include "control/methods/methods.h"
#include "control/state_store.h"
#include "dataplane/switch.h"
#include "ports/port_factory.h"

namespace vsw::control {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class MethodsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vsw-methods-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    store_ = std::make_unique<StateStore>(dir_ / "state.json");
    SwitchConfig sc;
    sc.workers = 1;
    sc.pool.buffers = 1024;
    sc.pool.hugepages = false;
    auto sw = Switch::create(sc);
    ASSERT_TRUE(sw) << sw.error().message;
    sw_ = std::move(*sw);
    env_ = std::make_unique<ports::PortEnv>(ports::PortEnv{sw_->mempool(), io_, dir_.string(), 1});
    cp_ = std::make_unique<ControlPlane>(*sw_, factory_, *env_, store_.get());
    methods::register_all(d_, *cp_);
  }
  void TearDown() override {
    cp_.reset();
    sw_.reset();
    fs::remove_all(dir_);
  }

  json call(std::string_view method, json params = json::object()) {
    json req = {{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", params}};
    auto reply = d_.handle(req.dump());
    EXPECT_TRUE(reply);
    return reply ? json::parse(*reply) : json();
  }
  json ok(std::string_view method, json params = json::object()) {
    json r = call(method, params);
    EXPECT_TRUE(r.contains("result")) << method << " " << params.dump() << " -> " << r.dump();
    return r.contains("result") ? r["result"] : json();
  }
  int err(std::string_view method, json params = json::object()) {
    json r = call(method, params);
    EXPECT_TRUE(r.contains("error")) << method << " " << params.dump() << " -> " << r.dump();
    return r.contains("error") ? r["error"]["code"].get<int>() : 0;
  }
  json saved() {
    std::ifstream in(dir_ / "state.json");
    if (!in) return nullptr;
    return json::parse(in);
  }

  fs::path dir_;
  boost::asio::io_context io_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<Switch> sw_;
  ports::PortFactory factory_;
  std::unique_ptr<ports::PortEnv> env_;
  std::unique_ptr<ControlPlane> cp_;
  Dispatcher d_;
  int id_ = 0;
};

TEST_F(MethodsTest, EveryDocumentedMethodIsRegistered) {
  std::set<std::string> have;
  for (const json& m : ok("daemon.methods")) have.insert(m["method"].get<std::string>());
  for (const char* m :
       {"daemon.version", "daemon.methods", "bridge.add", "bridge.del", "bridge.set", "bridge.list",
        "port.add", "port.del", "port.list", "port.show", "fdb.show", "fdb.flush", "stats.show",
        "dp.show", "config.show", "config.apply", "log.set_level"}) {
    EXPECT_TRUE(have.count(m)) << m;
  }
  EXPECT_EQ(ok("daemon.version")["version"], VSW_VERSION);
}

TEST_F(MethodsTest, BridgeLifecycleIsSaved) {
  ok("bridge.add", {{"name", "br0"}});
  ok("bridge.add", {{"name", "br1"}, {"aging_s", 60}, {"max_macs", 1024}});
  json list = ok("bridge.list");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1]["name"], "br1");
  EXPECT_EQ(list[1]["aging_s"], 60);
  EXPECT_EQ(list[1]["fdb"]["max_entries"], 1024);
  EXPECT_EQ(saved()["bridges"].size(), 2u);

  ok("bridge.set", {{"name", "br1"}, {"aging_s", 30}});
  EXPECT_EQ(ok("bridge.list")[1]["aging_s"], 30);
  EXPECT_EQ(saved()["bridges"][1]["aging_s"], 30);
  EXPECT_EQ(saved()["bridges"][1]["max_macs"], 1024);

  ok("bridge.del", {{"name", "br0"}});
  EXPECT_EQ(ok("bridge.list").size(), 1u);
  EXPECT_EQ(saved()["bridges"].size(), 1u);
}

TEST_F(MethodsTest, BridgeErrors) {
  ok("bridge.add", {{"name", "br0"}, {"aging_s", 100}});
  EXPECT_EQ(err("bridge.add", {{"name", "br0"}}), -32003);
  ok("bridge.add", {{"name", "br0"}, {"may_exist", true}});
  ok("bridge.add", {{"name", "br0"}, {"aging_s", 100}, {"may_exist", true}});
  EXPECT_EQ(err("bridge.add", {{"name", "br0"}, {"aging_s", 200}, {"may_exist", true}}), -32003);
  EXPECT_EQ(err("bridge.add", {{"name", "bad name"}}), -32001);
  EXPECT_EQ(err("bridge.add", {{"name", "br1"}, {"aging_s", 5}}), -32001);
  EXPECT_EQ(err("bridge.add", {{"name", "br1"}, {"aging_s", 5000000000u}}), -32001);
  EXPECT_EQ(err("bridge.add", {{"name", "br1"}, {"aging_s", "5"}}), -32602);
  EXPECT_EQ(err("bridge.add", {{"name", "br1"}, {"color", "red"}}), -32602);
  EXPECT_EQ(err("bridge.add"), -32602);
  EXPECT_EQ(err("bridge.del", {{"name", "nope"}}), -32002);
  ok("bridge.del", {{"name", "nope"}, {"if_exists", true}});
  EXPECT_EQ(err("bridge.set", {{"name", "nope"}, {"aging_s", 60}}), -32002);
  EXPECT_EQ(err("bridge.set", {{"name", "br0"}, {"max_macs", 1}}), -32001);
}

TEST_F(MethodsTest, PortLifecycle) {
  ok("bridge.add", {{"name", "br0"}});
  ok("port.add", {{"bridge", "br0"}, {"name", "lo0"}, {"type", "loopback"}});
  ok("port.add", {{"bridge", "br0"},
                  {"name", "lo1"},
                  {"type", "loopback"},
                  {"options", {{"ring-size", "512"}}}});
  json list = ok("port.list");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], json({{"name", "lo0"},
                           {"type", "loopback"},
                           {"bridge", "br0"},
                           {"link", list[0]["link"]},
                           {"state", "ok"},
                           {"vlan_mode", "none"},
                           {"tag", nullptr},
                           {"trunks", json::array()}}));
  EXPECT_EQ(ok("port.list", {{"bridge", "br0"}}).size(), 2u);
  EXPECT_EQ(err("port.list", {{"bridge", "nope"}}), -32002);

  json show = ok("port.show", {{"name", "lo1"}});
  EXPECT_EQ(show["options"]["ring-size"], "512");
  EXPECT_EQ(show["bridge"], "br0");
  EXPECT_TRUE(show["id"].is_number());
  EXPECT_GE(show["rx_queues"].get<int>(), 1);
  EXPECT_EQ(show["stats"]["rx_drops"].size(), 5u);  // no_buffer tx_full mtu invalid vlan
  EXPECT_TRUE(ok("bridge.list")[0]["ports"] == json({"lo0", "lo1"}));

  json st = saved();
  EXPECT_EQ(st["bridges"][0]["ports"][1]["options"]["ring-size"], "512");

  ok("port.del", {{"name", "lo0"}});
  EXPECT_EQ(ok("port.list").size(), 1u);
  EXPECT_EQ(saved()["bridges"][0]["ports"].size(), 1u);
  ok("bridge.del", {{"name", "br0"}});  // takes lo1 with it
  EXPECT_EQ(ok("port.list").size(), 0u);
  EXPECT_FALSE(sw_->has_port("lo1"));
}

TEST_F(MethodsTest, PortErrors) {
  ok("bridge.add", {{"name", "br0"}});
  EXPECT_EQ(err("port.add", {{"bridge", "nope"}, {"name", "p"}, {"type", "loopback"}}), -32002);
  EXPECT_EQ(err("port.add", {{"bridge", "br0"}, {"name", "p"}, {"type", "warp-drive"}}), -32002);
  EXPECT_EQ(err("port.add", {{"bridge", "br0"},
                             {"name", "p"},
                             {"type", "loopback"},
                             {"options", {{"colour", "red"}}}}),
            -32001);
  EXPECT_EQ(err("port.add", {{"bridge", "br0"},
                             {"name", "p"},
                             {"type", "loopback"},
                             {"options", {{"ring-size", 512}}}}),
            -32602);
  EXPECT_EQ(err("port.add", {{"bridge", "br0"}, {"name", "br0"}, {"type", "loopback"}}), -32003);
  ok("port.add", {{"bridge", "br0"}, {"name", "p"}, {"type", "loopback"}});
  EXPECT_EQ(err("port.add", {{"bridge", "br0"}, {"name", "p"}, {"type", "loopback"}}), -32003);
  ok("port.add", {{"bridge", "br0"}, {"name", "p"}, {"type", "loopback"}, {"may_exist", true}});
  EXPECT_EQ(
      err("port.add", {{"bridge", "br0"}, {"name", "p"}, {"type", "tap"}, {"may_exist", true}}),
      -32003);
  EXPECT_EQ(err("bridge.add", {{"name", "p"}}), -32003);
  EXPECT_EQ(err("port.del", {{"name", "nope"}}), -32002);
  ok("port.del", {{"name", "nope"}, {"if_exists", true}});
  EXPECT_EQ(err("port.show", {{"name", "nope"}}), -32002);
  EXPECT_EQ(ok("port.list").size(), 1u);
}

TEST_F(MethodsTest, FdbStatsAndDataplane) {
  ok("bridge.add", {{"name", "br0"}});
  ok("port.add", {{"bridge", "br0"}, {"name", "lo0"}, {"type", "loopback"}});
  EXPECT_TRUE(ok("fdb.show", {{"bridge", "br0"}}).is_array());
  EXPECT_EQ(err("fdb.show", {{"bridge", "nope"}}), -32002);
  ok("fdb.flush", {{"bridge", "br0"}});
  ok("fdb.flush", {{"bridge", "br0"}, {"port", "lo0"}});
  EXPECT_EQ(err("fdb.flush", {{"bridge", "br0"}, {"port", "nope"}}), -32002);

  json stats = ok("stats.show");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0]["port"], "lo0");
  for (const char* k : {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"}) {
    EXPECT_TRUE(stats[0][k].is_number()) << k;
  }
  for (const char* r : {"no_buffer", "tx_full", "mtu", "invalid"}) {
    EXPECT_TRUE(stats[0]["tx_drops"][r].is_number()) << r;
  }
  EXPECT_EQ(ok("stats.show", {{"port", "lo0"}}).size(), 1u);
  EXPECT_EQ(err("stats.show", {{"port", "nope"}}), -32002);

  json dp = ok("dp.show");
  EXPECT_GT(dp["tsc_hz"].get<uint64_t>(), 0u);
  ASSERT_EQ(dp["workers"].size(), 1u);
  EXPECT_TRUE(dp["workers"][0]["rx_queues"].is_array());
  EXPECT_TRUE(dp["workers"][0]["cycles_per_packet"].is_number());
  EXPECT_EQ(dp["mempool"]["buffers"], 1024);
  EXPECT_EQ(dp["mempool"]["hugepages"], false);
}

TEST_F(MethodsTest, ConfigApplyIsIdempotentAndSaved) {
  const json topo = json::parse(R"({"bridges":[
    {"name":"br0","aging_s":60,"ports":[{"name":"a","type":"loopback"},
                                         {"name":"b","type":"loopback"}]},
    {"name":"br1","ports":[{"name":"c","type":"loopback"}]}]})");
  json dry = ok("config.apply", {{"config", topo}, {"dry_run", true}});
  EXPECT_EQ(dry["actions"].size(), 5u);
  EXPECT_EQ(ok("bridge.list").size(), 0u);

  json first = ok("config.apply", {{"config", topo}});
  EXPECT_EQ(first["actions"].size(), 5u);
  json second = ok("config.apply", {{"config", topo}});
  EXPECT_EQ(second["actions"].size(), 0u);

  auto running = config_from_json(ok("config.show"));
  auto wanted = config_from_json(topo);
  ASSERT_TRUE(running && wanted);
  EXPECT_EQ(*running, *wanted);
  EXPECT_EQ(config_from_json(saved()).value(), *wanted);

  // Change one port's options, drop a bridge.
  json topo2 = topo;
  topo2["bridges"].erase(1);
  topo2["bridges"][0]["ports"][0]["options"] = {{"ring-size", "128"}};
  json third = ok("config.apply", {{"config", topo2}});
  EXPECT_EQ(third["actions"], json({"del-port a", "del-br br1", "add-port br0 a type=loopback"}));
  EXPECT_EQ(ok("port.show", {{"name", "a"}})["options"]["ring-size"], "128");
}

TEST_F(MethodsTest, ConfigApplyValidatesWholeFileFirst) {
  EXPECT_EQ(err("config.apply", {{"config", {{"bridges", {{{"name", "br0"}, {"bogus", 1}}}}}}}),
            -32001);
  EXPECT_EQ(err("config.apply", {{"config", "text"}}), -32602);
  EXPECT_EQ(ok("bridge.list").size(), 0u);
}

TEST_F(MethodsTest, ConfigApplyFailurePartWayReportsDone) {
  // Option values are checked by the port type when the port is created, so a bad one fails
  // part-way; what was done before is reported.
  const json topo = json::parse(R"({"bridges":[{"name":"br0","ports":[
    {"name":"a","type":"loopback"},{"name":"b","type":"loopback","options":{"ring-size":"7"}}]}]})");
  json r = call("config.apply", {{"config", topo}});
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["data"]["done"], json({"add-br br0", "add-port br0 a type=loopback"}));
  EXPECT_EQ(r["error"]["data"]["errc"], "invalid_argument");
  // What was done is saved.
  EXPECT_EQ(saved()["bridges"][0]["ports"].size(), 1u);
}

TEST_F(MethodsTest, ConfigApplyWithUnknownPortTypeChangesNothing) {
  ok("bridge.add", {{"name", "old"}});
  const json topo = json::parse(R"({"bridges":[{"name":"br0","ports":[
    {"name":"a","type":"loopback"},{"name":"b","type":"warp-drive"}]}]})");
  json r = call("config.apply", {{"config", topo}});
  ASSERT_TRUE(r.contains("error")) << r.dump();
  EXPECT_EQ(r["error"]["data"]["errc"], "invalid_argument");
  EXPECT_NE(r["error"]["message"].get<std::string>().find("warp-drive"), std::string::npos);
  json list = ok("bridge.list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "old");
}

TEST_F(MethodsTest, RestoreKeepsPortsThatFailAndSavesThemBack) {
  auto cfg = config_from_json(json::parse(R"({"bridges":[{"name":"br0","ports":[
    {"name":"good","type":"loopback"},
    {"name":"gone","type":"afpacket","options":{"ifname":"vswt-absent0"}}]}]})"));
  ASSERT_TRUE(cfg);
  ASSERT_TRUE(cp_->restore(*cfg));
  json list = ok("port.list");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["state"], "ok");
  EXPECT_EQ(list[1]["state"].get<std::string>().rfind("error: ", 0), 0u) << list[1].dump();
  json show = ok("port.show", {{"name", "gone"}});
  EXPECT_TRUE(show["id"].is_null());
  EXPECT_EQ(show["options"]["ifname"], "vswt-absent0");
  EXPECT_EQ(err("stats.show", {{"port", "gone"}}), -32006);
  EXPECT_EQ(ok("stats.show").size(), 1u);

  // The configuration survives: config.show and the state file still hold the port.
  EXPECT_EQ(*config_from_json(ok("config.show")), *cfg);
  ok("bridge.add", {{"name", "br9"}});
  EXPECT_EQ(saved()["bridges"][0]["ports"].size(), 2u);
  // Applying the same configuration changes nothing; deleting the port works.
  json same = config_to_json(*cfg);
  same["bridges"].push_back({{"name", "br9"}});
  EXPECT_EQ(ok("config.apply", {{"config", same}})["actions"].size(), 0u);
  ok("port.del", {{"name", "gone"}});
  EXPECT_EQ(ok("port.list").size(), 1u);
}

TEST_F(MethodsTest, LogLevels) {
  ok("log.set_level", {{"spec", "info,ctl=debug"}});
  EXPECT_EQ(err("log.set_level", {{"spec", "loud"}}), -32001);
  ok("log.set_level", {{"spec", "info"}});
}

}  // namespace
}  // namespace vsw::control
