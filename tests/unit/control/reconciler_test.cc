// tests/unit/control/reconciler_test.cc — diff ordering, application and idempotence, against a
// recording sink that models the running state (no dataplane).
#include "control/reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vsw::control {
namespace {

using nlohmann::json;

ConfigModel parse(std::string_view text) {
  auto r = config_from_json(json::parse(text));
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : ConfigModel{};
}

std::vector<std::string> describe(const std::vector<Action>& actions) {
  std::vector<std::string> out;
  for (const Action& a : actions) out.push_back(a.describe());
  return out;
}

// Applies actions to a ConfigModel, the way ControlPlane applies them to the Switch.
class ModelSink : public ActionSink {
 public:
  ConfigModel state;
  std::string fail_on;  // describe()-prefix of an action to fail

  Status add_bridge(const std::string& name, const BridgeSettings& s) override {
    if (fail_on == "add-br " + name) return make_error(Errc::Io, "injected");
    if (state.find_bridge(name)) return make_error(Errc::AlreadyExists, "exists");
    state.bridges.push_back(BridgeModel{name, s, {}, {}});
    return ok();
  }
  Status del_bridge(const std::string& name) override {
    auto& v = state.bridges;
    auto it = std::find_if(v.begin(), v.end(), [&](auto& b) { return b.name == name; });
    if (it == v.end()) return make_error(Errc::NotFound, "no bridge");
    v.erase(it);
    return ok();
  }
  Status set_bridge(const std::string& name, const BridgeSettings& s) override {
    BridgeModel* b = state.find_bridge(name);
    if (!b) return make_error(Errc::NotFound, "no bridge");
    b->settings = s;
    return ok();
  }
  Status add_port(const std::string& bridge, const PortModel& p) override {
    if (fail_on == "add-port " + p.name) return make_error(Errc::Unavailable, "no such device");
    BridgeModel* b = state.find_bridge(bridge);
    if (!b) return make_error(Errc::NotFound, "no bridge");
    if (state.find_port(p.name)) return make_error(Errc::AlreadyExists, "exists");
    b->ports.push_back(p);
    return ok();
  }
  Status del_port(const std::string& name) override {
    for (BridgeModel& b : state.bridges) {
      auto it =
          std::find_if(b.ports.begin(), b.ports.end(), [&](auto& p) { return p.name == name; });
      if (it != b.ports.end()) {
        b.ports.erase(it);
        return ok();
      }
    }
    return make_error(Errc::NotFound, "no port");
  }  Status set_port_vlan(const std::string& name, const VlanConfig& vlan) override {
    for (BridgeModel& b : state.bridges) {
      for (PortModel& p : b.ports) {
        if (p.name == name) {
          p.vlan = vlan;
          return ok();
        }
      }
    }
    return make_error(Errc::NotFound, "no port");
  }
  Status add_mirror(const std::string& bridge, const MirrorConfig& m) override {
    BridgeModel* b = state.find_bridge(bridge);
    if (!b || b->find_mirror(m.name)) return make_error(Errc::AlreadyExists, "mirror");
    if (Status st = validate_mirror(*b, m); !st) return st;
    b->mirrors.push_back(m);
    return ok();
  }
  Status del_mirror(const std::string& bridge, const std::string& name) override {
    BridgeModel* b = state.find_bridge(bridge);
    if (!b || !b->find_mirror(name)) return make_error(Errc::NotFound, "no mirror");
    std::erase_if(b->mirrors, [&](const MirrorConfig& m) { return m.name == name; });
    return ok();
  }

};

const char* kTopoA = R"({"bridges":[
  {"name":"br0","aging_s":300,"ports":[
     {"name":"tap0","type":"tap","options":{"ifname":"vsw-tap0"}},
     {"name":"p1","type":"loopback"}]},
  {"name":"br1","ports":[{"name":"p2","type":"loopback"}]}]})";

TEST(Reconciler, FromEmptyAddsInOrder) {
  auto actions = diff(parse(kTopoA), ConfigModel{});
  EXPECT_EQ(
      describe(actions),
      (std::vector<std::string>{"add-br br0", "add-br br1", "add-port br0 tap0 type=tap",
                                "add-port br0 p1 type=loopback", "add-port br1 p2 type=loopback"}));
}

TEST(Reconciler, SameConfigTwiceIsZeroActions) {
  ModelSink sink;
  const ConfigModel desired = parse(kTopoA);
  std::vector<std::string> done;
  ASSERT_TRUE(apply(diff(desired, sink.state), sink, done));
  EXPECT_EQ(done.size(), 5u);
  EXPECT_EQ(sink.state, desired);
  EXPECT_TRUE(diff(desired, sink.state).empty());
  EXPECT_TRUE(diff(ConfigModel{}, ConfigModel{}).empty());
}

