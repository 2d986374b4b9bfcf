"""Path (c): Open vSwitch's userspace datapath (Debian's openvswitch-switch, no kernel module).

ovsdb-server and ovs-vswitchd run by hand inside their own namespace, with OVS_RUNDIR,
OVS_DBDIR and OVS_LOGDIR in a scratch directory, so their sockets, database, logs and the
datapath's own tap interfaces ("ovs-netdev", the bridge port) never touch the host. The bridge is
`datapath_type=netdev` with `other_config:userspace-tso-enable=true` (set before ovs-vswitchd
starts: it is read once at start-up) and the NORMAL action (MAC learning), like vsw's bridge.

Port kinds that match vsw's:
* tap: `type=internal` ports. On the netdev datapath an internal port is a tap device that
  ovs-vswitchd opens itself (netdev-linux's "tap" class: read/write on the tap fd, with a
  virtio-net header when userspace TSO is on); it is moved into an end namespace, as vsw's taps.
* afpacket: ports on veth outer ends with the default type ("system"): netdev-linux receives
  through an AF_PACKET socket (recvmmsg, PACKET_VNET_HDR with userspace TSO) and sends with
  sendmmsg, as vsw's afpacket port does through its rings.
Non-DPDK ports are served by the main ovs-vswitchd thread (no PMD threads).
"""
import os

from endpoints import Endpoints, address, move_into, subnet, veth_into
from shell import PREFIX, add_namespace, sh, spawn, wait_until

SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"


class OvsSwitch:
    name = "ovs"

    def __init__(self, teardown, workdir, index, kind):
        self.kind = kind
        self.dir = os.path.join(workdir, f"ovs-{kind}")
        os.makedirs(self.dir)
        self.db_sock = os.path.join(self.dir, "db.sock")
        self.vswitchd = None
        os.environ.update(OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir, OVS_LOGDIR=self.dir)
        sw = add_namespace(teardown, f"{index}ov")
        client = add_namespace(teardown, f"{index}ovc")
        server = add_namespace(teardown, f"{index}ovs")
        db = os.path.join(self.dir, "conf.db")
        sh(f"ovsdb-tool create {db} {SCHEMA}")
        spawn(teardown, "ovsdb-server",
              ["ovsdb-server", db, f"--remote=punix:{self.db_sock}",
               f"--unixctl={self.dir}/ovsdb-server.ctl", f"--pidfile={self.dir}/ovsdb-server.pid",
               f"--log-file={self.dir}/ovsdb-server.log"],
              os.path.join(self.dir, "ovsdb-server.out"), netns=sw)
        wait_until(lambda: os.path.exists(self.db_sock), 30, "ovsdb-server's socket")
        self.vsctl("--no-wait init")
        self.vsctl("--no-wait set Open_vSwitch . other_config:userspace-tso-enable=true")
        self.vswitchd = spawn(teardown, "ovs-vswitchd",
                              ["ovs-vswitchd", f"unix:{self.db_sock}",
                               f"--unixctl={self.dir}/ovs-vswitchd.ctl",
                               f"--pidfile={self.dir}/ovs-vswitchd.pid",
                               f"--log-file={self.dir}/ovs-vswitchd.log"],
                              os.path.join(self.dir, "ovs-vswitchd.out"), netns=sw)
        bridge = f"{PREFIX}b"
        self.vsctl(f"add-br {bridge} -- set bridge {bridge} datapath_type=netdev")
        net = subnet(index)
        names = []
        for ns, port, host in ((client, "pc", 1), (server, "ps", 2)):
            ifname = f"{PREFIX}{index}o{port}"
            if kind == "tap":
                self.vsctl(f"add-port {bridge} {ifname} -- set interface {ifname} type=internal")
                wait_until(lambda: sh(f"ip -n {sw} link show {ifname}", check=False)
                           .returncode == 0, 30, f"OVS to create {ifname}")
                move_into(sw, ifname, ns)
                inner = ifname
            else:
                veth_into(sw, ifname, ns)
                self.vsctl(f"add-port {bridge} {ifname}")
                inner = "eth0"
            address(ns, inner, f"{net}.{host}/24")
            names.append(inner)
        self.endpoints = Endpoints(client, server, f"{net}.2", names[0], names[1])
        log = os.path.join(self.dir, "ovs-vswitchd.log")
        wait_until(lambda: "Segmentation Offloading support enabled" in open(log).read(), 10,
                   f"ovs-vswitchd to enable userspace TSO (see {log})")

    def vsctl(self, args):
        """ovs-vsctl against this instance's database (waits for ovs-vswitchd unless --no-wait)."""
        if self.vswitchd is not None and self.vswitchd.poll() is not None:
            raise RuntimeError(f"ovs-vswitchd exited; see {self.dir}/ovs-vswitchd.log")
        return sh(f"ovs-vsctl --db=unix:{self.db_sock} --timeout=30 {args}").stdout

    def describe(self):
        kind = "internal (tap)" if self.kind == "tap" else "system (AF_PACKET) on veth"
        return f"OVS {ovs_version()} userspace datapath, TSO on, two {kind} ports"

    def before_run(self):
        pass

    def after_run(self):
        return {}


def ovs_version():
    return sh("ovs-vswitchd --version").stdout.split()[-1]
