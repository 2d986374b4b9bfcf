// control/metrics/listen_address.h — where `vswitchd --metrics-listen ADDR` serves /metrics.
//
// ADDR is a Unix socket path (starts with '/') or a loopback TCP address: 127.0.0.1:PORT,
// 127.x.y.z:PORT, [::1]:PORT or localhost:PORT (= 127.0.0.1). Anything else is refused: the
// endpoint has no authentication, so it is never exposed beyond the host (put a reverse proxy
// or an SSH tunnel in front for remote scraping).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vsw::control::metrics {

struct ListenAddress {
  bool unix_socket = false;
  std::string path;  // unix_socket
  std::string ip;    // TCP: a loopback address literal
  uint16_t port = 0;
  std::string str() const;
};

Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace vsw::control::metrics
