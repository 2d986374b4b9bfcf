// control/dynamic_memif.h — VALE-like dynamic memif ports.
//
// A bridge whose setting `memif_dynamic` names a socket path listens there for memif clients
// whose interface id has no port yet: such a client gets a memif port created on the fly, named
// after the interface name it sent in CONNECT (sanitised to a valid port name), with options
// {socket, id}; the port is deleted again when the client leaves. Off by default.
//
// Dynamic ports belong to the running switch only: they are not part of the configuration model,
// so they are never saved to the state file and `config.apply` neither deletes nor creates them.
// They show in port.list / port.show with "dynamic": true and can be deleted like any port.
//
// Threads: control thread only (the memif socket calls the hooks from the io_context).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/config_model.h"
#include "dataplane/switch.h"
#include "ports/memif/memif_socket.h"
#include "ports/port_factory.h"

namespace vsw::control {

class DynamicMemifPorts {
 public:
  struct Entry {
    std::string bridge;
    PortModel model;
  };
  // `name_taken` says whether a configured bridge or port already uses a name.
  DynamicMemifPorts(Switch& sw, const ports::PortFactory& factory, ports::PortEnv& env,
                    std::function<bool(const std::string&)> name_taken);
  DynamicMemifPorts(const DynamicMemifPorts&) = delete;
  DynamicMemifPorts& operator=(const DynamicMemifPorts&) = delete;

  // Starts (socket non-empty), moves or stops (empty) dynamic ports for `bridge`. Stopping or
  // moving deletes the dynamic ports the old socket made. Errors: the socket cannot be opened.
  Status configure(const std::string& bridge, const std::string& socket);
  // The bridge is going away (its ports are deleted with it by the Switch): forget it.
  void forget_bridge(const std::string& bridge);
  // Deletes a dynamic port (its client is disconnected). NotFound when `name` is not dynamic.
  Status del_port(const std::string& name);

  const std::map<std::string, Entry>& ports() const noexcept { return ports_; }
  const Entry* find(const std::string& name) const;

 private:
  bool create(const std::string& bridge, const std::string& socket, uint32_t id,
              const std::string& if_name);
  void remove(const std::string& name);
  void drop_ports_of(const std::string& bridge);

  Switch& sw_;
  const ports::PortFactory& factory_;
  ports::PortEnv& env_;
  std::function<bool(const std::string&)> name_taken_;
  std::map<std::string, std::unique_ptr<ports::memif::DynamicSocket>> sockets_;  // by bridge
  std::map<std::string, Entry> ports_;                                            // by port name
};

// A valid port name from a memif interface name: keeps A-Z a-z 0-9 _ . -, at most 15
// characters; "memif<id>" when nothing is left.
std::string dynamic_port_name(const std::string& if_name, uint32_t id);

}  // namespace vsw::control
