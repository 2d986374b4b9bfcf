// cli/render_tables.cc — vswctl's table outputs (see render.h): fdb-show, stats, dp-show,
// list-methods.
#include "cli/render.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "cli/text_table.h"

namespace vsw::cli {

namespace {

using json = nlohmann::json;
using Align = TextTable::Align;

const json& field(const json& obj, std::string_view key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

// Sum of the numeric values of a {reason: count} object; "-" when absent.
std::string drop_total(const json& drops) {
  if (!drops.is_object()) return "-";
  uint64_t sum = 0;
  for (const auto& [reason, n] : drops.items()) {
    if (n.is_number_unsigned() || n.is_number_integer()) sum += n.get<uint64_t>();
  }
  return std::to_string(sum);
}

// "no_buffer=3 tx_full=1" for the non-zero reasons; empty when all are zero.
std::string nonzero_reasons(const json& drops) {
  std::string out;
  if (!drops.is_object()) return out;
  for (const auto& [reason, n] : drops.items()) {
    if (!n.is_number() || n == 0) continue;
    if (!out.empty()) out += ' ';
    out += reason + "=" + scalar_text(n);
  }
  return out;
}

std::string number_1dp(const json& v) {
  if (v.is_number_float()) return fmt::format("{:.1f}", v.get<double>());
  return scalar_text(v);
}

// Workers that are not pinned report cpu -1.
std::string cpu_text(const json& cpu) {
  if (cpu.is_number_integer() && cpu.get<int64_t>() < 0) return "any";
  return scalar_text(cpu);
}

std::string busy_share(const json& worker) {
  const json& busy = field(worker, "busy_tsc");
  const json& idle = field(worker, "idle_tsc");
  if (!busy.is_number() || !idle.is_number()) return "-";
  double b = busy.get<double>();
  double total = b + idle.get<double>();
  if (total <= 0) return "-";
  return fmt::format("{:.1f}%", 100.0 * b / total);
}

}  // namespace

std::string render_fdb(const json& entries) {
  // Sorted by port, then VLAN (numerically; a missing VLAN first), then MAC.
  std::vector<std::tuple<std::string, int64_t, std::string, std::string>> rows;
  if (entries.is_array()) {
    for (const json& e : entries) {
      const json& vlan = field(e, "vlan");
      rows.emplace_back(scalar_text(field(e, "port")),
                        vlan.is_number_unsigned() ? vlan.get<int64_t>() : -1,
                        scalar_text(field(e, "mac")), scalar_text(field(e, "age_s")));
    }
  }
  std::sort(rows.begin(), rows.end());
  TextTable t({{"PORT"}, {"VLAN", Align::Right}, {"MAC"}, {"AGE_S", Align::Right}});
  for (auto& [port, vlan, mac, age] : rows) {
    t.add_row({port, vlan < 0 ? std::string("-") : std::to_string(vlan), mac, age});
  }
  return t.str();
}

std::string render_stats(const json& stats) {
  TextTable t({{"PORT"},
               {"RX_PACKETS", Align::Right},
               {"RX_BYTES", Align::Right},
               {"RX_DROPS", Align::Right},
               {"TX_PACKETS", Align::Right},
               {"TX_BYTES", Align::Right},
               {"TX_DROPS", Align::Right}});
  std::string reasons;
  if (stats.is_array()) {
    for (const json& s : stats) {
      std::string port = scalar_text(field(s, "port"));
      t.add_row({port, scalar_text(field(s, "rx_packets")), scalar_text(field(s, "rx_bytes")),
                 drop_total(field(s, "rx_drops")), scalar_text(field(s, "tx_packets")),
                 scalar_text(field(s, "tx_bytes")), drop_total(field(s, "tx_drops"))});
      for (const char* dir : {"rx", "tx"}) {
        std::string r = nonzero_reasons(field(s, std::string(dir) + "_drops"));
        if (!r.empty()) reasons += fmt::format("    {} {}: {}\n", port, dir, r);
      }
    }
  }
  std::string out = t.str();
  if (!reasons.empty()) out += "drops:\n" + reasons;
  return out;
}

std::string render_dp(const json& dp) {
  std::string out;
  out += "tsc_hz: " + scalar_text(field(dp, "tsc_hz")) + "\n";
  const json& pool = field(dp, "mempool");
  if (pool.is_object()) {
    const json& huge = field(pool, "hugepages");
    out += fmt::format("mempool: {} buffers, {} available, {} bytes each, {}\n",
                       scalar_text(field(pool, "buffers")), scalar_text(field(pool, "available")),
                       scalar_text(field(pool, "buffer_bytes")),
                       huge.is_boolean() ? (huge.get<bool>() ? "hugepages" : "ordinary memory")
                                         : "hugepages: " + scalar_text(huge));
  }
  TextTable t({{"WORKER", Align::Right},
               {"CPU", Align::Right},
               {"MODE"},
               {"PACKETS", Align::Right},
               {"BATCHES", Align::Right},
               {"CYCLES/PKT", Align::Right},
               {"BUSY", Align::Right},
               {"SLEEPS", Align::Right},
               {"WAKEUPS", Align::Right},
               {"RX_QUEUES"}});
  const json& workers = field(dp, "workers");
  if (workers.is_array()) {
    for (const json& w : workers) {
      std::string queues;
      const json& rxq = field(w, "rx_queues");
      if (rxq.is_array()) {
        for (const json& q : rxq) {
          if (!queues.empty()) queues += ' ';
          queues += scalar_text(field(q, "port")) + ":" + scalar_text(field(q, "queue"));
        }
      }
      t.add_row({scalar_text(field(w, "id")), cpu_text(field(w, "cpu")),
                 scalar_text(field(w, "poll_mode")), scalar_text(field(w, "packets")),
                 scalar_text(field(w, "batches")), number_1dp(field(w, "cycles_per_packet")),
                 busy_share(w), scalar_text(field(w, "sleeps")), scalar_text(field(w, "wakeups")),
                 queues.empty() ? "-" : queues});
    }
  }
  return out + t.str();
}

std::string render_methods(const json& methods) {
  std::vector<std::pair<std::string, std::string>> rows;
  if (methods.is_array()) {
    for (const json& m : methods) {
      if (m.is_string()) {
        rows.emplace_back(m.get<std::string>(), "");
      } else {
        const json& usage = field(m, "usage");
        rows.emplace_back(scalar_text(field(m, "method")),
                          usage.is_null() ? std::string{} : scalar_text(usage));
      }
    }
  }
  std::sort(rows.begin(), rows.end());
  TextTable t({{"METHOD"}, {"USAGE"}});
  for (auto& [method, usage] : rows) t.add_row({method, usage});
  return t.str();
}

}  // namespace vsw::cli
