// control/metrics/metrics_text.h — the switch's counters in the Prometheus text exposition
// format (Prometheus "Exposition formats", text format 0.0.4): one HELP and TYPE line per family,
// then one sample per label set.
//
// Families (all names prefixed vsw_):
//   build_info{version}                                   gauge 1
//   port_{rx,tx}_{packets,bytes}_total{bridge,port,type}  counter
//   port_{rx,tx}_drops_total{bridge,port,type,reason}     counter (reason: no_buffer, tx_full, mtu, invalid, vlan)
//   port_link_up{bridge,port,type}                        gauge 0/1
//   worker_{packets,batches}_total{worker}                counter
//   worker_{busy,idle}_cycles_total{worker}               counter (TSC cycles; tsc_hz gives the rate)
//   bridge_macs / bridge_mac_capacity{bridge}             gauge
//   bridge_mac_{learned,moved,aged,full_drops}_total{bridge} counter
//   bridge_{unicast,flooded,hairpin_drops}_total{bridge}   counter
//   mempool_buffers / mempool_buffers_available           gauge
//   tsc_hz                                                gauge
//
// Threads: control thread. Reads the same snapshots as `vswctl stats` and `dp-show` (relaxed
// loads of counters each written by one worker): no lock a worker waits on.
#pragma once

#include <string>
#include <string_view>

namespace vsw {
class Switch;
}

namespace vsw::control::metrics {

std::string render(const Switch& sw, std::string_view version);

// A label value escaped as the text format requires: backslash, double quote and line feed.
std::string escape_label(std::string_view value);

}  // namespace vsw::control::metrics
