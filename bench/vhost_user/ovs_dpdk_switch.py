"""Peer (b): OVS-DPDK (Debian's openvswitch-switch-dpdk, OVS 3.1 on DPDK 22.11) as the switch.

ovsdb-server and /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk run by hand with their
database, sockets and logs in a scratch directory (no systemd). DPDK is initialised with
`dpdk-init=true` and `dpdk-extra="--no-pci --in-memory --single-file-segments --iova-mode=va"`,
one PMD thread on the switch core (`pmd-cpu-mask`), a `datapath_type=netdev` bridge with two
`dpdkvhostuserclient` ports (OVS connects to the tester's sockets and retries) and the OpenFlow
rules in_port=1 -> 2 and in_port=2 -> 1 (no MAC learning: the cheapest forwarding OVS offers).

Cycles per packet: `ovs-appctl dpif-netdev/pmd-stats-show`, "avg processing cycles per
packet" (the PMD's busy cycles only) over the window opened with `pmd-stats-clear`.

`ovs-dpdk-normal` is the same switch with the bridge's default NORMAL action (MAC learning, a
MAC table lookup per frame), the closer match to what vsw does.
"""
import os
import re
import subprocess
import time

from tester import MAC_A, MAC_B

OVS_VSWITCHD_DPDK = "/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk"
SCHEMA = "/usr/share/openvswitch/vswitch.ovsschema"
_CYCLES = re.compile(r"avg processing cycles per packet:\s*([0-9.]+)")


class OvsDpdkSwitch:
    name = "ovs-dpdk"
    listens = False
    learning = False

    def __init__(self, workdir, sockets, core, main_core):
        self.dir = os.path.join(workdir, "ovs")
        os.makedirs(self.dir, exist_ok=True)
        self.sockets = sockets
        self.core = core
        self.db_sock = os.path.join(self.dir, "db.sock")
        self.ctl = os.path.join(self.dir, "ovs-vswitchd.ctl")
        self.procs = []
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_LOGDIR=self.dir)

    def _spawn(self, name, cmd):
        log = open(os.path.join(self.dir, f"{name}.out"), "w")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.procs.append(p)
        return p

    def _run(self, *cmd):
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=60, env=self.env)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} -> {r.returncode}: {r.stderr}\n{self.log()}")
        return r.stdout

    def vsctl(self, *args):
        return self._run("ovs-vsctl", f"--db=unix:{self.db_sock}", "--timeout=60", *args)

    def appctl(self, *args):
        return self._run("ovs-appctl", "-t", self.ctl, *args)

    def log(self):
        try:
            with open(os.path.join(self.dir, "ovs-vswitchd.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def start(self):
        db = os.path.join(self.dir, "conf.db")
        self._run("ovsdb-tool", "create", db, SCHEMA)
        self._spawn("ovsdb-server", ["ovsdb-server", db, f"--remote=punix:{self.db_sock}",
                                     f"--unixctl={self.dir}/ovsdb-server.ctl",
                                     f"--pidfile={self.dir}/ovsdb-server.pid",
                                     f"--log-file={self.dir}/ovsdb-server.log"])
        _wait(lambda: os.path.exists(self.db_sock), 30, "ovsdb-server's socket")
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   f"other_config:pmd-cpu-mask={1 << self.core:#x}",
                   'other_config:dpdk-extra="--no-pci --in-memory --single-file-segments '
                   '--iova-mode=va"')
        self._spawn("ovs-vswitchd", [OVS_VSWITCHD_DPDK, f"unix:{self.db_sock}",
                                     f"--unixctl={self.ctl}",
                                     f"--pidfile={self.dir}/ovs-vswitchd.pid",
                                     f"--log-file={self.dir}/ovs-vswitchd.log"])
        _wait(lambda: os.path.exists(self.ctl), 60, "ovs-vswitchd's control socket")
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        for i, sock in enumerate(self.sockets):
            self.vsctl("add-port", "br0", f"vhu{i}", "--", "set", "Interface", f"vhu{i}",
                       "type=dpdkvhostuserclient", f"options:vhost-server-path={sock}",
                       f"ofport_request={i + 1}")
        if self.learning:
            return  # the bridge's default flow: actions=NORMAL
        self._run("ovs-ofctl", "del-flows", "br0")
        self._run("ovs-ofctl", "add-flow", "br0", "in_port=1,actions=output:2")
        self._run("ovs-ofctl", "add-flow", "br0", "in_port=2,actions=output:1")

    def wait_running(self):
        """Both links up and both rx queues polled by the PMD (`pmd-rxq-show`: enabled)."""
        for i in range(len(self.sockets)):
            _wait(lambda: self.vsctl("get", "Interface", f"vhu{i}", "link_state").strip()
                  == "up", 60, f"vhu{i} link up")
        _wait(lambda: all(any(f"vhu{i}" in line and "(enabled)" in line
                              for line in self.appctl("dpif-netdev/pmd-rxq-show").splitlines())
                          for i in range(len(self.sockets))), 60, "the PMD to poll both ports")

    def window_open(self):
        self.appctl("dpif-netdev/pmd-stats-clear")

    def window_close(self):
        m = _CYCLES.findall(self.appctl("dpif-netdev/pmd-stats-show"))
        if not m:
            return None
        # 0.00: no packet processed. Absurd values (seen: 1.6e14) when the PMD had not yet
        # applied the asynchronous pmd-stats-clear (it was preempted): no figure either.
        value = float(m[-1])
        return value if 0 < value < 1e6 else None

    def check(self):
        if not self.learning:
            return {}
        # "port VLAN MAC Age" rows: A on OpenFlow port 1, B on port 2, nothing else.
        rows = [line.split() for line in self.appctl("fdb/show", "br0").splitlines()[1:]]
        fdb = {r[2]: r[0] for r in rows if len(r) >= 3}

        if fdb != {MAC_A: "1", MAC_B: "2"}:
            raise RuntimeError(f"unexpected OVS MAC table {fdb}")
        return {"fdb_ok": True}

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    kill = stop


class OvsDpdkLearningSwitch(OvsDpdkSwitch):
    """The same OVS-DPDK with the bridge's default NORMAL action: MAC learning, as vsw does."""
    name = "ovs-dpdk-normal"
    learning = True


def _wait(pred, timeout, what):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)
