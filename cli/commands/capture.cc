// cli/commands/capture.cc — capture (capture.start, a streaming reply) and list-captures
// (capture.list). docs/capture.md describes the stream; docs/cli.md the verbs.
//
// capture writes the pcap file the daemon streams to -w FILE, to stdout with -w -, or without
// -w prints one line per frame. Each chunk is written (and flushed) as it arrives, so a reader
// such as `tcpdump -r -` sees frames promptly. SIGINT/SIGTERM/SIGHUP stop it cleanly: the file
// ends after the last whole chunk, and closing the connection ends the capture in the daemon.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/capture_summary.h"
#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"

namespace vsw::cli {

namespace {

volatile sig_atomic_t g_stop = 0;
void on_stop_signal(int) { g_stop = 1; }

struct CaptureArgs {
  std::string port;
  std::string direction = "both";
  std::string write_to;  // "" = print summaries, "-" = stdout
  uint64_t count = 0;
  uint32_t snaplen = 65535;
  std::vector<std::string> filter;
};

bool write_all(int fd, const char* p, size_t n) {
  while (n != 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads the chunked stream from `fd` (docs/capture.md "Transport") and hands each pcap chunk to
// `sink`; on the end marker fills `summary` with the daemon's JSON line. Returns false when the
// connection broke before the end marker, or on a signal (`*stopped` = true).
class StreamReader {
 public:
  StreamReader(int fd, std::string buffered) : fd_(fd), buf_(std::move(buffered)) {}

  template <class Sink>
  bool run(Sink&& sink, nlohmann::json& summary, bool* stopped) {
    for (;;) {
      // Whole chunks first.
      for (;;) {
        if (!ended_) {
          if (buf_.size() < 4) break;
          const auto* b = reinterpret_cast<const unsigned char*>(buf_.data());
          const uint32_t len = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 |
                               uint32_t{b[2]} << 8 | uint32_t{b[3]};
          if (len == 0) {
            ended_ = true;
            buf_.erase(0, 4);
            continue;
          }
          if (buf_.size() < 4 + size_t{len}) break;
          if (!sink(std::string_view(buf_).substr(4, len))) return false;
          buf_.erase(0, 4 + size_t{len});
        } else {
          const size_t nl = buf_.find('\n');
          if (nl == std::string::npos) break;
          summary = nlohmann::json::parse(buf_.substr(0, nl), nullptr, false);
          return true;
        }
      }
      if (g_stop != 0) {
        *stopped = true;
        return false;
      }
      pollfd pfd{fd_, POLLIN, 0};
      const int n = ::poll(&pfd, 1, 200);
      if (n < 0 && errno != EINTR) return false;
      if (n <= 0) continue;
      char chunk[65536];
      const ssize_t r = ::read(fd_, chunk, sizeof chunk);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) return false;
      buf_.append(chunk, static_cast<size_t>(r));
    }
  }

 private:
  int fd_;
  std::string buf_;
  bool ended_ = false;
};

int run_capture(Context& c, const CaptureArgs& a) {
  std::string filter;
  for (const std::string& w : a.filter) filter += (filter.empty() ? "" : " ") + w;
  nlohmann::json params = {{"port", a.port}, {"direction", a.direction}, {"snaplen", a.snaplen}};
  if (a.count != 0) params["count"] = a.count;
  if (!filter.empty()) params["filter"] = filter;

  // Open the output before starting the capture: a bad path starts nothing.
  int out_fd = -1;
  bool close_out = false;
  if (a.write_to == "-") {
    out_fd = STDOUT_FILENO;
  } else if (!a.write_to.empty()) {
    out_fd = ::open(a.write_to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
      return c.fail_local("cannot write '" + a.write_to + "': " + std::strerror(errno));
    }
    close_out = true;
  }
  auto reply = c.call("capture.start", params);
  if (!reply) {
    if (close_out) {
      ::close(out_fd);
      ::unlink(a.write_to.c_str());
    }
    return c.fail_call(reply.error());
  }
  std::string buffered;
  const int fd = c.release_connection(buffered);
  if (fd < 0) return c.fail_local("no connection after capture.start");

  ::signal(SIGPIPE, SIG_IGN);
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;  // no SA_RESTART: poll() returns EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  {
    c.err() << "vswctl: capturing on " << a.port << " (" << (*reply)["direction"].get<std::string>()
            << ", snaplen " << (*reply)["snaplen"] << ")" << std::endl;
  }

  bool reader_gone = false;  // the output pipe closed (e.g. tcpdump -c exited)
  CaptureSummarizer summarizer(c.out());
  auto sink = [&](std::string_view bytes) {
    if (out_fd < 0) {
      summarizer.feed(bytes);
      c.out().flush();
      return true;
    }
    if (!write_all(out_fd, bytes.data(), bytes.size())) {
      reader_gone = errno == EPIPE;
      return false;
    }
    return true;
  };
  nlohmann::json summary;
  bool stopped = false;
  StreamReader reader(fd, std::move(buffered));
  const bool complete = reader.run(sink, summary, &stopped);
  ::close(fd);
  if (close_out) ::close(out_fd);

  if (stopped || reader_gone) return to_int(ExitCode::Ok);
  if (!complete) {
    c.err() << "vswctl: the connection to vswitchd closed before the capture ended\n";
    return to_int(ExitCode::NoDaemon);
  }
  const std::string reason = summary.value("reason", "");
  const uint64_t dropped = summary.value("dropped", uint64_t{0});
  if (out_fd != STDOUT_FILENO || dropped != 0) {
    c.err() << "vswctl: " << summary.value("captured", uint64_t{0}) << " frames captured, "
            << dropped << " dropped by the capture (reader too slow)\n";
  }
  if (reason == "count") return to_int(ExitCode::Ok);
  c.err() << "vswctl: capture ended: " << summary.value("message", reason) << '\n';
  return to_int(ExitCode::DaemonError);
}

}  // namespace

void add_capture_verbs(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<CaptureArgs>();
  CLI::App* sub = app.add_subcommand(
      "capture", "Capture a port's frames as pcap (tcpdump -r, Wireshark); FILTER is a tcpdump "
                 "expression evaluated in vswitchd");
  sub->add_option("port", args->port, "the port")->required();
  sub->add_option("--direction", args->direction, "rx, tx or both")
      ->check(CLI::IsMember({"rx", "tx", "both"}))
      ->capture_default_str();
  sub->add_option("-w", args->write_to, "write pcap to FILE, or to stdout with '-'");
  sub->add_option("-c", args->count, "stop after COUNT frames")->check(CLI::PositiveNumber);
  sub->add_option("-s", args->snaplen, "bytes kept per frame (1..65535)")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  sub->add_option("filter", args->filter, "tcpdump filter expression (pcap-filter(7))");
  ctx.add_verb(sub, [args](Context& c) { return run_capture(c, *args); });

  CLI::App* list = app.add_subcommand("list-captures", "Show running captures and their drops");
  ctx.add_verb(list, [](Context& c) {
    return c.call_and_print("capture.list", nlohmann::json::object(), render_captures);
  });
}

}  // namespace vsw::cli
