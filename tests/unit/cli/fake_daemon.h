// tests/unit/cli/fake_daemon.h — a tiny stand-in for vswitchd's control socket, for vswctl tests.
//
// Listens on a Unix socket in a fresh temporary directory and serves one connection at a time on
// a background thread: every '\n'-terminated request line is parsed and handed to the handler,
// whose Reply is written back (optionally in small chunks, to exercise client-side framing).
// No root, no daemon, no network.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace vsw::cli::testing {

class FakeDaemon {
 public:
  struct Reply {
    std::string bytes;         // written as is; empty = say nothing
    bool close_after = false;  // hang up after writing
  };
  using Handler = std::function<Reply(const nlohmann::json& request)>;

  // Starts listening at once; socket_path() is connectable when the constructor returns.
  explicit FakeDaemon(Handler handler, size_t chunk_bytes = 0);
  ~FakeDaemon();
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  const std::string& socket_path() const { return path_; }
  // Every request line received so far, parsed (a line that is not JSON is stored as a string).
  std::vector<nlohmann::json> requests() const;
  std::vector<std::string> raw_lines() const;
  int connections() const { return connections_.load(); }

  // A success reply line for `request` ({"jsonrpc":"2.0","id":<its id>,"result":result}\n).
  static Reply result(const nlohmann::json& request, const nlohmann::json& result);
  // An error reply line with the docs/rpc.md shape; `errc` empty = no data member.
  static Reply error(const nlohmann::json& request, int code, const std::string& message,
                     const std::string& errc = "", nlohmann::json extra_data = nullptr);

 private:
  void serve();
  void serve_connection(int fd);
  bool write_all(int fd, const std::string& bytes);

  Handler handler_;
  size_t chunk_bytes_;
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<nlohmann::json> requests_;
  std::vector<std::string> raw_lines_;
  std::thread thread_;
};

// A fresh temporary directory (mkdtemp under /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace vsw::cli::testing
