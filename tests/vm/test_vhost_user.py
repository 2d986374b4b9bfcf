"""Two QEMU VMs on vsw's vhost-user ports (client mode: QEMU listens, vsw connects).

One daemon and two guests serve the whole module (boots are the expensive part); the tests run
in file order and each leaves the pair working:
  * ping with payload checks and iperf3 TCP with the guests' offloads on: super-frames cross;
  * two queue pairs on vm2, both carrying traffic;
  * a hostile front-end on a third port breaking the rules while the VMs keep pinging;
  * vswitchd killed (SIGKILL) and started again under the running VMs: neither reboots, ping
    resumes within 5 s, the MAC table is relearned;
  * a VM powered off and booted again reconnects to the same port.
Guests: tests/vm/guest.py (TCG). Front-end for the hostile case: tests/support/vhost_frontend.py.
"""
import json
import os
import re
import shutil
import tempfile
import time

import pytest

from tests.support import paths
from tests.support import vhost_user_messages as m
from tests.support.vhost_frontend import VhostFrontend
from tests.support.virtio_split_ring import DESC_NEXT
from tests.support.vswitchd import Vswitchd
from tests.vm.guest import Guest, VhostUserNic, boot_all, wait_for

IP1, IP2 = "10.88.0.1", "10.88.0.2"


class Pair:
    def __init__(self, d, vm1, vm2, dir_):
        self.d, self.vm1, self.vm2, self.dir = d, vm1, vm2, dir_

    def details(self, port):
        return self.d.vsctl("port-show", port, json_out=True)["details"]

    def wait_running(self, port, timeout=60, **want):
        """The port's device runs (and details match `want`, e.g. running_rx_rings="2")."""
        def ok():
            det = self.details(port)
            return det.get("state") == "running" and all(det.get(k) == v for k, v in want.items())
        wait_for(ok, timeout, interval=0.1, what=f"{port} running {want}")

    def stats(self):
        return {s["port"]: s for s in self.d.vsctl("stats", json_out=True)}

    def ping(self, vm, dst, count=5, wait=10):
        rc, out = vm.run(f"ping -c {count} -i 0.2 -w {wait} -p a5 {dst}", timeout=wait + 30)
        assert rc == 0 and "wrong data" not in out, out
        return out


@pytest.fixture(scope="module")
def pair():
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")
    dir_ = tempfile.mkdtemp(prefix="vswvu-")  # short: socket paths must fit sun_path
    d = Vswitchd(workdir=dir_, workers=1)
    vm1 = Guest("vu1", nics=[VhostUserNic(f"{dir_}/vm1.sock", qemu_listens=True)],
                ips=[f"{IP1}/24"])
    vm2 = Guest("vu2", nics=[VhostUserNic(f"{dir_}/vm2.sock", qemu_listens=True, queues=2)],
                ips=[f"{IP2}/24"], smp=2)
    try:
        d.start()
        d.vsctl("add-br", "br0")
        vm1.start()
        vm2.start()
        vm1.wait_listening()
        vm2.wait_listening()
        d.vsctl("add-port", "br0", "vm1", "--type", "vhost-user", "-o", f"path={dir_}/vm1.sock")
        d.vsctl("add-port", "br0", "vm2", "--type", "vhost-user", "-o", f"path={dir_}/vm2.sock",
                "-o", "queues=2")
        d.vsctl("add-port", "br0", "evil", "--type", "vhost-user", "-o", f"path={dir_}/evil.sock",
                "-o", "mode=server")
        boot_all([vm1, vm2])
        p = Pair(d, vm1, vm2, dir_)
        p.wait_running("vm1")
        p.wait_running("vm2")
        yield p
    finally:
        vm1.close()
        vm2.close()
        if d.alive():
            d.stop()
        if not os.environ.get("VSW_VM_KEEP"):
            shutil.rmtree(dir_, ignore_errors=True)


