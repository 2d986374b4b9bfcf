// bench/pktgen/main.cc — vsw-pktgen: command line, connection, run, report.
//
//   vsw-pktgen --socket /run/vsw/memif.sock --id 1 --mode tx --size 64 --flows 16 --duration 10
//   vsw-pktgen --socket /run/vsw/memif.sock --id 2 --mode rx --idle 2 --json
//
// Exit status: 0 done, 1 usage or connection error, 2 disconnected by vsw during the run.
#include <cstdio>
#include <thread>

#include <CLI/CLI.hpp>

#include "bench/pktgen/pktgen.h"
#include "common/cpu.h"

namespace {

using vsw::pktgen::Options;

bool parse_mac(const std::string& text, vsw::MacAddress& out) {
  auto m = vsw::MacAddress::parse(text);
  if (!m) return false;
  out = *m;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string mac, dst;
  CLI::App app{"vsw-pktgen: memif traffic generator and sink (tx, rx, ping, pong)"};
  app.add_option("--socket", o.socket, "memif control socket ('@name' = abstract)")
      ->capture_default_str();
  app.add_option("--id", o.id, "memif interface id")->capture_default_str();
  app.add_option("--rx-id", o.rx_id, "txrx: interface id to receive on (its MAC is --dst-mac)");
  app.add_option("--rx-socket", o.rx_socket,
                 "txrx: socket of the receiving interface (default: --socket)");
  app.add_option("--secret", o.secret, "memif secret");
  app.add_option("--if-name", o.if_name, "interface name sent to vsw (names dynamic ports)")
      ->capture_default_str();
  app.add_option("--mode", o.mode, "tx | rx | ping | pong | txrx")
      ->check(CLI::IsMember({"tx", "rx", "ping", "pong", "txrx"}))
      ->capture_default_str();
  app.add_option("--size", o.size, "frame size in bytes, without FCS")
      ->check(CLI::Range(vsw::pktgen::kMinFrame, vsw::pktgen::kMaxFrame))
      ->capture_default_str();
  app.add_option("--flows", o.flows, "flows (IPv4 source and UDP source port vary)")
      ->check(CLI::Range(1u, 65535u))
      ->capture_default_str();
  app.add_flag("--vary-mac", o.vary_mac, "vary the source MAC per flow too");
  app.add_option("--mac", mac, "own MAC (default 02:00:00:00:ID)");
  app.add_option("--dst-mac", dst, "destination MAC (default broadcast)");
  app.add_option("--rate", o.rate_pps, "frames per second, 0 = unlimited")->capture_default_str();
  app.add_option("--count", o.count, "stop after this many frames (tx: sent, rx: received)");
  app.add_option("--duration", o.duration_s, "stop after this many seconds");
  app.add_option("--idle", o.idle_s, "rx/pong: stop this many seconds after the last frame");
  app.add_option("--burst", o.burst, "frames per burst")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--ring-size", o.ring_size, "ring slots (power of two)")->capture_default_str();
  app.add_option("--buffer-size", o.buffer_size, "bytes per buffer")->capture_default_str();
  app.add_flag("--interrupt", o.interrupt, "rx: sleep on the ring eventfd instead of polling");
  app.add_option("--connect-timeout", o.connect_timeout_s, "seconds to keep trying to connect")
      ->capture_default_str();
  app.add_option("--cpu", o.cpu, "pin to this CPU");
  app.add_flag("--json", o.json, "print the summary as JSON on stdout");
  app.add_flag("--quiet", o.quiet, "no per-second progress lines");
  CLI11_PARSE(app, argc, argv);

  o.mac = vsw::MacAddress::from_u64(0x020000000000ull | (o.id & 0xFFFFFFFFull));
  if (!mac.empty() && !parse_mac(mac, o.mac)) {
    std::fprintf(stderr, "vsw-pktgen: bad --mac '%s'\n", mac.c_str());
    return 1;
  }
  if (!dst.empty() && !parse_mac(dst, o.dst)) {
    std::fprintf(stderr, "vsw-pktgen: bad --dst-mac '%s'\n", dst.c_str());
    return 1;
  }
  if (o.ring_size < 2 || o.ring_size > 16384 || (o.ring_size & (o.ring_size - 1)) != 0) {
    std::fprintf(stderr, "vsw-pktgen: --ring-size must be a power of two in 2..16384\n");
    return 1;
  }
  if (o.cpu >= 0) {
    if (auto st = vsw::pin_current_thread(o.cpu); !st) {
      std::fprintf(stderr, "vsw-pktgen: %s\n", st.error().message.c_str());
      return 1;
    }
  }

  vsw::memif::ClientConfig cfg;
  cfg.socket = o.socket;
  cfg.id = o.id;
  cfg.secret = o.secret;
  cfg.app_name = "vsw-pktgen";
  cfg.if_name = o.if_name;
  cfg.log2_ring_size = static_cast<uint8_t>(__builtin_ctz(o.ring_size));
  cfg.buffer_size = o.buffer_size;
  cfg.interrupt_mode = o.interrupt;
  const auto give_up = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(o.connect_timeout_s * 1000));
  // vsw may still be starting: retry while the socket is not there (never after a refusal).
  auto connect = [&](const vsw::memif::ClientConfig& cc) {
    auto client = vsw::memif::Client::connect(cc);
    while (!client && client.error().message.find("refused by server") == std::string::npos &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      client = vsw::memif::Client::connect(cc);
    }
    if (!client) std::fprintf(stderr, "vsw-pktgen: %s\n", client.error().message.c_str());
    return client;
  };
  if (o.mode == "txrx" && o.rx_id < 0) {
    std::fprintf(stderr, "vsw-pktgen: --mode txrx needs --rx-id\n");
    return 1;
  }
  if (o.mode == "txrx" && dst.empty()) {  // the receiving interface's own MAC
    o.dst = vsw::MacAddress::from_u64(0x020000000000ull | static_cast<uint64_t>(o.rx_id));
  }
  auto client = connect(cfg);
  if (!client) return 1;
  vsw::Result<std::unique_ptr<vsw::memif::Client>> rx_client =
      vsw::make_error(vsw::Errc::NotFound, "no rx connection");
  if (o.mode == "txrx") {
    vsw::memif::ClientConfig rc = cfg;
    rc.id = static_cast<uint32_t>(o.rx_id);
    if (!o.rx_socket.empty()) rc.socket = o.rx_socket;
    rc.if_name = o.if_name + "-rx";
    rx_client = connect(rc);
    if (!rx_client) return 1;
  }
  vsw::memif::Client& c = **client;
  if (!o.quiet) {
    std::fprintf(stderr, "vsw-pktgen: connected to %s id %u as %s (%u queue pair(s), ring %u)\n",
                 o.socket.c_str(), o.id, c.peer_if_name().c_str(), c.queue_pairs(), c.ring_size());
  }
  vsw::pktgen::Stats s;
  if (o.mode == "tx") {
    s = vsw::pktgen::run_tx(c, nullptr, o);
  } else if (o.mode == "txrx") {
    s = vsw::pktgen::run_tx(c, rx_client->get(), o);
  } else if (o.mode == "rx") {
    s = vsw::pktgen::run_rx(c, o);
  } else if (o.mode == "ping") {
    s = vsw::pktgen::run_ping(c, o);
  } else {
    s = vsw::pktgen::run_pong(c, o);
  }
  if (o.json) {
    std::printf("%s\n", vsw::pktgen::summary_json(o, s).c_str());
  } else {
    std::fputs(vsw::pktgen::summary_text(o, s).c_str(), stdout);
  }
  std::fflush(stdout);
  return s.disconnected ? 2 : 0;
}
