"""vsw's 82599 driver (ports/intel/) against the strict 82599 model (tests/models/), inside the
real daemon: tests/models/vswitchd-model is vswitchd plus the port type ixgbe-model, whose
model puts its wire on a tap.

Topology (10.79.0.0/24 on br0):
    ns a --[model wire tap]-- 82599 model ==(BAR 0, DMA)== IntelPort nic0 --+
                                                                          br0
    ns b --[vsw tap port tb]-----------------------------------------------+

Every test ends by deleting nic0: the driver resets the NIC and destroys the device, and the
model writes its report (violations of the datasheet rules it checks, the RSS key and table the
driver programmed, its frame counts). A single violation fails the test.
"""
import json
import os
import time

import pytest

from tests.support import paths
from tests.support.netns import sh
from tests.support.vswitchd import Vswitchd
from tests.support.wait import wait_for

ADDR = {"a": "10.79.0.1", "b": "10.79.0.2"}
RX_QUEUES = 4


def toeplitz(key, data):
    """Microsoft RSS hash (the model's unit test checks its C++ twin against the published
    vectors): for each input bit set, XOR in the 32 key bits starting at that bit."""
    k = int.from_bytes(key, "big")
    klen = len(key) * 8
    result = 0
    for i, byte in enumerate(data):
        for b in range(8):
            if byte & (0x80 >> b):
                pos = i * 8 + b
                result ^= (k >> (klen - 32 - pos)) & 0xFFFFFFFF
    return result


def per_queue(d, port="nic0"):
    text = d.vsctl("port-show", port, json_out=True)["details"]["rx_packets_per_queue"]
    return {int(k[1:]): int(v) for k, v in (item.split("=") for item in text.split())}


def stats_of(d, port):
    return {s["port"]: s for s in d.vsctl("stats", json_out=True)}[port]


