// ports/port_factory.h — the explicit table from a port type name to its constructor.
// No static-initialisation registration: adding a port type means adding one line to the table
// in port_factory.cc, so a reader sees every type in one place.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "common/result.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "dataplane/quiescent.h"
#include "ports/port_options.h"

namespace vsw::ports {

// What a port may use from the daemon. Lives as long as the daemon.
struct PortEnv {
  Mempool& pool;                     // packet buffers for received frames
  boost::asio::io_context& io;       // the control thread's event loop (peer sockets, timers)
  std::string run_dir;               // e.g. /run/vsw: default place for sockets
  uint16_t workers = 1;              // number of dataplane workers
  // Workers' grace periods: a port that swaps state the fast path reads (e.g. a memif
  // connection) calls quiescent->synchronize() before freeing the old state.
  QuiescentDomain* quiescent = nullptr;
};

// A type's constructor: validates spec.options (unknown keys are an InvalidArgument error that
// names the key and lists the valid ones) and creates the port with id `id`.
using PortCreateFn = Result<std::unique_ptr<Port>> (*)(const PortSpec& spec, PortId id,
                                                        PortEnv& env);

struct PortType {
  std::string_view name;
  std::string_view summary;          // one line for help output
  PortCreateFn create;
};

class PortFactory {
 public:
  PortFactory();
  // Control thread. NotFound for an unknown type (the message lists the known ones).
  Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env) const;
  const std::vector<PortType>& types() const noexcept { return types_; }
  bool has_type(std::string_view name) const noexcept;
  // Adds a type after the built-in ones (test programs: tests/models/vswitchd-model adds
  // ixgbe-model). AlreadyExists when the name is taken. Control thread, before ports exist.
  Status add_type(PortType type);
  // "tap, afpacket, ..." for error messages.
  std::string type_list() const;

 private:
  std::vector<PortType> types_;
};

}  // namespace vsw::ports
