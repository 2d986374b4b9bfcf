// tests/unit/control/metrics_test.cc — the metrics endpoint's address rules, label escaping,
// and the exposition text of a real Switch (loopback ports, workers not started): every family
// has HELP and TYPE, every port and reason has a sample, values follow the counters.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "control/metrics/listen_address.h"
#include "control/metrics/metrics_text.h"
#include "dataplane/switch.h"
#include "ports/ring/ring_port.h"

namespace vsw::control::metrics {
namespace {

TEST(ListenAddress, AcceptsLoopbackAndUnixSockets) {
  auto a = parse_listen_address("127.0.0.1:9477");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_FALSE(a->unix_socket);
  EXPECT_EQ(a->ip, "127.0.0.1");
  EXPECT_EQ(a->port, 9477);
  EXPECT_EQ(a->str(), "127.0.0.1:9477");
  auto b = parse_listen_address("[::1]:80");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ip, "::1");
  EXPECT_EQ(b->str(), "[::1]:80");
  auto c = parse_listen_address("localhost:1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ip, "127.0.0.1");
  EXPECT_TRUE(parse_listen_address("127.8.9.10:5"));
  auto u = parse_listen_address("/run/vsw/metrics.sock");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->unix_socket);
  EXPECT_EQ(u->path, "/run/vsw/metrics.sock");
}

TEST(ListenAddress, RefusesWhatWouldExposeMetricsOrCannotWork) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {Case{"0.0.0.0:9100", "not a loopback address"},
                        Case{"10.1.2.3:9100", "not a loopback address"},
                        Case{"[::]:9100", "not a loopback address"},
                        Case{"[2001:db8::1]:9100", "not a loopback address"},
                        Case{"127.0.0.1", "no port"},
                        Case{"127.0.0.1:0", "1..65535"},
                        Case{"127.0.0.1:65536", "1..65535"},
                        Case{"127.0.0.1:9x", "1..65535"},
                        Case{"metrics.example:9100", "not an IP address"},
                        Case{"relative/path.sock", "no port"}}) {
    auto r = parse_listen_address(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
    EXPECT_NE(r.error().message.find(c.why), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.text), std::string::npos) << r.error().message;
  }
  EXPECT_FALSE(parse_listen_address("/" + std::string(200, 'x')));
}

TEST(MetricsText, EscapesLabelValues) {
  EXPECT_EQ(escape_label("plain"), "plain");
  EXPECT_EQ(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

class MetricsTextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SwitchConfig sc;
    sc.pool.buffers = 1024;
    sc.pool.hugepages = false;
    auto sw = Switch::create(sc);
    ASSERT_TRUE(sw) << sw.error().message;
    sw_ = std::move(*sw);
    ASSERT_TRUE(sw_->add_bridge("br0", {}));
    for (const char* name : {"p0", "p\"1"}) {
      ASSERT_TRUE(sw_->add_port("br0", name, [&](PortId id) -> Result<std::unique_ptr<Port>> {
        auto port = std::make_unique<ports::ring::LoopbackPort>(name, id, 64, kDefaultMtu, sw_->mempool());
        ports_.push_back(port.get());
        return std::unique_ptr<Port>(std::move(port));
      }));
    }
  }
  std::unique_ptr<Switch> sw_;
  std::vector<Port*> ports_;
};

TEST_F(MetricsTextTest, EveryFamilyIsDeclaredAndEverySampleParses) {
  ports_[0]->counters().rx(0).packets.add(7);
  ports_[0]->counters().rx(0).bytes.add(700);
  ports_[0]->counters().tx(0).drops[static_cast<size_t>(DropReason::TxFull)].add(3);
  const std::string text = render(*sw_, "1.2.3");
  const std::regex help(R"(^# HELP (vsw_[a-z_]+) .+$)");
  const std::regex type(R"(^# TYPE (vsw_[a-z_]+) (counter|gauge)$)");
  const std::regex sample(R"(^(vsw_[a-z_]+)(\{([a-z_]+="([^"\\]|\\.)*",?)+\})? [0-9]+$)");
  std::set<std::string> declared;
  std::map<std::string, std::string> samples;
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, help)) continue;
    if (std::regex_match(line, m, type)) {
      EXPECT_TRUE(declared.insert(m[1]).second) << "family declared twice: " << m[1];
      continue;
    }
    ASSERT_TRUE(std::regex_match(line, m, sample)) << "not a sample: " << line;
    EXPECT_TRUE(declared.count(m[1])) << "sample before its TYPE: " << line;
    samples[line.substr(0, line.rfind(' '))] = line.substr(line.rfind(' ') + 1);
  }
  const std::string p0 = "bridge=\"br0\",port=\"p0\",type=\"loopback\"";
  EXPECT_EQ(samples["vsw_build_info{version=\"1.2.3\"}"], "1");
  EXPECT_EQ(samples["vsw_port_rx_packets_total{" + p0 + "}"], "7");
  EXPECT_EQ(samples["vsw_port_rx_bytes_total{" + p0 + "}"], "700");
  EXPECT_EQ(samples["vsw_port_tx_drops_total{" + p0 + ",reason=\"tx_full\"}"], "3");
  EXPECT_EQ(samples["vsw_port_tx_drops_total{" + p0 + ",reason=\"no_buffer\"}"], "0");
  // The quote in the second port's name is escaped, so the line still parses (above).
  EXPECT_EQ(samples["vsw_port_rx_packets_total{bridge=\"br0\",port=\"p\\\"1\",type=\"loopback\"}"],
            "0");
  EXPECT_EQ(samples["vsw_bridge_mac_capacity{bridge=\"br0\"}"], "8192");
  EXPECT_EQ(samples["vsw_mempool_buffers"], "1024");
  EXPECT_EQ(samples["vsw_worker_packets_total{worker=\"0\"}"], "0");
  for (const char* family : {"vsw_port_link_up", "vsw_bridge_macs", "vsw_bridge_mac_learned_total",
                             "vsw_bridge_flooded_total", "vsw_worker_busy_cycles_total",
                             "vsw_mempool_buffers_available", "vsw_tsc_hz"}) {
    EXPECT_TRUE(declared.count(family)) << family;
  }
}

}  // namespace
}  // namespace vsw::control::metrics
