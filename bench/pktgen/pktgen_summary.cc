// bench/pktgen/pktgen_summary.cc — vsw-pktgen's final report, as text or JSON.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/pktgen/pktgen.h"

namespace vsw::pktgen {

namespace {

double per_s(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

struct Rtt {
  uint32_t min = 0, p50 = 0, p99 = 0, max = 0;
  double avg = 0;
};

Rtt rtt_of(std::vector<uint32_t> v) {
  Rtt r;
  if (v.empty()) return r;
  std::sort(v.begin(), v.end());
  r.min = v.front();
  r.max = v.back();
  r.p50 = v[v.size() / 2];
  r.p99 = v[std::min(v.size() - 1, v.size() * 99 / 100)];
  double sum = 0;
  for (uint32_t x : v) sum += x;
  r.avg = sum / static_cast<double>(v.size());
  return r;
}

}  // namespace

std::string summary_json(const Options& o, const Stats& s) {
  nlohmann::json j;
  j["mode"] = o.mode;
  j["seconds"] = s.seconds;
  j["frame_size"] = o.size;
  j["flows"] = o.flows;
  j["tx"] = {{"frames", s.tx_frames},
             {"bytes", s.tx_bytes},
             {"pps", per_s(s.tx_frames, s.seconds)},
             {"bps", per_s(s.tx_bytes * 8, s.seconds)},
             {"ring_full", s.tx_ring_full}};
  j["rx"] = {{"frames", s.rx_frames},
             {"bytes", s.rx_bytes},
             {"pps", per_s(s.rx_frames, s.seconds)},
             {"bps", per_s(s.rx_bytes * 8, s.seconds)},
             {"ok", s.rx_ok},
             {"lost", s.lost()},
             {"reordered", s.rx_reordered},
             {"corrupt", s.rx_corrupt},
             {"other", s.rx_other},
             {"next_seq", s.next_seq}};
  if (o.mode == "ping") {
    const Rtt r = rtt_of(s.rtt_ns);
    j["ping"] = {{"sent", s.ping_sent},
                 {"lost", s.ping_lost},
                 {"rtt_ns", {{"min", r.min}, {"avg", r.avg}, {"p50", r.p50}, {"p99", r.p99},
                             {"max", r.max}}}};
  }
  j["disconnected"] = s.disconnected;
  if (s.disconnected) j["disconnect_reason"] = s.disconnect_reason;
  return j.dump();
}

std::string summary_text(const Options& o, const Stats& s) {
  std::string out = fmt::format("vsw-pktgen {} summary: {:.3f} s, {} B frames, {} flow(s)\n",
                                o.mode, s.seconds, o.size, o.flows);
  if (s.tx_frames != 0 || o.mode == "tx") {
    out += fmt::format("  tx {} frames {} bytes  {:.3f} Mpps  {:.3f} Gbit/s  (ring full {})\n",
                       s.tx_frames, s.tx_bytes, per_s(s.tx_frames, s.seconds) / 1e6,
                       per_s(s.tx_bytes * 8, s.seconds) / 1e9, s.tx_ring_full);
  }
  if (o.mode != "tx") {
    out += fmt::format(
        "  rx {} frames {} bytes  {:.3f} Mpps  {:.3f} Gbit/s  ok {} lost {} reordered {} "
        "corrupt {} other {}\n",
        s.rx_frames, s.rx_bytes, per_s(s.rx_frames, s.seconds) / 1e6,
        per_s(s.rx_bytes * 8, s.seconds) / 1e9, s.rx_ok, s.lost(), s.rx_reordered, s.rx_corrupt,
        s.rx_other);
  }
  if (o.mode == "ping") {
    const Rtt r = rtt_of(s.rtt_ns);
    out += fmt::format("  ping sent {} lost {}  rtt ns min {} avg {:.0f} p50 {} p99 {} max {}\n",
                       s.ping_sent, s.ping_lost, r.min, r.avg, r.p50, r.p99, r.max);
  }
  if (s.disconnected) out += fmt::format("  disconnected by vsw: {}\n", s.disconnect_reason);
  return out;
}

}  // namespace vsw::pktgen
