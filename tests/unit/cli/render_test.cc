// tests/unit/cli/render_test.cc — vswctl's text output, given RPC results shaped as docs/rpc.md
// describes them.
#include "cli/render.h"

#include <gtest/gtest.h>

#include "cli/text_table.h"

namespace vsw::cli {
namespace {

using json = nlohmann::json;

json sample_config() {
  return json::parse(R"({"bridges": [
    {"name": "br0", "aging_s": 300, "max_macs": 8192, "ports": [
      {"name": "tap0", "type": "tap", "options": {"ifname": "vsw-tap0"}},
      {"name": "veth0", "type": "afpacket", "options": {}}]},
    {"name": "br1", "aging_s": 60, "max_macs": 1024, "ports": []}]})");
}

json sample_bridges() {
  return json::parse(R"([
    {"name": "br1", "aging_s": 60, "max_macs": 1024, "ports": [], "fdb": {"entries": 0}},
    {"name": "br0", "aging_s": 300, "max_macs": 8192, "ports": ["tap0", "veth0"],
     "fdb": {"entries": 3, "max_entries": 8192, "learned": 5, "moved": 0, "aged": 2,
             "full_drops": 0}}])");
}

json sample_ports() {
  return json::parse(R"([
    {"name": "tap0", "type": "tap", "bridge": "br0", "link": "up", "state": "ok"},
    {"name": "veth0", "type": "afpacket", "bridge": "br0", "link": "down",
     "state": "error: interface 'veth0' does not exist"}])");
}

TEST(RenderShow, TreeListsBridgesPortsTypesOptionsAndLinks) {
  json tree = build_show_tree(sample_config(), sample_bridges(), sample_ports());
  EXPECT_EQ(render_show(tree),
            "Bridge br0\n"
            "    aging_s: 300\n"
            "    max_macs: 8192\n"
            "    fdb_entries: 3\n"
            "    Port tap0\n"
            "        type: tap\n"
            "        options: {ifname=vsw-tap0}\n"
            "        link: up\n"
            "    Port veth0\n"
            "        type: afpacket\n"
            "        link: down\n"
            "        state: error: interface 'veth0' does not exist\n"
            "Bridge br1\n"
            "    aging_s: 60\n"
            "    max_macs: 1024\n"
            "    fdb_entries: 0\n");
}

TEST(RenderShow, JsonTreeMergesTheThreeResults) {
  json tree = build_show_tree(sample_config(), sample_bridges(), sample_ports());
  const json& br0 = tree["bridges"][0];
  EXPECT_EQ(br0["name"], "br0");
  EXPECT_EQ(br0["fdb_entries"], 3);
  EXPECT_EQ(br0["ports"][0], json({{"name", "tap0"},
                                   {"type", "tap"},
                                   {"options", {{"ifname", "vsw-tap0"}}},
                                   {"link", "up"},
                                   {"state", "ok"}}));
}

TEST(RenderShow, LivePortsMissingFromTheConfigAreStillShown) {
  json config = json::parse(R"({"bridges": [{"name": "br0", "ports": []}]})");
  json ports = json::parse(R"([{"name": "p9", "type": "tap", "bridge": "br0", "link": "up"}])");
  json tree = build_show_tree(config, json::array(), ports);
  ASSERT_EQ(tree["bridges"][0]["ports"].size(), 1u);
  EXPECT_EQ(tree["bridges"][0]["ports"][0]["name"], "p9");
  EXPECT_EQ(tree["bridges"][0]["ports"][0]["type"], "tap");
}

TEST(RenderShow, NoBridgesSaysSo) {
  json tree = build_show_tree(json::parse(R"({"bridges": []})"), json::array(), json::array());
  EXPECT_EQ(render_show(tree), "no bridges\n");
}

TEST(RenderOptions, PlainValuesBareOthersQuotedKeysSorted) {
  json o = {{"path", "/run/memif.sock"}, {"ifname", "vsw-tap0"}, {"label", "a b"}, {"e", ""}};
  EXPECT_EQ(options_text(o), R"({e="", ifname=vsw-tap0, label="a b", path=/run/memif.sock})");
  EXPECT_EQ(options_text(json::object()), "{}");
}

