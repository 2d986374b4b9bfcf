// ports/memif/memif_port.h — port type "memif": a shared-memory packet interface with vsw as the
// server (master), interoperable with DPDK net_memif and libmemif clients (memif.md).
//
//   vswctl add-port br0 app1 --type memif -o id=1 [-o socket=PATH] [-o secret=S] [-o rings=N]
//                                              [-o ring-size=1024] [-o buffer-size=2048] [-o mtu=M]
//
//   client process                         vsw
//   ┌──────────────┐   control socket    ┌──────────────┐  MemifSocket (one per path, shared)
//   │ regions,     │◄──── SEQPACKET ────►│ Session      │  handshake, validation
//   │ rings,       │                     └──────┬───────┘
//   │ buffers      │  shared memory (mmap)  ┌───▼────────┐  Connection (published atomically)
//   │  C2S rings ──┼───── rx_burst ───────►│ MemifPort  │  lends client buffers (zero copy in)
//   │  S2C rings ◄─┼───── tx_burst ────────│            │  copies frames out (the one copy)
//   └──────────────┘                        └────────────┘
//
// Queues: `rings` rx queues and `rings` tx queues. Client C2S ring q is rx queue q (each polled by
// one worker); tx queue q writes S2C ring q % (client's S2C rings), under a ring lock when several
// queues share a ring. A client may use fewer rings than `rings`, never more.
//
// Connection lifetime: the control session publishes a Connection at CONNECT; on disconnect
// (peer closed, DISCONNECT, timeout, violation) the port unpublishes it, waits for the workers'
// grace period (PortEnv::quiescent) and only then unmaps and closes. The port itself, its
// configuration and its counters stay: the same client (or another) may connect again.
//
// Untrusted client: every descriptor, index and length is checked (memif_ring.h); a violation
// is counted (DropReason::Invalid), the fast path stops using the connection at once, and the
// next housekeeping() disconnects the client with the reason (logged once).
#pragma once

#include <memory>

#include "common/result.h"
#include "dataplane/port.h"
#include "ports/port_factory.h"

namespace vsw::ports::memif {

// Creates a memif port from spec.options (id, socket, secret, rings, ring-size, buffer-size,
// mtu); the socket defaults to env.run_dir + "/memif.sock" and is shared with other memif ports
// naming the same path. InvalidArgument for a bad option, AlreadyExists when `id` is taken on the
// socket, Io when the socket cannot be created. Control thread.
Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env);

}  // namespace vsw::ports::memif
