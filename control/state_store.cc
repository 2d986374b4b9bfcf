// control/state_store.cc — atomic save (tmp + fsync + rename + fsync dir) and strict load.
#include "control/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "control/dispatcher.h"

namespace vsw::control {

namespace fs = std::filesystem;

namespace {

// Closes a descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

Status write_all(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_sys_error(Errc::Io, errno, fmt::format("cannot write '{}'", path.string()));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

}  // namespace

Result<ConfigModel> read_topology_file(const fs::path& file, std::string_view what) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int err = errno;
    return make_sys_error(err == ENOENT ? Errc::NotFound : Errc::Io, err,
                          fmt::format("cannot open {} '{}'", what, file.string()));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("cannot stat {} '{}'", what, file.string()));
  }
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::InvalidArgument, "{} '{}' is not a regular file", what, file.string());
  }
  if (static_cast<size_t>(st.st_size) > StateStore::kMaxFileBytes) {
    return make_error(Errc::InvalidArgument, "{} '{}' is larger than {} bytes", what, file.string(),
                      StateStore::kMaxFileBytes);
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_sys_error(Errc::Io, errno,
                            fmt::format("cannot read {} '{}'", what, file.string()));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > StateStore::kMaxFileBytes) {
      return make_error(Errc::InvalidArgument, "{} '{}' is larger than {} bytes", what,
                        file.string(), StateStore::kMaxFileBytes);
    }
  }

  if (nesting_exceeds(text, Dispatcher::kMaxDepth)) {
    return make_error(Errc::InvalidArgument, "{} '{}' is corrupt: JSON nested too deeply", what,
                      file.string());
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return make_error(Errc::InvalidArgument, "{} '{}' is corrupt: {}", what, file.string(),
                      e.what());
  }
  auto cfg = config_from_json(j);
  if (!cfg) {
    return make_error(Errc::InvalidArgument, "{} '{}' is invalid: {}", what, file.string(),
                      cfg.error().message);
  }
  return std::move(*cfg);
}

Result<std::optional<ConfigModel>> StateStore::load() const {
  auto cfg = read_topology_file(file_, "state file");
  if (!cfg) {
    if (cfg.error().code == Errc::NotFound) return std::optional<ConfigModel>{};
    Error e = std::move(cfg).error();
    e.message +=
        "; the daemon will not overwrite it: repair or remove it, or start with "
        "--ignore-state";
    return e;
  }
  return std::optional<ConfigModel>(std::move(*cfg));
}

Status StateStore::save(const ConfigModel& cfg) const {
  const fs::path dir = file_.has_parent_path() ? file_.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return make_sys_error(Errc::Io, ec.value(),
                          fmt::format("cannot create state directory '{}'", dir.string()));
  }
  const fs::path tmp = dir / ("." + file_.filename().string() + ".tmp");
  const std::string text = config_to_json(cfg).dump(2) + "\n";

  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (fd.get() < 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("cannot create '{}'", tmp.string()));
  }
  Status st = write_all(fd.get(), text, tmp);
  if (st && ::fsync(fd.get()) != 0) {
    st = make_sys_error(Errc::Io, errno, fmt::format("cannot fsync '{}'", tmp.string()));
  }
  if (::close(fd.release()) != 0 && st) {
    st = make_sys_error(Errc::Io, errno, fmt::format("cannot close '{}'", tmp.string()));
  }
  if (st && ::rename(tmp.c_str(), file_.c_str()) != 0) {
    st = make_sys_error(Errc::Io, errno,
                        fmt::format("cannot rename '{}' to '{}'", tmp.string(), file_.string()));
  }
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename is durable only once the directory entry is on disk.
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() < 0 || ::fsync(dfd.get()) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("cannot fsync '{}'", dir.string()));
  }
  return ok();
}

}  // namespace vsw::control
