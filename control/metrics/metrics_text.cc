// control/metrics/metrics_text.cc — builds the exposition text from Switch snapshots.
#include "control/metrics/metrics_text.h"

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <vector>

#include "common/tsc.h"
#include "dataplane/switch.h"

namespace vsw::control::metrics {

namespace {

// One metric family: its HELP/TYPE header, then samples appended as `labels value`.
class Family {
 public:
  Family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out), name_(name) {
    fmt::format_to(std::back_inserter(out_), "# HELP vsw_{} {}\n# TYPE vsw_{} {}\n", name, help,
                   name, type);
  }
  void sample(std::string_view labels, uint64_t value) {
    fmt::format_to(std::back_inserter(out_), "vsw_{}{{{}}} {}\n", name_, labels, value);
  }
  void sample(uint64_t value) { fmt::format_to(std::back_inserter(out_), "vsw_{} {}\n", name_, value); }

 private:
  std::string& out_;
  std::string_view name_;
};

std::string port_labels(const PortInfo& p) {
  return fmt::format("bridge=\"{}\",port=\"{}\",type=\"{}\"", escape_label(p.bridge),
                     escape_label(p.name), escape_label(p.type));
}

void render_ports(std::string& out, const std::vector<PortInfo>& ports) {
  std::vector<std::string> labels;
  for (const PortInfo& p : ports) labels.push_back(port_labels(p));
  struct Field {
    const char* name;
    const char* help;
    uint64_t PortStats::*member;
  };
  static constexpr Field kFields[] = {
      {"port_rx_packets_total", "Frames received from the port's peer.", &PortStats::rx_packets},
      {"port_rx_bytes_total", "Bytes received from the port's peer.", &PortStats::rx_bytes},
      {"port_tx_packets_total", "Frames sent to the port's peer.", &PortStats::tx_packets},
      {"port_tx_bytes_total", "Bytes sent to the port's peer.", &PortStats::tx_bytes},
  };
  for (const Field& f : kFields) {
    Family fam(out, f.name, "counter", f.help);
    for (size_t i = 0; i < ports.size(); ++i) fam.sample(labels[i], ports[i].stats.*f.member);
  }
  for (const bool rx : {true, false}) {
    Family fam(out, rx ? "port_rx_drops_total" : "port_tx_drops_total", "counter",
               rx ? "Frames dropped on receive, by reason." : "Frames dropped on transmit, by reason.");
    for (size_t i = 0; i < ports.size(); ++i) {
      const auto& drops = rx ? ports[i].stats.rx_drops : ports[i].stats.tx_drops;
      for (size_t r = 0; r < drops.size(); ++r) {
        fam.sample(fmt::format("{},reason=\"{}\"", labels[i],
                               drop_reason_name(static_cast<DropReason>(r))),
                   drops[r]);
      }
    }
  }
  Family link(out, "port_link_up", "gauge", "1 when the port's link is up.");
  for (size_t i = 0; i < ports.size(); ++i) {
    link.sample(labels[i], ports[i].link == LinkState::Up ? 1 : 0);
  }
}

void render_workers(std::string& out, const std::vector<WorkerInfo>& workers) {
  struct Field {
    const char* name;
    const char* help;
    uint64_t WorkerStats::*member;
  };
  static constexpr Field kFields[] = {
      {"worker_packets_total", "Frames the worker received and forwarded.", &WorkerStats::packets},
      {"worker_batches_total", "Non-empty receive bursts the worker handled.", &WorkerStats::batches},
      {"worker_busy_cycles_total", "TSC cycles spent in polls that moved frames.",
       &WorkerStats::busy_tsc},
      {"worker_idle_cycles_total", "TSC cycles spent in empty polls and sleeps.",
       &WorkerStats::idle_tsc},
      {"worker_sleeps_total", "Times the worker slept waiting for traffic (adaptive polling).",
       &WorkerStats::sleeps},
      {"worker_wakeups_total", "Sleeps ended by traffic (an rx queue's wake-up source fired).",
       &WorkerStats::wakeups},
  };
  for (const Field& f : kFields) {
    Family fam(out, f.name, "counter", f.help);
    for (const WorkerInfo& w : workers) {
      fam.sample(fmt::format("worker=\"{}\"", w.id), w.stats.*f.member);
    }
  }
}

void render_bridges(std::string& out, const std::vector<BridgeInfo>& bridges) {
  std::vector<std::string> labels;
  for (const BridgeInfo& b : bridges) labels.push_back(fmt::format("bridge=\"{}\"", escape_label(b.name)));
  auto each = [&](const char* name, const char* type, const char* help, auto value) {
    Family fam(out, name, type, help);
    for (size_t i = 0; i < bridges.size(); ++i) fam.sample(labels[i], value(bridges[i]));
  };
  each("bridge_macs", "gauge", "Stations in the MAC table.",
       [](const BridgeInfo& b) -> uint64_t { return b.fdb.entries; });
  each("bridge_mac_capacity", "gauge", "MAC table capacity.",
       [](const BridgeInfo& b) -> uint64_t { return b.fdb.max_entries; });
  each("bridge_mac_learned_total", "counter", "Stations learned.",
       [](const BridgeInfo& b) { return b.fdb.learned; });
  each("bridge_mac_moved_total", "counter", "Stations seen moving to another port.",
       [](const BridgeInfo& b) { return b.fdb.moved; });
  each("bridge_mac_aged_total", "counter", "Stations removed by aging.",
       [](const BridgeInfo& b) { return b.fdb.aged; });
  each("bridge_mac_full_drops_total", "counter", "Stations not learned because the table was full.",
       [](const BridgeInfo& b) { return b.fdb.full_drops; });
  each("bridge_unicast_total", "counter", "Frames sent to one learned port.",
       [](const BridgeInfo& b) { return b.counters.unicast; });
  each("bridge_flooded_total", "counter", "Frames flooded (broadcast, multicast, unknown unicast).",
       [](const BridgeInfo& b) { return b.counters.flooded; });
  each("bridge_hairpin_drops_total", "counter",
       "Frames dropped because their destination sits behind their ingress port.",
       [](const BridgeInfo& b) { return b.counters.hairpin_drops; });
}

}  // namespace

std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string render(const Switch& sw, std::string_view version) {
  std::string out;
  out.reserve(16384);
  Family build(out, "build_info", "gauge", "Always 1; the version is a label.");
  build.sample(fmt::format("version=\"{}\"", escape_label(version)), 1);
  render_ports(out, sw.ports());
  render_workers(out, sw.workers());
  render_bridges(out, sw.bridges());
  Family buffers(out, "mempool_buffers", "gauge", "Packet buffers in the mempool.");
  buffers.sample(sw.mempool().capacity());
  Family available(out, "mempool_buffers_available", "gauge",
                   "Packet buffers free (approximate: includes per-worker caches).");
  available.sample(sw.mempool().available());
  Family hz(out, "tsc_hz", "gauge", "TSC ticks per second (the unit of the cycle counters).");
  hz.sample(tsc_hz());
  return out;
}

}  // namespace vsw::control::metrics