class Topo:
    """ns a on nic0's model wire; ns b on a vsw tap port tb, or (two_models) on the wire of a
    second model port nic1."""

    def __init__(self, tmp_path, net, two_models=False, mtu=1500):
        if not paths.VSWITCHD_MODEL.exists():
            pytest.fail(f"{paths.VSWITCHD_MODEL} is not built: ninja -C build")
        self.net = net
        self.tmp = tmp_path
        self.d = Vswitchd(workdir=str(tmp_path), binary=paths.VSWITCHD_MODEL)
        self.d.start()
        self.ns = {k: net.add_namespace("m" + k) for k in "ab"}
        for ns in self.ns.values():
            # No IPv6: its router solicitations would be extra flows in the RSS counts.
            net.ns_exec(ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1")
            net.ns_exec(ns, "sysctl -qw net.ipv6.conf.default.disable_ipv6=1")
        d = self.d
        d.vsctl("add-br", "br0")
        self.add_model("nic0", "a", mtu)
        if two_models:
            self.add_model("nic1", "b", mtu)
        else:
            tap = net.name("mt")
            d.vsctl("add-port", "br0", "tb", "--type", "tap", "-o", f"ifname={tap}")
            net.move_into(tap, self.ns["b"], ADDR["b"] + "/24")
        assert net.wait_ping(self.ns["a"], ADDR["b"]), d.log()

    def report_path(self, port):
        return str(self.tmp / f"{port}-report.json")

    def add_model(self, port, side, mtu):
        wire = self.net.name("mw" + side)
        self.d.vsctl("add-port", "br0", port, "--type", "ixgbe-model", "-o", f"wire={wire}",
                     "-o", f"rx-queues={RX_QUEUES}", "-o", f"mtu={mtu}",
                     "-o", f"report={self.report_path(port)}")
        self.net.move_into(wire, self.ns[side], ADDR[side] + "/24")
        self.net.ns_exec(self.ns[side], f"ip link set {wire} mtu {mtu}")
        assert wait_for(lambda: self.d.vsctl("port-show", port, json_out=True)["link"] == "up"), \
            self.d.log()

    def close_model(self, port="nic0"):
        """Deletes the model port and returns its model's report; fails on any violation."""
        report_path = self.report_path(port)
        self.d.vsctl("del-port", port)
        assert wait_for(lambda: os.path.exists(report_path), timeout=10), self.d.log()
        with open(report_path) as f:
            report = json.load(f)
        assert report["violations"] == [], "82599 datasheet rules broken:\n" + \
            "\n".join(report["violations"])
        assert not os.path.exists(report_path + ".violations")
        return report

    def stop(self):
        self.d.stop()


@pytest.fixture
def topo(tmp_path, net):
    t = Topo(tmp_path, net)
    yield t
    t.stop()


def test_ping_with_payload_pattern_both_ways(topo):
    """ping -p fills the payload with a pattern and checks it in every reply (iputils prints
    "wrong data byte" otherwise); 1400-byte echoes, no loss."""
    net, ns = topo.net, topo.ns
    for src, dst in (("a", "b"), ("b", "a")):
        res = net.ns_exec(ns[src], f"ping -c 20 -i 0.05 -s 1400 -p a55a0ff0 -W 2 {ADDR[dst]}",
                          check=False, timeout=40)
        assert res.returncode == 0 and " 0% packet loss" in res.stdout, res.stdout + res.stderr
        assert "wrong data" not in res.stdout, res.stdout
    report = topo.close_model()
    assert report["rx_delivered"] >= 40 and report["tx_frames"] >= 40, report


def test_idle_worker_sleeps_and_msix_wakes_it(topo):
    """Adaptive polling (vswitchd's default) with the model's MSI-X (82599 datasheet §7.3):
    each of nic0's rx queues has its vector (IVAR rx queue q -> vector q), so once traffic stops
    the worker sleeps in poll(2) — its sleeps count grows while nothing moves. Pings from ns a,
    0.2 s apart, each find it asleep: the echo request reaches one of nic0's queues, the model
    sends that queue's MSI-X message (an eventfd write), the worker wakes (wake-ups and nic0's
    interrupts_per_queue grow) and every reply comes back. The model saw no violation and counted
    the messages it sent."""
    net, ns, d = topo.net, topo.ns, topo.d
    det = d.vsctl("port-show", "nic0", json_out=True)["details"]
    assert det["rx_wakeup"] == f"msix ({RX_QUEUES} vectors, one per receive queue)", det
    dp = d.vsctl("dp-show", json_out=True)
    assert all(w["poll_mode"] == "adaptive" for w in dp["workers"]), dp

    def workers(key):
        return sum(w[key] for w in d.vsctl("dp-show", json_out=True)["workers"])

    def interrupts():
        text = d.vsctl("port-show", "nic0", json_out=True)["details"]["interrupts_per_queue"]
        return sum(int(item.split("=")[1]) for item in text.split())

    sleeps0 = workers("sleeps")
    assert wait_for(lambda: workers("sleeps") >= sleeps0 + 3, timeout=10), \
        ("an idle worker did not go to sleep", d.vsctl("dp-show", json_out=True))
    irq0, wake0 = interrupts(), workers("wakeups")
    res = net.ns_exec(ns["a"], f"ping -c 10 -i 0.2 -W 2 {ADDR['b']}", check=False, timeout=30)
    assert res.returncode == 0 and " 0% packet loss" in res.stdout, res.stdout + res.stderr
    irq, wake = interrupts() - irq0, workers("wakeups") - wake0
    print(f"\n10 pings into the model: {irq} MSI-X interrupts on nic0, {wake} worker wake-ups")
    assert irq >= 5 and wake >= 5, (irq, wake, d.vsctl("dp-show", json_out=True))
    report = topo.close_model()
    assert sum(report["msix_messages"]) >= irq, report


def test_jumbo_ping_between_two_models(tmp_path, net):
    """MTU 9000 on both sides of two model ports: each 8000-byte echo spans several 2 KiB
    receive descriptors in one model (SRRCTL.BSIZEPACKET, EOP on the last) and goes out of the
    other as a chain of transmit descriptors; payload pattern checked, no loss."""
    t = Topo(tmp_path, net, two_models=True, mtu=9000)
    try:
        res = net.ns_exec(t.ns["a"], f"ping -c 10 -i 0.05 -s 8000 -M do -p 5aa5 -W 2 {ADDR['b']}",
                          check=False, timeout=40)
        assert res.returncode == 0 and " 0% packet loss" in res.stdout, res.stdout + res.stderr
        assert "wrong data" not in res.stdout, res.stdout
        for port in ("nic0", "nic1"):
            report = t.close_model(port)
            assert report["rx_multi_descriptor"] >= 10, report
            assert report["tx_multi_descriptor"] >= 10, report
    finally:
        t.stop()


@pytest.mark.parametrize("reverse", [False, True], ids=["into-model-rx", "out-model-tx"])
def test_iperf3_tcp_through_the_model(topo, reverse):
    """TCP moves through model ⇄ vsw ⇄ tap; the bytes iperf3 received crossed both ports'
    counters (data enters vsw on nic0 and leaves on tb, or the reverse with -R)."""
    net, ns, d = topo.net, topo.ns, topo.d
    before = {p: stats_of(d, p) for p in ("nic0", "tb")}
    srv = net.ns_spawn(ns["b"], "iperf3 -s -1 -p 5211")
    assert wait_for(lambda: "5211" in net.ns_exec(ns["b"], "ss -ltn").stdout), "no iperf3 server"
    flag = "-R" if reverse else ""
    res = net.ns_exec(ns["a"], f"iperf3 -c {ADDR['b']} -p 5211 -t 3 {flag} -J", check=False,
                      timeout=60)
    srv.wait(timeout=15)
    assert res.returncode == 0, res.stdout + res.stderr
    received = json.loads(res.stdout)["end"]["sum_received"]["bytes"]
    assert received > 1_000_000, received
    print(f"iperf3 {'-R ' if reverse else ''}through the model: {received} bytes, "
          f"{json.loads(res.stdout)['end']['sum_received']['bits_per_second'] / 1e6:.0f} Mbit/s")
    after = {p: stats_of(d, p) for p in ("nic0", "tb")}
    into, out = (("tb", "rx_bytes"), ("nic0", "tx_bytes")) if reverse else \
        (("nic0", "rx_bytes"), ("tb", "tx_bytes"))
    for p, counter in (into, out):
        moved = after[p][counter] - before[p][counter]
        assert moved >= received, f"{p} {counter} moved {moved}, iperf3 received {received}"
    topo.close_model()


UDP_SENDER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{src}", {sport}))
for i in range({count}):
    s.sendto(bytes([i % 256]) * 64, ("{dst}", {dport}))
"""


def test_rss_spreads_udp_flows_as_toeplitz_predicts(topo):
    """Eight UDP flows from ns a, one after the other: each lands on exactly one rx queue of
    nic0 (per-queue counters in port-show), the flows use at least two queues, and each queue
    is RETA[toeplitz(key, src, dst, sport, dport) & 0x7f] with the key and table the driver
    programmed (read back from the model)."""
    net, ns, d = topo.net, topo.ns, topo.d
    count, dport = 40, 7777
    # ARP settled by the set-up ping; a neighbour entry that would expire mid-run is refreshed.
    net.ns_exec(ns["a"], f"ping -c 1 -W 1 {ADDR['b']}")
    seen = {}
    for i in range(8):
        sport = 40000 + 37 * i
        before = per_queue(d)
        script = UDP_SENDER.format(src=ADDR["a"], sport=sport, count=count, dst=ADDR["b"],
                                   dport=dport)
        net.ns_exec(ns["a"], f"/usr/bin/python3 -c '{script}'")
        assert wait_for(lambda: sum(per_queue(d).values()) - sum(before.values()) >= count), \
            (before, per_queue(d))
        delta = {q: per_queue(d)[q] - before.get(q, 0) for q in range(RX_QUEUES)}
        took = [q for q, n in delta.items() if n >= count]
        assert len(took) == 1 and all(n < count for q, n in delta.items() if q != took[0]), \
            f"flow {sport}: per-queue deltas {delta}"
        seen[sport] = took[0]
    report = topo.close_model()
    key = bytes.fromhex(report["rss_key"])
    reta = report["reta"]
    assert report["mrqc"] & 0x00400000, f"MRQC {report['mrqc']:#x} does not hash UDP ports"
    src = bytes(map(int, ADDR["a"].split("."))) + bytes(map(int, ADDR["b"].split(".")))
    for sport, queue in seen.items():
        h = toeplitz(key, src + sport.to_bytes(2, "big") + dport.to_bytes(2, "big"))
        assert reta[h & 0x7F] == queue, f"flow {sport}: hash {h:#x} predicts queue " \
            f"{reta[h & 0x7F]}, the frames went to {queue}"
    assert len(set(seen.values())) >= 2, f"all flows on one queue: {seen}"
    print(f"flow source port -> rx queue: {seen}")


def test_violation_report_is_written_and_read(topo):
    """The report the other tests rely on exists after the port goes, names the model's frame
    counts and says RSS was programmed over the port's queues (so an empty violation list means
    the model ran, not that nothing was checked)."""
    report = topo.close_model()
    assert report["rx_delivered"] > 0 and report["tx_frames"] > 0, report
    assert report["mrqc"] & 0xF == 1, report
    assert set(report["reta"]) == set(range(RX_QUEUES)), report["reta"]