def test_ping_and_iperf3_through_vsw_with_guest_offloads(pair):
    p = pair
    p.ping(p.vm1, IP2)
    p.ping(p.vm2, IP1)
    for vm in (p.vm1, p.vm2):
        rc, out = vm.run("ethtool -k eth0")
        assert re.search(r"tcp-segmentation-offload: on", out), out
    det = p.details("vm1")
    assert "tso4=true" in det["guest_offloads"], det
    before = p.stats()
    supers = int(p.details("vm1")["rx_super_frames"]), int(p.details("vm2")["tx_super_frames"])
    p.vm2.check("iperf3 -s -D -1")
    rc, out = p.vm1.run(f"iperf3 -c {IP2} -t 3 -J", timeout=90)
    assert rc == 0, out
    received = json.loads(out[out.index("{"):])["end"]["sum_received"]["bytes"]
    assert received > 1_000_000, out[-2000:]
    after = p.stats()
    frames = after["vm1"]["rx_packets"] - before["vm1"]["rx_packets"]
    moved = after["vm1"]["rx_bytes"] - before["vm1"]["rx_bytes"]
    assert moved >= received
    # TSO on in the guest: the data left vm1 as super-frames and crossed vsw whole (to vm2's
    # port, which takes them too): far more bytes per frame than any MTU-sized frame carries.
    assert moved / frames > 3000, f"{moved} bytes in {frames} frames"
    # Counted by vsw: super-frames taken whole from vm1 and delivered whole to vm2 (no software
    # segmentation on the way).
    taken = int(p.details("vm1")["rx_super_frames"]) - supers[0]
    given = int(p.details("vm2")["tx_super_frames"]) - supers[1]
    assert taken > 100 and given > 100, (taken, given)
    delivered = after["vm2"]["tx_bytes"] - before["vm2"]["tx_bytes"]
    assert delivered >= received
    # Every super-frame vsw handed on was accepted whole: no drop for a reason that would mean
    # vsw mishandled one (invalid, mtu, vlan, no_buffer). tx_full is the receiving guest's rx
    # ring momentarily empty, a drop any switch makes when a TCG vCPU falls behind (TCP resends);
    # it may move.
    grew = {why: n - before["vm2"]["tx_drops"][why]
            for why, n in after["vm2"]["tx_drops"].items() if n != before["vm2"]["tx_drops"][why]}
    assert set(grew) <= {"tx_full"}, grew
    fdb = {r["mac"]: r["port"] for r in p.d.vsctl("fdb-show", "br0", json_out=True)}
    assert fdb.get(p.vm1.macs[0]) == "vm1" and fdb.get(p.vm2.macs[0]) == "vm2", fdb


def test_two_queue_pairs_both_carry_traffic(pair):
    p = pair
    p.vm2.check("ethtool -L eth0 combined 2")
    p.wait_running("vm2", running_rx_rings="2", running_tx_rings="2")

    def per_queue():
        text = p.details("vm2")["rx_packets_per_queue"]  # "q0=N q1=M"
        return [int(v) for v in re.findall(r"q\d+=(\d+)", text)]

    before = per_queue()
    # virtio_net maps each guest CPU to its own transmit queue (XPS), so one client pinned to
    # each CPU (masks 1 and 2) sends on both queues; flows of one process may all leave from one
    # CPU.
    p.vm1.check("iperf3 -s -D -1 -p 5201; iperf3 -s -D -1 -p 5202")
    rc, out = p.vm2.run(f"taskset 1 iperf3 -c {IP1} -p 5201 -t 2 > /tmp/c0 & "
                        f"taskset 2 iperf3 -c {IP1} -p 5202 -t 2 > /tmp/c1; r1=$?; "
                        f"wait $!; r0=$?; cat /tmp/c0 /tmp/c1; [ $r0 = 0 ] && [ $r1 = 0 ]",
                        timeout=90)
    assert rc == 0, out
    after = per_queue()
    assert after[0] > before[0] and after[1] > before[1], (before, after)
    p.ping(p.vm2, IP1, count=3)


