// tests/models/model_wire.cc — tap creation (Documentation/networking/tuntap.rst) and the
// engine thread.
#include "tests/models/model_wire.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vsw::tests::models {

Result<std::unique_ptr<ModelWire>> ModelWire::open(IxgbeModel& model, const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    return make_error(Errc::InvalidArgument, "model wire: tap name '{}' must be 1..15 characters",
                      name);
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return make_sys_error(Errc::Unavailable, errno, "model wire: open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    const int e = errno;
    ::close(fd);
    return make_sys_error(Errc::Unavailable, e, "model wire: TUNSETIFF " + name);
  }
  const int ev = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ev < 0) {
    const int e = errno;
    ::close(fd);
    return make_sys_error(Errc::Unavailable, e, "model wire: eventfd");
  }
  return std::unique_ptr<ModelWire>(new ModelWire(model, name, fd, ev));
}

ModelWire::ModelWire(IxgbeModel& m, std::string name, int tap, int event)
    : model_(m), name_(std::move(name)), tap_(tap), event_(event) {
  const int ev = event_;
  model_.set_doorbell([ev] {
    const uint64_t one = 1;
    (void)!::write(ev, &one, sizeof one);
  });
  thread_ = std::thread([this] { run(); });
}

ModelWire::~ModelWire() {
  model_.set_doorbell(nullptr);
  stop_.store(true);
  const uint64_t one = 1;
  (void)!::write(event_, &one, sizeof one);
  thread_.join();
  ::close(tap_);
  ::close(event_);
}

void ModelWire::flush_tx() {
  std::vector<std::vector<uint8_t>> frames;
  model_.transmit(frames);
  for (const auto& f : frames) (void)!::write(tap_, f.data(), f.size());
}

void ModelWire::run() {
  std::vector<uint8_t> buf(65536);
  while (!stop_.load()) {
    pollfd fds[2] = {{event_, POLLIN, 0},
                     {tap_, static_cast<short>(pending_.empty() ? POLLIN : 0), 0}};
    // The timeout only bounds how long a held frame or a link/reset timer waits for a doorbell.
    ::poll(fds, 2, 5);
    uint64_t count;
    (void)!::read(event_, &count, sizeof count);
    flush_tx();
    if (!pending_.empty()) {
      if (model_.receive(pending_) == RxOutcome::Stalled) continue;
      pending_.clear();
    }
    for (int i = 0; i < 64; ++i) {
      const ssize_t n = ::read(tap_, buf.data(), buf.size());
      if (n <= 0) break;
      const std::span<const uint8_t> frame(buf.data(), static_cast<size_t>(n));
      if (model_.receive(frame) == RxOutcome::Stalled) {
        pending_.assign(frame.begin(), frame.end());
        break;
      }
    }
    flush_tx();
  }
}

}  // namespace vsw::tests::models
