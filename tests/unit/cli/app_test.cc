// tests/unit/cli/app_test.cc — whole vswctl verbs (run_vswctl) against a fake daemon: the RPC
// each verb sends, what it prints, and its exit code.
#include "cli/app.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/cli/fake_daemon.h"

namespace vsw::cli {
namespace {

using json = nlohmann::json;
using testing::FakeDaemon;
using testing::TempDir;

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

Outcome vswctl(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = run_vswctl(args, out, err);
  return Outcome{code, out.str(), err.str()};
}

// A daemon that answers each method from a table: a result, or an error; {} otherwise.
struct ScriptedDaemon {
  std::map<std::string, json> results;
  std::map<std::string, FakeDaemon::Reply (*)(const json&)> errors;
  FakeDaemon daemon{[this](const json& req) {
    std::string method = req.value("method", "");
    if (auto e = errors.find(method); e != errors.end()) return e->second(req);
    auto r = results.find(method);
    return FakeDaemon::result(req, r == results.end() ? json::object() : r->second);
  }};
  const std::string& socket() const { return daemon.socket_path(); }
  json only_request() const {
    auto reqs = daemon.requests();
    EXPECT_EQ(reqs.size(), 1u);
    return reqs.empty() ? json() : reqs[0];
  }
};

TEST(Vswctl, AddBrSendsBridgeAddWithOnlyTheGivenSettings) {
  ScriptedDaemon d;
  Outcome r = vswctl({"--socket", d.socket(), "add-br", "br0", "--aging", "60", "--may-exist"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  json req = d.only_request();
  EXPECT_EQ(req["method"], "bridge.add");
  EXPECT_EQ(req["params"], json({{"name", "br0"}, {"aging_s", 60}, {"may_exist", true}}));
}

TEST(Vswctl, AddPortSendsTypeAndOptions) {
  ScriptedDaemon d;
  Outcome r = vswctl({"--socket", d.socket(), "add-port", "br0", "tap0", "--type", "tap", "-o",
                      "ifname=vsw-tap0", "-o", "queues=2"});
  EXPECT_EQ(r.code, 0) << r.err;
  json req = d.only_request();
  EXPECT_EQ(req["method"], "port.add");
  EXPECT_EQ(req["params"], json({{"bridge", "br0"},
                                 {"name", "tap0"},
                                 {"type", "tap"},
                                 {"options", {{"ifname", "vsw-tap0"}, {"queues", "2"}}}}));
}

TEST(Vswctl, MalformedOptionIsUsageErrorAndNothingIsSent) {
  ScriptedDaemon d;
  Outcome r =
      vswctl({"--socket", d.socket(), "add-port", "br0", "tap0", "--type", "tap", "-o", "ifname"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "vswctl: bad option 'ifname': expected key=value\n");
  EXPECT_TRUE(d.daemon.requests().empty());
}

TEST(Vswctl, MissingTypeIsUsageError) {
  ScriptedDaemon d;
  Outcome r = vswctl({"--socket", d.socket(), "add-port", "br0", "tap0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--type"), std::string::npos) << r.err;
}

TEST(Vswctl, DelVerbsPassIfExists) {
  ScriptedDaemon d;
  EXPECT_EQ(vswctl({"--socket", d.socket(), "del-port", "p1", "--if-exists"}).code, 0);
  EXPECT_EQ(vswctl({"--socket", d.socket(), "del-br", "br0"}).code, 0);
  auto reqs = d.daemon.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0]["method"], "port.del");
  EXPECT_EQ(reqs[0]["params"], json({{"name", "p1"}, {"if_exists", true}}));
  EXPECT_EQ(reqs[1]["method"], "bridge.del");
  EXPECT_EQ(reqs[1]["params"], json({{"name", "br0"}}));
}

TEST(Vswctl, DaemonErrorPrintsItsMessageAndExits2) {
  ScriptedDaemon d;
  d.errors["bridge.del"] = [](const json& req) {
    return FakeDaemon::error(req, -32002, "bridge 'br9' does not exist", "not_found");
  };
  Outcome r = vswctl({"--socket", d.socket(), "del-br", "br9"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "vswctl: bridge 'br9' does not exist\n");
  EXPECT_EQ(r.out, "");
}

TEST(Vswctl, NoDaemonExits3NamingTheSocket) {
  TempDir dir;
  std::string path = dir.path() + "/vswitchd.sock";
  Outcome r = vswctl({"--socket", path, "list-br"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("vswitchd"), std::string::npos) << r.err;
}

TEST(Vswctl, SilentDaemonHitsTheTimeoutAndExits3) {
  FakeDaemon d([](const json&) { return FakeDaemon::Reply{}; });
  Outcome r = vswctl({"--socket", d.socket_path(), "--timeout", "0.2", "dp-show"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("0.2 s"), std::string::npos) << r.err;
}

TEST(Vswctl, ListBrPrintsSortedNamesOrRawJson) {
  ScriptedDaemon d;
  d.results["bridge.list"] = json::parse(R"([{"name": "br1"}, {"name": "br0"}])");
  Outcome text = vswctl({"--socket", d.socket(), "list-br"});
  EXPECT_EQ(text.code, 0);
  EXPECT_EQ(text.out, "br0\nbr1\n");
  // Global options may follow the verb.
  Outcome raw = vswctl({"list-br", "--json", "--socket", d.socket()});
  EXPECT_EQ(raw.code, 0) << raw.err;
  EXPECT_EQ(json::parse(raw.out), d.results["bridge.list"]);
}

TEST(Vswctl, ListPortsAsksForOneBridge) {
  ScriptedDaemon d;
  d.results["port.list"] = json::parse(R"([{"name": "tap0", "bridge": "br0"}])");
  Outcome r = vswctl({"--socket", d.socket(), "list-ports", "br0"});
  EXPECT_EQ(r.out, "tap0\n");
  EXPECT_EQ(d.only_request()["params"], json({{"bridge", "br0"}}));
}

TEST(Vswctl, ShowUsesOneConnectionForItsThreeCalls) {
  ScriptedDaemon d;
  d.results["config.show"] = json::parse(
      R"({"bridges": [{"name": "br0", "aging_s": 300, "max_macs": 8192,
          "ports": [{"name": "tap0", "type": "tap", "options": {"ifname": "t0"}}]}]})");
  d.results["bridge.list"] = json::parse(R"([{"name": "br0", "fdb": {"entries": 1}}])");
  d.results["port.list"] = json::parse(R"([{"name": "tap0", "bridge": "br0", "link": "up"}])");
  Outcome r = vswctl({"--socket", d.socket(), "show"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Bridge br0\n"
            "    aging_s: 300\n"
            "    max_macs: 8192\n"
            "    fdb_entries: 1\n"
            "    Port tap0\n"
            "        type: tap\n"
            "        options: {ifname=t0}\n"
            "        link: up\n");
  EXPECT_EQ(d.daemon.connections(), 1);
  EXPECT_EQ(d.daemon.requests().size(), 3u);
}

TEST(Vswctl, FdbFlushAndStatsPassOptionalPort) {
  ScriptedDaemon d;
  d.results["stats.show"] = json::array();
  EXPECT_EQ(vswctl({"--socket", d.socket(), "fdb-flush", "br0", "--port", "tap0"}).code, 0);
  EXPECT_EQ(vswctl({"--socket", d.socket(), "stats", "tap0"}).code, 0);
  EXPECT_EQ(vswctl({"--socket", d.socket(), "stats"}).code, 0);
  auto reqs = d.daemon.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0]["params"], json({{"bridge", "br0"}, {"port", "tap0"}}));
  EXPECT_EQ(reqs[1]["params"], json({{"port", "tap0"}}));
  EXPECT_EQ(reqs[2]["params"], json::object());
}

TEST(Vswctl, SetBrNeedsASetting) {
  ScriptedDaemon d;
  Outcome r = vswctl({"--socket", d.socket(), "set-br", "br0"});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(d.daemon.requests().empty());
  EXPECT_EQ(vswctl({"--socket", d.socket(), "set-br", "br0", "--max-macs", "64"}).code, 0);
  EXPECT_EQ(d.only_request()["params"], json({{"name", "br0"}, {"max_macs", 64}}));
}

TEST(Vswctl, ApplySendsTheFileAndPrintsActions) {
  TempDir dir;
  std::string file = dir.path() + "/topo.json";
  json topo = json::parse(R"({"bridges": [{"name": "br1", "ports": []}]})");
  std::ofstream(file) << topo.dump(2);
  ScriptedDaemon d;
  d.results["config.apply"] = json{{"actions", {"add-br br1"}}};
  Outcome r = vswctl({"--socket", d.socket(), "apply", file, "--dry-run"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "would add-br br1\n");
  EXPECT_EQ(d.only_request()["params"], json({{"config", topo}, {"dry_run", true}}));
}

TEST(Vswctl, ApplyWithNothingToDoSaysNoChanges) {
  TempDir dir;
  std::string file = dir.path() + "/topo.json";
  std::ofstream(file) << R"({"bridges": []})";
  ScriptedDaemon d;
  d.results["config.apply"] = json{{"actions", json::array()}};
  Outcome r = vswctl({"--socket", d.socket(), "apply", file});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "no changes\n");
}

TEST(Vswctl, ApplyOfUnreadableOrNonJsonFileExits1WithoutCalling) {
  TempDir dir;
  ScriptedDaemon d;
  Outcome missing = vswctl({"--socket", d.socket(), "apply", dir.path() + "/none.json"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("cannot read topology file"), std::string::npos) << missing.err;

  std::string bad = dir.path() + "/bad.json";
  std::ofstream(bad) << "{\"bridges\": [";
  Outcome garbled = vswctl({"--socket", d.socket(), "apply", bad});
  EXPECT_EQ(garbled.code, 1);
  EXPECT_NE(garbled.err.find("is not valid JSON"), std::string::npos) << garbled.err;

  // nlohmann throws out_of_range, not parse_error, for a number beyond a double's range.
  std::string huge = dir.path() + "/huge.json";
  std::ofstream(huge) << R"({"bridges": [], "x": 1E400})";
  Outcome overflow = vswctl({"--socket", d.socket(), "apply", huge});
  EXPECT_EQ(overflow.code, 1);
  EXPECT_NE(overflow.err.find("is not valid JSON"), std::string::npos) << overflow.err;

  std::string list = dir.path() + "/list.json";
  std::ofstream(list) << "[]";
  EXPECT_EQ(vswctl({"--socket", d.socket(), "apply", list}).code, 1);
  EXPECT_TRUE(d.daemon.requests().empty());
}

TEST(Vswctl, ApplyFailurePartWayListsTheActionsDone) {
  TempDir dir;
  std::string file = dir.path() + "/topo.json";
  std::ofstream(file) << R"({"bridges": []})";
  ScriptedDaemon d;
  d.errors["config.apply"] = [](const json& req) {
    return FakeDaemon::error(req, -32007, "cannot open tap 'x'", "io",
                             json{{"done", {"del-port p3"}}});
  };
  Outcome r = vswctl({"--socket", d.socket(), "apply", file});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err,
            "vswctl: cannot open tap 'x'\n"
            "vswctl: actions done before the failure:\n"
            "  del-port p3\n");
}

TEST(Vswctl, ConfigShowPrintsJsonThatApplyAccepts) {
  ScriptedDaemon d;
  d.results["config.show"] = json::parse(R"({"bridges": [{"name": "br0", "ports": []}]})");
  Outcome r = vswctl({"--socket", d.socket(), "config-show"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(json::parse(r.out), d.results["config.show"]);
}

TEST(Vswctl, VersionPrintsBothSides) {
  ScriptedDaemon d;
  d.results["daemon.version"] = json{{"version", "9.9.9"}};
  Outcome r = vswctl({"--socket", d.socket(), "version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, std::string("vswctl ") + VSW_VERSION + "\nvswitchd 9.9.9\n");
}

TEST(Vswctl, LogLevelSendsTheSpec) {
  ScriptedDaemon d;
  EXPECT_EQ(vswctl({"--socket", d.socket(), "log-level", "info,dp=debug"}).code, 0);
  EXPECT_EQ(d.only_request()["method"], "log.set_level");
  EXPECT_EQ(d.only_request()["params"], json({{"spec", "info,dp=debug"}}));
}

TEST(Vswctl, UnknownVerbOrNoVerbIsUsageErrorAndHelpIsNot) {
  EXPECT_EQ(vswctl({"frobnicate"}).code, 1);
  EXPECT_EQ(vswctl({}).code, 1);
  Outcome help = vswctl({"--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("add-port"), std::string::npos);
  EXPECT_EQ(vswctl({"add-br", "--help"}).code, 0);
}

TEST(Vswctl, BadTimeoutIsUsageError) {
  EXPECT_EQ(vswctl({"--timeout", "0", "list-br"}).code, 1);
  EXPECT_EQ(vswctl({"--timeout", "soon", "list-br"}).code, 1);
}

}  // namespace
}  // namespace vsw::cli