TEST(Reconciler, ChangesAreOrderedDeletesFirst) {
  const ConfigModel running = parse(kTopoA);
  const ConfigModel desired = parse(R"({"bridges":[
    {"name":"br0","aging_s":60,"ports":[
       {"name":"tap0","type":"tap","options":{"ifname":"vsw-tapX"}},
       {"name":"p2","type":"loopback"}]},
    {"name":"br2","ports":[{"name":"p1","type":"loopback"}]}]})");
  EXPECT_EQ(describe(diff(desired, running)),
            (std::vector<std::string>{
                "del-port tap0",  // options changed: re-created
                "del-port p1",    // moved to br2
                "del-br br1",     // gone; takes p2 with it
                "add-br br2", "set-br br0 aging_s=60 max_macs=8192", "add-port br0 tap0 type=tap",
                "add-port br0 p2 type=loopback",  // moved from the deleted br1
                "add-port br2 p1 type=loopback"}));

  ModelSink sink;
  sink.state = running;
  std::vector<std::string> done;
  ASSERT_TRUE(apply(diff(desired, sink.state), sink, done));
  EXPECT_EQ(sink.state.bridges.size(), 2u);
  EXPECT_TRUE(diff(desired, sink.state).empty());
}

TEST(Reconciler, TypeChangeRecreatesThePort) {
  const ConfigModel running =
      parse(R"({"bridges":[{"name":"b","ports":[{"name":"p","type":"tap"}]}]})");
  const ConfigModel desired =
      parse(R"({"bridges":[{"name":"b","ports":[{"name":"p","type":"loopback"}]}]})");
  EXPECT_EQ(describe(diff(desired, running)),
            (std::vector<std::string>{"del-port p", "add-port b p type=loopback"}));
}

TEST(Reconciler, NameReusedAcrossKindsDeletesBeforeAdding) {
  const ConfigModel running =
      parse(R"({"bridges":[{"name":"x","ports":[{"name":"y","type":"t"}]}]})");
  const ConfigModel desired =
      parse(R"({"bridges":[{"name":"y","ports":[{"name":"x","type":"t"}]}]})");
  ModelSink sink;
  sink.state = running;
  std::vector<std::string> done;
  ASSERT_TRUE(apply(diff(desired, sink.state), sink, done));
  EXPECT_EQ(sink.state, desired);
}

TEST(Reconciler, EmptyDesiredDeletesBridgesOnly) {
  EXPECT_EQ(describe(diff(ConfigModel{}, parse(kTopoA))),
            (std::vector<std::string>{"del-br br0", "del-br br1"}));
}

TEST(Reconciler, StopsAtFirstFailureAndReportsWhatWasDone) {
  ModelSink sink;
  sink.fail_on = "add-port p1";
  std::vector<std::string> done;
  Status st = apply(diff(parse(kTopoA), sink.state), sink, done);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Errc::Unavailable);
  EXPECT_EQ(st.error().message, "add-port br0 p1 type=loopback: no such device");
  EXPECT_EQ(done,
            (std::vector<std::string>{"add-br br0", "add-br br1", "add-port br0 tap0 type=tap"}));
}

}  // namespace
TEST(Reconciler, VlanChangeIsSetPortAndMirrorsFollowTheirPorts) {
  ConfigModel running;
  running.bridges.push_back(BridgeModel{"br0", {}, {{"a", "tap", {}, {}}, {"b", "tap", {}, {}},
                                                    {"m", "tap", {}, {}}}, {}});
  running.bridges[0].mirrors.push_back(MirrorConfig{"mir", {"a"}, {}, {}, "m"});
  ConfigModel desired = running;
  desired.bridges[0].ports[0].vlan = VlanConfig{VlanMode::Access, 10, {}};
  EXPECT_EQ(describe(diff(desired, running)),
            std::vector<std::string>{"set-port a vlan_mode=access tag=10 trunks="});
  // The mirror's source port is re-created (new options): the mirror goes first, comes back last.
  desired.bridges[0].ports[0].options["ifname"] = "x";
  EXPECT_EQ(describe(diff(desired, running)),
            (std::vector<std::string>{"del-mirror br0 mir", "del-port a",
                                      "add-port br0 a type=tap vlan_mode=access",
                                      "add-mirror br0 mir output=m"}));
  ModelSink sink;
  sink.state = running;
  std::vector<std::string> done;
  ASSERT_TRUE(apply(diff(desired, running), sink, done));
  EXPECT_TRUE(diff(desired, sink.state).empty());
  EXPECT_EQ(sink.state.bridges[0].mirrors, desired.bridges[0].mirrors);
}

}  // namespace vsw::control
