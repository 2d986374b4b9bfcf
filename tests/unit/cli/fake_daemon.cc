// tests/unit/cli/fake_daemon.cc — see fake_daemon.h.
#include "tests/unit/cli/fake_daemon.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace vsw::cli::testing {

namespace {

// Waits until `fd` is readable or the stop pipe fires; false on stop.
bool wait_readable(int fd, int stop_fd) {
  pollfd p[2] = {{fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
  for (;;) {
    int r = ::poll(p, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || (p[1].revents != 0)) return false;
    if (p[0].revents != 0) return true;
  }
}

}  // namespace

TempDir::TempDir() {
  char tmpl[] = "/tmp/vswctl-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

FakeDaemon::FakeDaemon(Handler handler, size_t chunk_bytes)
    : handler_(std::move(handler)), chunk_bytes_(chunk_bytes) {
  char tmpl[] = "/tmp/vswctl-fake-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  path_ = dir_ + "/vswitchd.sock";
  if (::pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 8) != 0) {
    throw std::runtime_error("cannot listen on " + path_);
  }
  thread_ = std::thread([this] { serve(); });
}

FakeDaemon::~FakeDaemon() {
  char b = 1;
  (void)!::write(stop_pipe_[1], &b, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<nlohmann::json> FakeDaemon::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<std::string> FakeDaemon::raw_lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return raw_lines_;
}

FakeDaemon::Reply FakeDaemon::result(const nlohmann::json& request, const nlohmann::json& result) {
  nlohmann::json r = {
      {"jsonrpc", "2.0"}, {"id", request.value("id", nlohmann::json())}, {"result", result}};
  return Reply{r.dump() + "\n"};
}

FakeDaemon::Reply FakeDaemon::error(const nlohmann::json& request, int code,
                                    const std::string& message, const std::string& errc,
                                    nlohmann::json extra_data) {
  nlohmann::json e = {{"code", code}, {"message", message}};
  if (!errc.empty() || !extra_data.is_null()) {
    nlohmann::json data = extra_data.is_object() ? extra_data : nlohmann::json::object();
    if (!errc.empty()) data["errc"] = errc;
    e["data"] = data;
  }
  nlohmann::json r = {
      {"jsonrpc", "2.0"}, {"id", request.value("id", nlohmann::json())}, {"error", e}};
  return Reply{r.dump() + "\n"};
}

void FakeDaemon::serve() {
  while (wait_readable(listen_fd_, stop_pipe_[0])) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    connections_.fetch_add(1);
    serve_connection(fd);
    ::close(fd);
  }
}

void FakeDaemon::serve_connection(int fd) {
  std::string buf;
  char chunk[4096];
  while (wait_readable(fd, stop_pipe_[0])) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
      if (request.is_discarded()) request = line;
      {
        std::lock_guard<std::mutex> lock(mu_);
        raw_lines_.push_back(line);
        requests_.push_back(request);
      }
      Reply reply = handler_(request);
      if (!write_all(fd, reply.bytes) || reply.close_after) return;
    }
  }
}

bool FakeDaemon::write_all(int fd, const std::string& bytes) {
  size_t step = chunk_bytes_ == 0 ? bytes.size() : chunk_bytes_;
  for (size_t off = 0; off < bytes.size(); off += step) {
    size_t len = std::min(step, bytes.size() - off);
    if (::send(fd, bytes.data() + off, len, MSG_NOSIGNAL) != static_cast<ssize_t>(len)) {
      return false;
    }
    if (chunk_bytes_ != 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace vsw::cli::testing