def test_hostile_front_end_leaves_the_vms_alone(pair):
    p = pair
    sock = f"{p.dir}/evil.sock"
    violations = int(p.details("evil")["violations"])
    # 1. a malformed request; 2. a descriptor loop on a running tx ring; 3. a crash mid-handshake.
    fe = VhostFrontend.connect(sock, ring_size=16)
    fe.ch.send(m.SET_FEATURES, b"\0" * 4)
    assert fe.ch.wait_closed(10)
    fe.close()
    fe = VhostFrontend.connect(sock, ring_size=16)
    fe.handshake()
    r = fe.tx_ring()
    r.set_desc(0, r.buf(0), 64, DESC_NEXT, 1)
    r.set_desc(1, r.buf(1), 64, DESC_NEXT, 0)
    r.publish(0, [0, 1])
    r.kick()
    wait_for(lambda: int(p.details("evil")["violations"]) >= violations + 2, 10,
             what="descriptor loop counted")
    fe.close()
    fe = VhostFrontend.connect(sock, ring_size=16)
    fe.negotiate()
    fe.close()
    wait_for(lambda: p.details("evil")["state"] == "listening", 10, what="evil listening")
    assert p.details("evil")["last_error"], p.details("evil")
    # The VMs never noticed.
    p.ping(p.vm1, IP2, count=10)
    assert p.details("vm1")["violations"] == "0" and p.details("vm2")["violations"] == "0"
    assert p.d.alive()


def uptime(vm):
    rc, out = vm.run("cat /proc/uptime")
    return float(out.split()[0])


def test_vswitchd_killed_and_restarted_under_running_vms(pair):
    p = pair
    up1, up2 = uptime(p.vm1), uptime(p.vm2)
    boots1, boots2 = p.vm1.console_text(all_boots=True).count("@@vsw-booted@@"), \
        p.vm2.console_text(all_boots=True).count("@@vsw-booted@@")
    p.d.proc.kill()
    p.d.proc.wait()
    p.d.start()  # same state file: the bridge and the three ports come back
    t0 = time.monotonic()
    # One reply within 5 s of the daemon answering again (ping -w: deadline, -c 1: first reply).
    rc, out = p.vm1.run(f"ping -c 1 -w 5 {IP2}", timeout=40)
    assert rc == 0, f"no reply within 5 s of the restart:\n{out}\n{p.d.log()}"
    assert time.monotonic() - t0 < 15  # the guest's own deadline is the 5 s; this bounds TCG lag
    p.ping(p.vm2, IP1, count=3)
    # Neither guest rebooted: uptime went on, no second boot marker.
    assert uptime(p.vm1) > up1 and uptime(p.vm2) > up2
    assert p.vm1.console_text(all_boots=True).count("@@vsw-booted@@") == boots1
    assert p.vm2.console_text(all_boots=True).count("@@vsw-booted@@") == boots2
    fdb = {r["mac"]: r["port"] for r in p.d.vsctl("fdb-show", "br0", json_out=True)}
    assert fdb.get(p.vm1.macs[0]) == "vm1" and fdb.get(p.vm2.macs[0]) == "vm2", fdb
    assert int(p.details("vm1")["resyncs"]) >= 0
    p.wait_running("vm2", running_rx_rings="2")  # the guest's 2 queue pairs are back as they were


def test_vm_powered_off_and_started_again_reconnects(pair):
    p = pair
    connects = int(p.details("vm1")["connects"])
    p.vm1.restart()
    p.wait_running("vm1")
    assert int(p.details("vm1")["connects"]) > connects
    p.ping(p.vm1, IP2, count=3)
    assert [x["name"] for x in p.d.vsctl("list-ports", "br0", json_out=True)].count("vm1") == 1
