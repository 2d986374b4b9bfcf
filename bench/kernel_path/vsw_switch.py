"""Path (a): vsw. vswitchd from a build directory runs inside its own namespace with one worker
and one bridge holding two ports of the kind measured:

* tap: vsw creates two tap interfaces (in its namespace); each is moved into an end namespace.
* afpacket: two veth pairs; vsw attaches the outer ends (in its namespace) through AF_PACKET.

After every run the worker's busy cycles per packet over that run are read from `dp.show`
(the difference of busy_tsc and packets before and after the run), and the bytes per packet
from the ports' rx_bytes (`stats`): a "packet" is an MTU frame or a whole super-frame.
"""
import json
import os

from endpoints import Endpoints, address, move_into, subnet, veth_into
from shell import PREFIX, add_namespace, sh, spawn, wait_until


class VswSwitch:
    name = "vsw"

    def __init__(self, teardown, workdir, index, kind, build):
        self.kind = kind
        self.build = build
        self.dir = os.path.join(workdir, f"vsw-{kind}")
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "vswitchd.sock")
        sw = add_namespace(teardown, f"{index}vs")
        client = add_namespace(teardown, f"{index}vsc")
        server = add_namespace(teardown, f"{index}vss")
        vswitchd = os.path.join(build, "daemon", "vswitchd")
        self.proc = spawn(teardown, "vswitchd",
                          [vswitchd, "--socket", self.sock, "--state-file",
                           os.path.join(self.dir, "state.json"), "--run-dir",
                           os.path.join(self.dir, "run"), "--no-hugepages", "--workers", "1"],
                          os.path.join(self.dir, "vswitchd.log"), netns=sw)
        wait_until(self._answers, 30, "vswitchd to answer on its socket")
        self.ctl("add-br", "br0")
        net = subnet(index)
        names = []
        for ns, port, host in ((client, "pc", 1), (server, "ps", 2)):
            ifname = f"{PREFIX}{index}{port}"
            if kind == "tap":
                self.ctl("add-port", "br0", port, "--type", "tap", "-o", f"ifname={ifname}")
                move_into(sw, ifname, ns)
                inner = ifname
            else:
                veth_into(sw, ifname, ns)
                self.ctl("add-port", "br0", port, "--type", "afpacket", "-o", f"ifname={ifname}")
                inner = "eth0"
            address(ns, inner, f"{net}.{host}/24")
            names.append(inner)
        self.endpoints = Endpoints(client, server, f"{net}.2", names[0], names[1])
        self._before = None

    def ctl(self, *args):
        vswctl = os.path.join(self.build, "cli", "vswctl")
        return sh(" ".join([vswctl, "--socket", self.sock] + list(args))).stdout

    def _answers(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"vswitchd exited with {self.proc.returncode}; "
                               f"see {self.dir}/vswitchd.log")
        vswctl = os.path.join(self.build, "cli", "vswctl")
        return sh(f"{vswctl} --socket {self.sock} show", check=False).returncode == 0

    def _counters(self):
        """The worker's dp.show entry, plus the bytes all ports received ("rx_bytes")."""
        worker = json.loads(self.ctl("--json", "dp-show"))["workers"][0]
        worker["rx_bytes"] = sum(p["rx_bytes"] for p in json.loads(self.ctl("--json", "stats")))
        return worker

    def describe(self):
        return f"vsw, one worker, two {self.kind} ports"

    def before_run(self):
        self._before = self._counters()

    def after_run(self):
        """The worker's busy cycles per packet, packets (a super-frame counts as one) and bytes
        per packet during the last run."""
        after = self._counters()
        delta = {k: after[k] - self._before[k] for k in ("packets", "busy_tsc", "rx_bytes")}
        packets = delta["packets"]
        return {"vsw_packets": packets,
                "vsw_cycles_per_packet": delta["busy_tsc"] / packets if packets else 0.0,
                "vsw_bytes_per_packet": delta["rx_bytes"] / packets if packets else 0.0}