TEST(RenderPort, ShowsFieldsInOrderThenOptionsDetailsAndStats) {
  json port = json::parse(R"({
    "name": "tap0", "type": "tap", "bridge": "br0", "id": 1, "mtu": 1500, "link": "up",
    "rx_queues": 1, "tx_queues": 1, "options": {"ifname": "vsw-tap0"},
    "details": {"ifindex": 7},
    "stats": {"rx_packets": 10, "tx_drops": {"tx_full": 2}}})");
  EXPECT_EQ(render_port(port),
            "Port tap0\n"
            "    type: tap\n"
            "    bridge: br0\n"
            "    id: 1\n"
            "    link: up\n"
            "    mtu: 1500\n"
            "    rx_queues: 1\n"
            "    tx_queues: 1\n"
            "    options: {ifname=vsw-tap0}\n"
            "    details:\n"
            "        ifindex: 7\n"
            "    stats:\n"
            "        rx_packets: 10\n"
            "        tx_drops:\n"
            "            tx_full: 2\n");
}

TEST(RenderNames, SortedOnePerLine) {
  EXPECT_EQ(render_names(sample_bridges()), "br0\nbr1\n");
  EXPECT_EQ(render_names(json::array()), "");
}

TEST(RenderActions, OnePerLineOrNoChanges) {
  json r = {{"actions", {"add-br br1", "del-port p3"}}};
  EXPECT_EQ(render_actions(r, false), "add-br br1\ndel-port p3\n");
  EXPECT_EQ(render_actions(r, true), "would add-br br1\nwould del-port p3\n");
  EXPECT_EQ(render_actions(json{{"actions", json::array()}}, false), "no changes\n");
}

TEST(RenderFdb, TableSortedByPortThenVlanThenMac) {
  json entries = json::parse(R"([
    {"mac": "02:00:00:00:00:09", "vlan": 0, "port": "veth0", "age_s": 120},
    {"mac": "02:00:00:00:00:01", "vlan": 100, "port": "tap0", "age_s": 5},
    {"mac": "02:00:00:00:00:02", "vlan": 20, "port": "tap0", "age_s": 3},
    {"mac": "02:00:00:00:00:01", "vlan": 20, "port": "tap0", "age_s": 0}])");
  EXPECT_EQ(render_fdb(entries),
            "PORT   VLAN  MAC                AGE_S\n"
            "tap0     20  02:00:00:00:00:01      0\n"
            "tap0     20  02:00:00:00:00:02      3\n"
            "tap0    100  02:00:00:00:00:01      5\n"
            "veth0     0  02:00:00:00:00:09    120\n");
  EXPECT_EQ(render_fdb(json::array()), "PORT  VLAN  MAC  AGE_S\n");
}

TEST(RenderVlan, ModeTagAndTrunks) {
  EXPECT_EQ(vlan_text(json{{"vlan_mode", "access"}, {"tag", 10}, {"trunks", json::array()}}),
            "access tag=10");
  EXPECT_EQ(vlan_text(json{{"vlan_mode", "trunk"}, {"tag", nullptr}, {"trunks", {10, 20}}}),
            "trunk trunks=10,20");
  EXPECT_EQ(vlan_text(json{{"vlan_mode", "native-tagged"}, {"tag", 5}, {"trunks", json::array()}}),
            "native-tagged tag=5 trunks=all");
  EXPECT_EQ(vlan_text(json{{"vlan_mode", "none"}}), "");
  EXPECT_EQ(render_mirrors(json::array()), "no mirrors\n");
  json m = json::parse(R"([{"name": "m0", "bridge": "br0", "select_src_port": ["a", "b"],
    "select_dst_port": [], "select_vlan": [], "output_port": "mon", "packets": 3, "bytes": 180}])");
  EXPECT_EQ(render_mirrors(m),
            "Mirror m0 (bridge br0)\n"
            "    select_src_port: a,b\n"
            "    select_dst_port: -\n"
            "    select_vlan: all\n"
            "    output_port: mon\n"
            "    packets: 3 bytes: 180\n");
}

