// control/metrics/listen_address.cc — parsing and the loopback-only rule.
#include "control/metrics/listen_address.h"

#include <arpa/inet.h>
#include <sys/un.h>

#include <charconv>

namespace vsw::control::metrics {

namespace {

Error usage(std::string_view text, std::string_view why) {
  return make_error(Errc::InvalidArgument,
                    "--metrics-listen '{}': {} (use a Unix socket path, 127.0.0.1:PORT or "
                    "[::1]:PORT)",
                    text, why);
}

}  // namespace

std::string ListenAddress::str() const {
  if (unix_socket) return path;
  return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port)
                                           : fmt::format("{}:{}", ip, port);
}

Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress a;
  if (!text.empty() && text.front() == '/') {
    if (text.size() >= sizeof(sockaddr_un::sun_path)) return usage(text, "socket path too long");
    a.unix_socket = true;
    a.path = std::string(text);
    return a;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return usage(text, "no port");
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return usage(text, "the port must be 1..65535");
  }
  a.port = static_cast<uint16_t>(value);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  a.ip = std::string(host);
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, a.ip.c_str(), &v4) == 1) {
    // RFC 1122 §3.2.1.3: 127.0.0.0/8 is the loopback network.
    if ((ntohl(v4.s_addr) >> 24) != 127) return usage(text, "not a loopback address");
    return a;
  }
  if (::inet_pton(AF_INET6, a.ip.c_str(), &v6) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6)) return usage(text, "not a loopback address");
    return a;
  }
  return usage(text, "not an IP address");
}

}  // namespace vsw::control::metrics
