"""Network namespaces, veth pairs and commands inside them, for system tests.

Every name carries a per-run prefix (vswt<pid>...) and every object is registered with a
Netns registry whose cleanup() removes namespaces, links and processes even when a test fails.
Helpers read like OVS system-traffic tests: add_namespace("a"), add_veth(...), ns_exec(...).
"""
import os
import subprocess
import time

PREFIX = f"vt{os.getpid() % 100000}"


def sh(cmd, check=True, timeout=60, **kw):
    """Runs a shell command; returns CompletedProcess with text output."""
    res = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout, **kw)
    if check and res.returncode != 0:
        raise RuntimeError(f"command failed ({res.returncode}): {cmd}\n{res.stdout}\n{res.stderr}")
    return res


class Netns:
    """Owns the namespaces, links and background processes of one test."""

    def __init__(self):
        self.namespaces = []
        self.links = []
        self.procs = []

    def name(self, short):
        """A kernel-safe unique name (<= 15 chars)."""
        full = f"{PREFIX}{short}"
        assert len(full) <= 15, full
        return full

    def add_namespace(self, short):
        ns = self.name(short)
        sh(f"ip netns add {ns}")
        self.namespaces.append(ns)
        sh(f"ip -n {ns} link set lo up")
        return ns

    def add_veth(self, short, ns, addr, mac=None):
        """A veth pair: <prefix><short> stays in the root namespace (for an afpacket port),
        its peer 'eth0' lives in `ns` with `addr` (CIDR). Default offloads stay ON."""
        outer = self.name(short)
        inner_tmp = self.name(short + "p")
        sh(f"ip link add {outer} type veth peer name {inner_tmp}")
        self.links.append(outer)
        sh(f"ip link set {inner_tmp} netns {ns}")
        sh(f"ip -n {ns} link set {inner_tmp} name eth0")
        if mac:
            sh(f"ip -n {ns} link set eth0 address {mac}")
        sh(f"ip -n {ns} addr add {addr} dev eth0")
        sh(f"ip -n {ns} link set eth0 up")
        sh(f"ip link set {outer} up")
        return outer

    def move_into(self, ifname, ns, addr, wait=10.0):
        """Moves an existing root-namespace interface (e.g. a vsw tap) into `ns`, addressed."""
        deadline = time.time() + wait
        while sh(f"ip link show {ifname}", check=False).returncode != 0:
            if time.time() > deadline:
                raise RuntimeError(f"interface {ifname} did not appear")
            time.sleep(0.05)
        sh(f"ip link set {ifname} netns {ns}")
        sh(f"ip -n {ns} addr add {addr} dev {ifname}")
        sh(f"ip -n {ns} link set {ifname} up")

    def ns_exec(self, ns, cmd, check=True, timeout=60):
        return sh(f"ip netns exec {ns} {cmd}", check=check, timeout=timeout)

    def ns_spawn(self, ns, cmd):
        """Starts a background process inside `ns`; killed at cleanup."""
        p = subprocess.Popen(f"exec ip netns exec {ns} {cmd}", shell=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        return p

    def mac_of(self, ns, ifname):
        return sh(f"cat /sys/class/net/{ifname}/address" if ns is None else
                  f"ip netns exec {ns} cat /sys/class/net/{ifname}/address").stdout.strip()

    def ping(self, ns, addr, count=5, interval=0.2, deadline=20):
        """Returns the packet-loss percentage of a ping run."""
        res = self.ns_exec(ns, f"ping -c {count} -i {interval} -W 2 -w {deadline} {addr}",
                           check=False, timeout=deadline + 10)
        for line in res.stdout.splitlines():
            if "packet loss" in line:
                return float(line.split("%")[0].split()[-1])
        return 100.0

    def wait_ping(self, ns, addr, timeout=15.0):
        """Waits until one ping gets through (ARP, link-up and learning settle)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ns_exec(ns, f"ping -c 1 -W 1 {addr}", check=False).returncode == 0:
                return True
        return False

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(timeout=5)
            except Exception:
                pass
        for link in self.links:
            sh(f"ip link del {link}", check=False)
        for ns in self.namespaces:
            sh(f"ip netns pids {ns} | xargs -r kill -9", check=False)
            sh(f"ip netns del {ns}", check=False)
