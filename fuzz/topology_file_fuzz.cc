// fuzz/topology_file_fuzz.cc — topology files as vswitchd (--config, the state file) and vswctl
// (`apply FILE`) read them, the configuration model they become, and the reconciler that turns
// one model into another (control/config_model.h, control/state_store.h, control/reconciler.h,
// cli/topology_file.h).
//
// Input: the file's bytes; optionally a NUL byte and a second topology (JSON text) playing the
// running configuration that `apply` would change (an invalid or absent one means empty). The
// file is written to a memfd and read back through /proc/self/fd, so both readers see a real
// file without touching the disk.
//
// Checked:
//   * both readers fail with InvalidArgument (never Io, never an exception) on bad content, and
//     vswctl accepts every file vswitchd accepts, with the same model;
//   * a parsed model validates, and survives config_to_json -> text -> config_from_json unchanged;
//   * diff(desired, running) applied to a strict in-memory sink starting from the running model
//     never adds a name still in use nor removes one that is absent, keeps the model valid after
//     every step (unique names, port limit), and ends with exactly the desired bridges, settings
//     and ports (up to order); diff(desired, result) and diff(x, x) are empty (idempotence).
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "cli/topology_file.h"
#include "common/log.h"
#include "control/config_model.h"
#include "control/dispatcher.h"
#include "control/reconciler.h"
#include "control/state_store.h"
#include "fuzz/fuzz_support.h"

namespace {

using namespace vsw;
using namespace vsw::control;
using nlohmann::json;

// An ActionSink over a ConfigModel that refuses every step the reconciler's ordering promises
// never to take (control/reconciler.h).
class ModelSink final : public ActionSink {
 public:
  explicit ModelSink(ConfigModel m) : m_(std::move(m)) {}
  const ConfigModel& model() const { return m_; }

  Status add_bridge(const std::string& name, const BridgeSettings& s) override {
    if (name_used(name)) return make_error(Errc::AlreadyExists, "{} in use", name);
    m_.bridges.push_back(BridgeModel{name, s, {}, {}});
    return checked();
  }
  Status del_bridge(const std::string& name) override {
    auto it = std::find_if(m_.bridges.begin(), m_.bridges.end(),
                           [&](const BridgeModel& b) { return b.name == name; });
    if (it == m_.bridges.end()) return make_error(Errc::NotFound, "no bridge {}", name);
    m_.bridges.erase(it);
    return checked();
  }
  Status set_bridge(const std::string& name, const BridgeSettings& s) override {
    BridgeModel* b = m_.find_bridge(name);
    if (b == nullptr) return make_error(Errc::NotFound, "no bridge {}", name);
    b->settings = s;
    return checked();
  }
  Status add_port(const std::string& bridge, const PortModel& port) override {
    BridgeModel* b = m_.find_bridge(bridge);
    if (b == nullptr) return make_error(Errc::NotFound, "no bridge {}", bridge);
    if (name_used(port.name)) return make_error(Errc::AlreadyExists, "{} in use", port.name);
    b->ports.push_back(port);
    return checked();
  }
  Status del_port(const std::string& name) override {
    for (BridgeModel& b : m_.bridges) {
      auto it = std::find_if(b.ports.begin(), b.ports.end(),
                             [&](const PortModel& p) { return p.name == name; });
      if (it != b.ports.end()) {
        b.ports.erase(it);
        return checked();
      }
    }
    return make_error(Errc::NotFound, "no port {}", name);
  }
  Status set_port_vlan(const std::string& name, const VlanConfig& vlan) override {
    for (BridgeModel& b : m_.bridges) {
      for (PortModel& p : b.ports) {
        if (p.name == name) {
          p.vlan = vlan;
          return checked();
        }
      }
    }
    return make_error(Errc::NotFound, "no port {}", name);
  }
  Status add_mirror(const std::string& bridge, const MirrorConfig& mirror) override {
    BridgeModel* b = m_.find_bridge(bridge);
    if (b == nullptr) return make_error(Errc::NotFound, "no bridge {}", bridge);
    if (b->find_mirror(mirror.name) != nullptr) {
      return make_error(Errc::AlreadyExists, "mirror {} exists", mirror.name);
    }
    b->mirrors.push_back(mirror);
    return checked();
  }
  Status del_mirror(const std::string& bridge, const std::string& name) override {
    BridgeModel* b = m_.find_bridge(bridge);
    if (b == nullptr || b->find_mirror(name) == nullptr) {
      return make_error(Errc::NotFound, "no mirror {}", name);
    }
    std::erase_if(b->mirrors, [&](const MirrorConfig& m) { return m.name == name; });
    return checked();
  }

