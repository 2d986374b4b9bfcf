// dataplane/switch_mirror.cc — the Switch's VLAN settings of ports and its mirrors; every change
// publishes a new Topology (switch.cc).
#include <algorithm>

#include "common/log.h"
#include "dataplane/switch.h"
#include "dataplane/switch_entries.h"

namespace vsw {

Status Switch::set_port_vlan(const std::string& name, const VlanConfig& vlan) {
  if (Status s = validate_vlan_config(vlan); !s) return s;
  std::lock_guard guard(mu_);
  auto it = ports_.find(name);
  if (it == ports_.end()) return make_error(Errc::NotFound, "port '{}' does not exist", name);
  PortEntry& e = *it->second;
  if (e.vlan == vlan) return ok();
  e.vlan = vlan;
  publish_locked();
  // Entries learned under the old settings may name VLANs the port no longer carries.
  bridges_.at(e.bridge)->bridge->fdb().flush_port(e.port->id());
  log::port().info("port vlan changed port={} vlan_mode={} tag={} trunks={}", name,
                   vlan_mode_name(vlan.mode), vlan.tag, format_vid_list(vlan.trunks));
  return ok();
}

Result<std::unique_ptr<Mirror>> Switch::make_mirror_locked(const BridgeEntry& b,
                                                           const MirrorConfig& cfg) const {
  auto port_id = [&](const std::string& p, const char* role) -> Result<PortId> {
    auto it = ports_.find(p);
    if (it == ports_.end() || it->second->bridge != b.bridge->name()) {
      return make_error(Errc::NotFound, "mirror '{}': {} port '{}' is not on bridge '{}'", cfg.name,
                        role, p, b.bridge->name());
    }
    return it->second->port->id();
  };
  if (cfg.src_ports.empty() && cfg.dst_ports.empty() && cfg.vlans.empty()) {
    return make_error(Errc::InvalidArgument,
                      "mirror '{}' selects nothing: give source ports, destination ports or VLANs",
                      cfg.name);
  }
  auto out = port_id(cfg.output_port, "output");
  if (!out) return out.error();
  auto m = std::make_unique<Mirror>(cfg, b.bridge.get(), *out);
  for (const auto& [list, role] : {std::pair{&cfg.src_ports, "source"},
                                   std::pair{&cfg.dst_ports, "destination"}}) {
    for (const std::string& p : *list) {
      if (p == cfg.output_port) {
        return make_error(Errc::InvalidArgument,
                          "mirror '{}': output port '{}' cannot also be a selected {} port",
                          cfg.name, p, role);
      }
      auto id = port_id(p, role);
      if (!id) return id.error();
      for (const auto& other : b.mirrors) {
        if (other->config().name != cfg.name && other->config().output_port == p) {
          return make_error(Errc::InvalidArgument,
                            "mirror '{}': port '{}' is the output port of mirror '{}'", cfg.name,
                            p, other->config().name);
        }
      }
      if (list == &cfg.src_ports) {
        m->select_src(*id);
      } else {
        m->select_dst(*id);
      }
    }
  }
  for (const auto& other : b.mirrors) {
    if (other->config().name == cfg.name) continue;
    const MirrorConfig& o = other->config();
    if (std::count(o.src_ports.begin(), o.src_ports.end(), cfg.output_port) != 0 ||
        std::count(o.dst_ports.begin(), o.dst_ports.end(), cfg.output_port) != 0) {
      return make_error(Errc::InvalidArgument,
                        "mirror '{}': output port '{}' is selected by mirror '{}'", cfg.name,
                        cfg.output_port, o.name);
    }
  }
  for (uint16_t v : cfg.vlans) {
    if (v < kMinVid || v > kMaxVid) {
      return make_error(Errc::InvalidArgument, "mirror '{}': VLAN {} is outside {}..{}", cfg.name,
                        v, kMinVid, kMaxVid);
    }
    m->select_vlan(v);
  }
  return m;
}

Status Switch::add_mirror(const std::string& bridge, const MirrorConfig& cfg) {
  std::lock_guard guard(mu_);
  auto it = bridges_.find(bridge);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  BridgeEntry& b = *it->second;
  for (const auto& m : b.mirrors) {
    if (m->config().name == cfg.name) {
      return make_error(Errc::AlreadyExists, "bridge '{}' already has a mirror '{}'", bridge,
                        cfg.name);
    }
  }
  auto m = make_mirror_locked(b, cfg);
  if (!m) return m.error();
  const PortId output = (*m)->output();
  b.mirrors.push_back(std::move(*m));
  publish_locked();
  b.bridge->fdb().flush_port(output);  // it takes no part in forwarding any more
  log::bridge().info("mirror added bridge={} mirror={} output={}", bridge, cfg.name,
                     cfg.output_port);
  return ok();
}

Status Switch::del_mirror(const std::string& bridge, const std::string& name) {
  std::lock_guard guard(mu_);
  auto it = bridges_.find(bridge);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  BridgeEntry& b = *it->second;
  auto mit = std::find_if(b.mirrors.begin(), b.mirrors.end(),
                          [&](const auto& m) { return m->config().name == name; });
  if (mit == b.mirrors.end()) {
    return make_error(Errc::NotFound, "bridge '{}' has no mirror '{}'", bridge, name);
  }
  std::unique_ptr<Mirror> gone = std::move(*mit);
  b.mirrors.erase(mit);
  publish_locked();  // no worker reads `gone` after this
  log::bridge().info("mirror deleted bridge={} mirror={}", bridge, name);
  return ok();
}

Result<std::vector<MirrorInfo>> Switch::mirrors(const std::string& bridge) const {
  std::lock_guard guard(mu_);
  auto it = bridges_.find(bridge);
  if (it == bridges_.end()) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  std::vector<MirrorInfo> out;
  for (const auto& m : it->second->mirrors) out.push_back(MirrorInfo{m->config(), m->counters()});
  return out;
}

std::vector<std::unique_ptr<Mirror>> Switch::forget_port_in_mirrors_locked(
    BridgeEntry& b, const std::string& port) {
  std::vector<std::unique_ptr<Mirror>> old;
  std::vector<std::unique_ptr<Mirror>> kept;
  for (auto& m : b.mirrors) {
    MirrorConfig cfg = m->config();
    const bool output = cfg.output_port == port;
    const size_t before = cfg.src_ports.size() + cfg.dst_ports.size();
    std::erase(cfg.src_ports, port);
    std::erase(cfg.dst_ports, port);
    if (!output && cfg.src_ports.size() + cfg.dst_ports.size() == before) {
      kept.push_back(std::move(m));
      continue;
    }
    if (!output && (!cfg.src_ports.empty() || !cfg.dst_ports.empty() || !cfg.vlans.empty())) {
      auto fresh = make_mirror_locked(b, cfg);  // valid: a subset of a valid selection
      if (fresh) {
        (*fresh)->inherit(m->counters());
        kept.push_back(std::move(*fresh));
      }
    }
    log::bridge().info("mirror {} bridge={} mirror={} port={}",
                       output ? "deleted with its output port" : "lost a port", b.bridge->name(),
                       cfg.name, port);
    old.push_back(std::move(m));
  }
  b.mirrors = std::move(kept);
  return old;
}

}  // namespace vsw
