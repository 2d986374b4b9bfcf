// tests/support/memif_dump/memif_dump.cc — vsw-memif-dump: connects to vsw as a memif client,
// announces its MAC (so a learning bridge forwards to it as known unicast), and writes every
// frame vsw sends it to a pcap file until it has been idle for --idle seconds after the first
// frame, or --duration seconds have passed. Used by tests/system/test_superframe_to_memif.py.
//
//   vsw-memif-dump --socket S --id N --mac 02:00:00:00:00:42 --pcap out.pcap --idle 2
//
// stdout: the line "ready" once connected and announced (a test waits for it before sending),
// then at exit one JSON object {"frames":N,"bytes":N,"chained":N,"disconnected":bool}.
// Exit status: 0 done, 1 usage / connection / file error, 2 disconnected by vsw.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/ether.h"
#include "ports/memif/client/memif_client.h"
#include "tests/support/memif_dump/pcap_writer.h"

namespace {

using Clock = std::chrono::steady_clock;
using vsw::memif::Buffer;
using vsw::memif::Client;

constexpr uint16_t kAnnounceEtherType = 0x88B5;  // IEEE 802 local experimental EtherType 1
constexpr size_t kMinFrame = 60;

// A broadcast frame from `mac`: a learning switch then knows which port `mac` lives on.
void announce(Client& c, vsw::MacAddress mac) {
  std::byte frame[kMinFrame] = {};
  auto* h = reinterpret_cast<uint8_t*>(frame);
  std::memset(h, 0xFF, 6);
  mac.to_bytes(h + 6);
  h[12] = kAnnounceEtherType >> 8;
  h[13] = kAnnounceEtherType & 0xFF;
  const std::span<const std::byte> f(frame, sizeof(frame));
  c.tx_copy(0, std::span<const std::span<const std::byte>>(&f, 1));
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path, mac_text = "02:00:00:00:00:42", pcap_path;
  uint32_t id = 0;
  double idle_s = 2.0, duration_s = 30.0, connect_timeout_s = 10.0;
  CLI::App app{"vsw-memif-dump: memif client writing received frames to a pcap file"};
  app.add_option("--socket", socket_path, "memif control socket")->required();
  app.add_option("--id", id, "memif interface id")->required();
  app.add_option("--mac", mac_text, "own MAC, announced once a second")->capture_default_str();
  app.add_option("--pcap", pcap_path, "output file")->required();
  app.add_option("--idle", idle_s, "stop this many seconds after the last frame")
      ->capture_default_str();
  app.add_option("--duration", duration_s, "stop after this many seconds in any case")
      ->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout_s, "seconds to keep trying to connect")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  const auto mac = vsw::MacAddress::parse(mac_text);
  if (!mac) {
    std::fprintf(stderr, "vsw-memif-dump: bad --mac '%s'\n", mac_text.c_str());
    return 1;
  }
  auto pcap = vsw::testing::PcapWriter::create(pcap_path);
  if (!pcap) {
    std::fprintf(stderr, "vsw-memif-dump: %s\n", pcap.error().message.c_str());
    return 1;
  }
  vsw::memif::ClientConfig cfg;
  cfg.socket = socket_path;
  cfg.id = id;
  cfg.app_name = "vsw-memif-dump";
  cfg.if_name = "dump";
  cfg.interrupt_mode = true;
  const auto give_up = Clock::now() + std::chrono::milliseconds(
                                          static_cast<int64_t>(connect_timeout_s * 1000));
  auto client = Client::connect(cfg);
  // vsw may still be creating the port: retry while nobody listens (never after a refusal).
  while (!client && client.error().message.find("refused by server") == std::string::npos &&
         Clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    client = Client::connect(cfg);
  }
  if (!client) {
    std::fprintf(stderr, "vsw-memif-dump: %s\n", client.error().message.c_str());
    return 1;
  }
  Client& c = **client;
  announce(c, *mac);
  std::printf("ready\n");
  std::fflush(stdout);

  const auto start = Clock::now();
  auto last_announce = start;
  auto last_rx = Clock::time_point{};
  const auto idle = std::chrono::duration<double>(idle_s);
  const auto duration = std::chrono::duration<double>(duration_s);
  std::vector<std::byte> frame;  // a frame spread over chained buffers, reassembled
  uint64_t frames = 0, bytes = 0, chained = 0;
  bool disconnected = false, write_error = false;
  Buffer bufs[32];
  for (;;) {
    const auto now = Clock::now();
    if (now - start > duration) break;
    if (last_rx != Clock::time_point{} && now - last_rx > idle) break;
    if (!c.poll_control()) {
      disconnected = true;
      break;
    }
    if (now - last_announce > std::chrono::seconds(1)) {
      announce(c, *mac);
      last_announce = now;
    }
    const uint16_t n = c.rx_burst(0, bufs);
    for (uint16_t i = 0; i < n; ++i) {
      const auto* p = bufs[i].data;
      frame.insert(frame.end(), p, p + bufs[i].len);
      if (bufs[i].more) continue;
      if (!pcap->write(frame)) write_error = true;
      ++frames;
      bytes += frame.size();
      if (frame.size() > bufs[i].len) ++chained;
      frame.clear();
    }
    c.rx_release(0, n);
    if (n != 0) {
      last_rx = now;
    } else {
      c.wait_rx(0, std::chrono::milliseconds(50));
    }
  }
  if (!pcap->flush() || write_error) {
    std::fprintf(stderr, "vsw-memif-dump: cannot write '%s'\n", pcap_path.c_str());
    return 1;
  }
  std::printf("%s\n", fmt::format(R"({{"frames":{},"bytes":{},"chained":{},"disconnected":{}}})",
                                  frames, bytes, chained, disconnected)
                          .c_str());
  std::fflush(stdout);
  return disconnected ? 2 : 0;
}