 private:
  bool name_used(const std::string& name) const {
    return m_.find_bridge(name) != nullptr || m_.find_port(name) != nullptr;
  }
  Status checked() const {
    Status st = validate_config(m_);
    FUZZ_CHECK(st.has_value(), "model invalid during apply: {}", st ? "" : st.error().message);
    return st;
  }
  ConfigModel m_;
};

// Bridges and their ports sorted by name: what `apply` promises, independent of order.
ConfigModel normalized(ConfigModel m) {
  auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  for (BridgeModel& b : m.bridges) std::sort(b.ports.begin(), b.ports.end(), by_name);
  std::sort(m.bridges.begin(), m.bridges.end(), by_name);
  return m;
}

struct FileSlot {
  int fd = -1;
  std::string path;
};

const FileSlot& file_slot() {
  static const FileSlot slot = [] {
    FileSlot s;
    s.fd = ::memfd_create("vsw-topology-fuzz", MFD_CLOEXEC);
    FUZZ_CHECK(s.fd >= 0, "memfd_create: {}", std::strerror(errno));
    s.path = "/proc/self/fd/" + std::to_string(s.fd);
    return s;
  }();
  return slot;
}

void write_file(std::string_view text) {
  const FileSlot& s = file_slot();
  FUZZ_CHECK(::ftruncate(s.fd, 0) == 0, "ftruncate: {}", std::strerror(errno));
  FUZZ_CHECK(::pwrite(s.fd, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()),
             "pwrite: {}", std::strerror(errno));
}

ConfigModel running_from(std::string_view text) {
  if (nesting_exceeds(text, Dispatcher::kMaxDepth)) return {};
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return {};
  auto cfg = config_from_json(j);
  return cfg ? std::move(*cfg) : ConfigModel{};
}

void check_model(const ConfigModel& desired, const ConfigModel& running) {
  Status valid = validate_config(desired);
  FUZZ_CHECK(valid.has_value(), "parsed model invalid: {}", valid ? "" : valid.error().message);

  const json j = config_to_json(desired);
  auto again = config_from_json(json::parse(j.dump()));
  FUZZ_CHECK(again.has_value(), "config_to_json output refused: {}",
             again ? "" : again.error().message);
  FUZZ_CHECK(*again == desired, "model changed through JSON: {}", j.dump());
  FUZZ_CHECK(config_to_json(*again) == j, "config_to_json not stable");

  FUZZ_CHECK(diff(desired, desired).empty(), "diff(x, x) not empty");
  const std::vector<Action> actions = diff(desired, running);
  ModelSink sink(running);
  std::vector<std::string> done;
  Status st = apply(actions, sink, done);
  FUZZ_CHECK(st.has_value(), "apply collided: {}", st ? "" : st.error().message);
  FUZZ_CHECK(done.size() == actions.size(), "{} of {} actions done", done.size(), actions.size());
  FUZZ_CHECK(normalized(sink.model()) == normalized(desired), "apply did not reach the desired "
             "model: {}", config_to_json(sink.model()).dump());
  FUZZ_CHECK(diff(desired, sink.model()).empty(), "second apply would change something");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  vsw::fuzz::init_logs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string_view file = input.substr(0, nul);
  const std::string_view running =
      nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  write_file(file);

  auto doc = cli::read_topology_file(file_slot().path);
  auto cfg = read_topology_file(file_slot().path, "topology file");
  if (!doc) {
    FUZZ_CHECK(doc.error().code == Errc::InvalidArgument && !doc.error().message.empty(),
               "vswctl: {} {}", errc_name(doc.error().code), doc.error().message);
  }
  if (!cfg) {
    FUZZ_CHECK(cfg.error().code == Errc::InvalidArgument && !cfg.error().message.empty(),
               "vswitchd: {} {}", errc_name(cfg.error().code), cfg.error().message);
    return 0;
  }
  FUZZ_CHECK(doc.has_value(), "vswctl refuses a file vswitchd accepts: {}",
             doc.error().message);
  auto via_cli = config_from_json(*doc);
  FUZZ_CHECK(via_cli.has_value() && *via_cli == *cfg, "vswctl's document parses differently");
  check_model(*cfg, running_from(running));
  return 0;
}