TEST(RenderStats, TotalsPerPortAndNonZeroDropReasons) {
  json stats = json::parse(R"([
    {"port": "tap0", "rx_packets": 100, "rx_bytes": 6400, "tx_packets": 90, "tx_bytes": 5760,
     "rx_drops": {"no_buffer": 0, "tx_full": 0, "mtu": 0, "invalid": 0},
     "tx_drops": {"no_buffer": 0, "tx_full": 7, "mtu": 1, "invalid": 0}},
    {"port": "veth0", "rx_packets": 0, "rx_bytes": 0, "tx_packets": 0, "tx_bytes": 0,
     "rx_drops": {}, "tx_drops": {}}])");
  EXPECT_EQ(render_stats(stats),
            "PORT   RX_PACKETS  RX_BYTES  RX_DROPS  TX_PACKETS  TX_BYTES  TX_DROPS\n"
            "tap0          100      6400         0          90      5760         8\n"
            "veth0           0         0         0           0         0         0\n"
            "drops:\n"
            "    tap0 tx: mtu=1 tx_full=7\n");
}

TEST(RenderDp, MempoolAndOneRowPerWorker) {
  json dp = json::parse(R"({"tsc_hz": 2400000000,
    "workers": [{"id": 0, "cpu": 2, "poll_mode": "adaptive", "sleeps": 12, "wakeups": 9,
                 "packets": 3200, "batches": 100, "busy_tsc": 250,
                 "idle_tsc": 750, "cycles_per_packet": 85.27,
                 "rx_queues": [{"port": "tap0", "queue": 0}, {"port": "veth0", "queue": 0}]},
                {"id": 1, "cpu": -1, "poll_mode": "busy", "sleeps": 0, "wakeups": 0, "packets": 0, "batches": 0, "busy_tsc": 0, "idle_tsc": 0,
                 "cycles_per_packet": 0, "rx_queues": []}],
    "mempool": {"buffers": 16384, "available": 16000, "buffer_bytes": 2048,
                "hugepages": false}})");
  EXPECT_EQ(render_dp(dp),
            "tsc_hz: 2400000000\n"
            "mempool: 16384 buffers, 16000 available, 2048 bytes each, ordinary memory\n"
            "WORKER  CPU  MODE      PACKETS  BATCHES  CYCLES/PKT   BUSY  SLEEPS  WAKEUPS  RX_QUEUES\n"
            "     0    2  adaptive     3200      100        85.3  25.0%      12        9  tap0:0 veth0:0\n"
            "     1  any  busy            0        0           0      -       0        0  -\n");
}

TEST(RenderMethods, SortedTable) {
  json methods = json::parse(R"([{"method": "fdb.show", "usage": "bridge"},
                                 {"method": "bridge.add", "usage": "name [aging_s]"}])");
  EXPECT_EQ(render_methods(methods),
            "METHOD      USAGE\n"
            "bridge.add  name [aging_s]\n"
            "fdb.show    bridge\n");
}

TEST(RenderRobustness, MissingFieldsRenderAsDashNeverThrow) {
  EXPECT_EQ(scalar_text(nullptr), "-");
  EXPECT_NO_THROW(render_port(json::object()));
  EXPECT_NO_THROW(render_dp(json::array()));
  EXPECT_NO_THROW(render_stats(json::object()));
  EXPECT_EQ(render_fdb(json::parse(R"([{"mac": "02:00:00:00:00:01"}])")),
            "PORT  VLAN  MAC                AGE_S\n"
            "-        -  02:00:00:00:00:01      -\n");
}

TEST(TextTable, PadsShortRowsAndTrimsTrailingSpaces) {
  TextTable t({{"A"}, {"NUM", TextTable::Align::Right}, {"LAST"}});
  t.add_row({"x", "1"});
  t.add_row({"longer", "100", "z"});
  EXPECT_EQ(t.str(),
            "A       NUM  LAST\n"
            "x         1\n"
            "longer  100  z\n");
}

}  // namespace
}  // namespace vsw::cli
