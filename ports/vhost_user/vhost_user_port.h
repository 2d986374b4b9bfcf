// ports/vhost_user/vhost_user_port.h — port type "vhost-user": a VM's virtio-net device (or any
// vhost-user front-end, e.g. DPDK virtio_user) with vsw as the vhost-user back-end.
//
//   vswctl add-port br0 vm1 --type vhost-user -o path=/run/vsw/vm1.sock
//                          [-o mode=client|server] [-o queues=N] [-o mtu=M]
//                          [-o socket-mode=0660] [-o socket-owner=USER] [-o socket-group=GROUP]
//
//   QEMU (front-end)                         vsw (back-end)
//   ┌────────────────┐  Unix socket (stream) ┌───────────────┐ Endpoint: connect/retry or listen
//   │ guest memory   │◄──── requests ───────►│ Session,Device│ handshake, checks, DataPlan
//   │ virtio rings   │                       └──────┬────────┘
//   │  tx vring 2q+1 ┼──── rx_burst(q) ──────► ┌────▼────────┐ lends guest buffers (zero copy in)
//   │  rx vring 2q  ◄┼──── tx_burst(q) ─────── │VhostUserPort│ copies frames in (the one copy)
//   └────────────────┘                         └─────────────┘
//
// Queues: `queues` queue pairs (default 1, at most kMaxQueuePairs; GET_QUEUE_NUM answers it):
// vsw rx queue q is the guest's tx vring 2q+1 (each polled by one worker); vsw tx queue q
// writes the running guest rx ring q % (running rings), under a ring lock when shared.
// Offloads: the guest's TSO/checksum offloads are negotiated (vhost_protocol.h) and carried as
// Packet metadata; the port's offload caps follow what the guest accepts on its rx rings.
// Connection lifetime, checks on the guest and the restart behaviour: docs/ports/vhost-user.md.
#pragma once

#include <memory>

#include "common/result.h"
#include "dataplane/port.h"
#include "ports/port_factory.h"

namespace vsw::ports::vhost_user {

// Control thread. InvalidArgument for a bad option; AlreadyExists / Io when a server-mode
// socket cannot be created at `path`.
Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env);

}  // namespace vsw::ports::vhost_user
