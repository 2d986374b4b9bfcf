// bench/pktgen/pktgen.h — vsw-pktgen: options, run statistics and the four modes.
//
// vsw-pktgen is to memif ports what netmap's pkt-gen and ixy-pktgen are to NICs: a single-threaded
// busy-polling generator and sink built on the memif client library (docs/memif-client.md).
//   tx    send frames (size, flows, rate, count or duration), sequence-numbered
//   rx    receive and check them: loss, reordering, corruption; announces its MAC each second
//   ping  round-trip latency: one frame at a time, waits for it to come back
//   pong  reflects every frame back to where it came from (swaps the MAC addresses)
//   txrx  tx on --id and rx on --rx-id in one busy loop: generator and sink as one process, so a
//         2-core machine runs the switch on one core and both ends of the test on the other
// Progress: one line per second on stderr; at the end a summary (text, or JSON with --json on
// stdout).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/pktgen/frame_gen.h"
#include "common/ether.h"
#include "ports/memif/client/memif_client.h"

namespace vsw::pktgen {

struct Options {
  // connection
  std::string socket = "/run/vsw/memif.sock";
  uint32_t id = 0;
  int64_t rx_id = -1;                              // txrx: the receiving interface
  std::string rx_socket;                           // txrx: its socket (default: socket)
  std::string secret;
  std::string if_name = "pktgen0";
  uint32_t ring_size = 1024;
  uint32_t buffer_size = 2048;
  bool interrupt = false;
  double connect_timeout_s = 5;
  // traffic
  std::string mode = "tx";
  uint32_t size = 60;
  uint32_t flows = 1;
  bool vary_mac = false;
  MacAddress mac;                                  // own (source) MAC
  MacAddress dst = MacAddress::from_u64(0xFFFFFFFFFFFFull);
  uint64_t rate_pps = 0;                           // 0: as fast as possible
  uint64_t count = 0;                              // 0: no limit
  double duration_s = 0;                           // 0: no limit
  double idle_s = 0;                               // rx/pong: stop this long after the last frame
  uint16_t burst = 32;
  int cpu = -1;
  // output
  bool json = false;
  bool quiet = false;
};

struct Stats {
  double seconds = 0;
  uint64_t tx_frames = 0, tx_bytes = 0, tx_ring_full = 0;
  uint64_t rx_frames = 0, rx_bytes = 0;            // every frame received
  uint64_t rx_ok = 0, rx_corrupt = 0, rx_other = 0, rx_reordered = 0;
  uint64_t next_seq = 0;                           // highest sequence number seen + 1
  uint64_t lost() const noexcept { return next_seq > rx_ok ? next_seq - rx_ok : 0; }
  std::vector<uint32_t> rtt_ns;                    // ping
  uint64_t ping_sent = 0, ping_lost = 0;
  bool disconnected = false;
  std::string disconnect_reason;
};

// Each runs until its stop condition; returns the statistics. Busy-polls the calling thread.
// `rx` (mode txrx): also receive and check on that second connection in the same loop.
Stats run_tx(vsw::memif::Client& c, vsw::memif::Client* rx, const Options& o);
Stats run_rx(vsw::memif::Client& c, const Options& o);
Stats run_ping(vsw::memif::Client& c, const Options& o);
Stats run_pong(vsw::memif::Client& c, const Options& o);

// Human-readable final summary, and the --json form.
std::string summary_text(const Options& o, const Stats& s);
std::string summary_json(const Options& o, const Stats& s);

}  // namespace vsw::pktgen
