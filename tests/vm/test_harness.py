"""Self-test of the VM harness (tests/vm/guest.py) against a peer nobody here wrote.

Two guests, each with one 2-queue vhost-user NIC, are wired together by dpdk-testpmd: two
`net_vhost` ports in io-forward mode, which is a plain wire (port 0 <-> port 1, queue i <->
queue i). Guest a uses the back-end's client mode (QEMU listens, `server=on,wait=off`; testpmd
connects with client=1), guest b its server mode (testpmd listens, QEMU connects), so both
Guest socket roles are exercised. `tso=1` makes testpmd offer TSO, so the guests' offloads are
on, as a real back-end's would be.

testpmd runs on ordinary memory (--no-huge, like tests/system/test_memif.py), so no system
setting changes; its forwarding starts only once both guests have booted, so its busy-polling
core does not slow the (TCG, CPU-bound) boots. Every process started here is killed at the end.
"""
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from tests.vm.guest import Guest, GuestError, VhostUserNic, boot_all, wait_for, wait_for_socket

TESTPMD = shutil.which("dpdk-testpmd")
IP_A, IP_B = "10.77.0.1", "10.77.0.2"


class VhostWire:
    """dpdk-testpmd with two net_vhost ports, driven interactively through its stdin."""

    def __init__(self, workdir, ports):
        """ports: [(socket path, testpmd connects as the client?)], one per port."""
        self.log_path = os.path.join(workdir, "testpmd.log")
        vdevs = []
        for i, (path, client) in enumerate(ports):
            vdevs += ["--vdev", f"net_vhost{i},iface={path},queues=2,tso=1"
                                f"{',client=1' if client else ''}"]
        self.prefix = f"vswvm{os.getpid()}-{id(self):x}"
        cmd = [TESTPMD, "-l", "0,1", "--no-pci", "--no-huge", "-m", "512", "--no-shconf",
               "--iova-mode=va", f"--file-prefix={self.prefix}", *vdevs, "--",
               "-i", "--forward-mode=io", "--nb-cores=1", "--rxq=2", "--txq=2",
               "--total-num-mbufs=16384"]
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.log,
                                     stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)

    def alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"testpmd exited ({self.proc.returncode}):\n{self.text()[-3000:]}")
        return True

    def command(self, line):
        self.alive()
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("stop\nquit\n")
                self.proc.stdin.close()
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)  # EAL's runtime dir


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="vsw-vmt-", dir="/tmp")  # short: sun_path holds 107 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def closing():
    """Registers objects with close(); all are closed at the end, in reverse order."""
    objs = []
    yield lambda o: objs.append(o) or o
    for o in reversed(objs):
        o.close()


def _ethtool_on(guest, feature):
    out = guest.check(f"ethtool -k eth0 | grep '^{feature}:'")
    return out.split(":", 1)[1].strip().startswith("on")


@pytest.mark.skipif(TESTPMD is None, reason="dpdk-testpmd is not installed (Debian package dpdk)")
def test_two_guests_through_testpmd_vhost_wire(workdir, closing):
    sock_a, sock_b = os.path.join(workdir, "a.sock"), os.path.join(workdir, "b.sock")
    a = closing(Guest("vm-a", nics=[VhostUserNic(sock_a, qemu_listens=True, queues=2)],
                      ips=[f"{IP_A}/24"]))
    b = closing(Guest("vm-b", nics=[VhostUserNic(sock_b, qemu_listens=False, queues=2)],
                      ips=[f"{IP_B}/24"]))
    a.start().wait_listening()
    wire = closing(VhostWire(workdir, [(sock_a, True), (sock_b, False)]))
    wait_for(lambda: wire.alive() and os.path.exists(sock_b), 30, what="testpmd's b.sock")
    wait_for_socket(sock_b)
    b.start()
    boot_all([a, b])
    wire.command("start")

    # The console protocol: exit status, stderr, and recovery from a command that hangs.
    assert a.run("echo out; echo err >&2; exit 3") == (3, "out\nerr")
    with pytest.raises(GuestError, match="timed out"):
        a.run("sleep 60", timeout=2)
    assert a.check("echo still here") == "still here"

    # The guests see what the back-end offered: 2 queue pairs, checksum offload and TSO.
    for g in (a, b):
        g.check("ethtool -L eth0 combined 2")
        assert g.check("ls /sys/class/net/eth0/queues").split() == ["rx-0", "rx-1", "tx-0",
                                                                     "tx-1"]
        assert _ethtool_on(g, "tx-checksumming")
        assert _ethtool_on(g, "tcp-segmentation-offload")

    # ping with a payload pattern: iputils checks every reply byte and reports "wrong data".
    rc, out = a.run(f"ping -c 5 -i 0.2 -W 5 -s 1400 -p a55a {IP_B}", timeout=60)
    assert rc == 0 and " 5 received" in out and "wrong data" not in out, out
    rc, out = b.run(f"ping -c 3 -i 0.2 -W 5 -s 56 -p 0ff0 {IP_A}", timeout=60)
    assert rc == 0 and " 3 received" in out and "wrong data" not in out, out

    # A short TCP run; b's receive counters then show TSO super-frames crossed the wire whole.
    rx_before = _rx(b)
    b.check("iperf3 -s -1 -D")
    wait_for(lambda: b.run("netstat -ltn | grep -q ':5201 '")[0] == 0, 20, what="iperf3 -s")
    out = a.check(f"iperf3 -c {IP_B} -t 3 -J", timeout=90)
    result = json.loads(out[out.index("{"):])
    received = result["end"]["sum_received"]["bytes"]
    assert received > 1_000_000, out
    rx_bytes, rx_packets = (x - y for x, y in zip(_rx(b), rx_before))
    assert rx_bytes >= received and rx_bytes / rx_packets > 3000, (rx_bytes, rx_packets)

    # Guest a (QEMU listening) powered off and booted again on the same socket: testpmd, the
    # client, reconnects, and the wire carries traffic again.
    a.restart()
    assert a.boots == 2
    a.check("ethtool -L eth0 combined 2")
    wait_for(lambda: a.run(f"ping -c 1 -W 1 {IP_B}", timeout=30)[0] == 0, 60,
             what="ping after the restart")
    wire.alive()


def _rx(guest):
    """(rx bytes, rx packets) of the guest's eth0."""
    out = guest.check("cat /sys/class/net/eth0/statistics/rx_bytes "
                      "/sys/class/net/eth0/statistics/rx_packets")
    return tuple(int(x) for x in out.split())
