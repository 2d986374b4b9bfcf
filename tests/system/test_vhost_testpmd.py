"""vhost-user ports with dpdk-testpmd net_virtio_user front-ends as vsw's peers (issue 7, part 5).

Two testpmd processes, each with one net_virtio_user port, on two vhost-user ports of one
bridge: station B (`rxonly`, MAC B) and station A (`txonly`, MAC A, `--eth-peer` B). B first
sends one burst (`start tx_first`) so that vsw learns it and A's frames are known unicast; then
A sends until vsw has forwarded a few thousand frames. Both socket roles (vsw client <-> testpmd
server=1, vsw server <-> testpmd server=0), 64 B and 9000 B frames (B receives the jumbo
frames into 2 KiB mbufs: mergeable rx buffers).

No silent loss: every frame A's testpmd put on its ring is counted by vsw as received on port
`a` (or as an rx drop), every frame vsw received for B is counted as transmitted on port `b` (or
as a tx drop), and B's testpmd received exactly what vsw counted as transmitted on `b`.

Runs as root. testpmd's memory comes from 2 MiB pages (`--in-memory`): vsw maps a front-end's
memory only from a sealed memfd or a hugetlbfs file, and testpmd's `--no-huge` memfd is not
sealed. vm.nr_hugepages is raised for the module and restored afterwards. Sockets live under a
short /tmp directory. Every process started here is killed at the end, whatever happens.
"""
import os
import shutil
import tempfile
import time

import pytest

from tests.support import hugepages
from tests.support.testpmd import (TESTPMD, Testpmd, jumbo_rx_args, jumbo_tx_args,
                                   virtio_user_vdev)

pytestmark = pytest.mark.skipif(TESTPMD is None,
                                reason="dpdk-testpmd is not installed (Debian package dpdk)")

MAC_A = "02:00:00:00:0a:01"
MAC_B = "02:00:00:00:0b:01"
SEED_BURST = 32  # testpmd's default burst: what `start tx_first` sends once per port
TESTPMD_MB = 512  # per testpmd; two of them run at a time


def wait_for(pred, timeout, what):
    deadline = time.time() + timeout
    while not pred():
        if time.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


class VhostEnv:
    """A short socket directory plus the testpmd processes of one test."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vswv-")
        self.pmds = []

    def sock(self, name):
        return os.path.join(self.dir, f"{name}.sock")

    def testpmd(self, *args, **kw):
        t = Testpmd(self.dir, *args, **kw)
        self.pmds.append(t)
        return t

    def cleanup(self):
        for t in self.pmds:
            t.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def huge_pages():
    with hugepages.reserved(2 * TESTPMD_MB // 2 + 64):
        yield


@pytest.fixture
def venv():
    e = VhostEnv()
    yield e
    e.cleanup()


@pytest.fixture
def daemon(daemon_factory, venv):
    d = daemon_factory(workdir=venv.dir).start()
    d.vsctl("add-br", "br0")
    return d


def port(d, name):
    return d.vsctl("port-show", name, json_out=True)


def state(d, name):
    return port(d, name).get("details", {}).get("state")


def stats(d, name):
    return port(d, name)["stats"]


def drops(counters):
    return sum(counters.values()) if isinstance(counters, dict) else counters


def add_vhost(d, name, sock, mode, size):
    args = ["add-port", "br0", name, "--type", "vhost-user", "-o", f"path={sock}",
            "-o", f"mode={mode}"]
    if size > 1514:
        args += ["-o", "mtu=9000"]
    d.vsctl(*args)


def front_end(env, d, name, mac, mode, app_args, lcores):
    """Starts an interactive testpmd with one net_virtio_user port on vsw's port `name` and
    returns once vsw reports the port running. vsw in client mode connects to testpmd
    (server=1; testpmd waits at probe); in server mode testpmd connects to vsw's socket once,
    so vsw must be listening first."""
    sock = env.sock(name)
    if mode == "server":
        wait_for(lambda: state(d, name) == "listening", 10, f"{name} listening")
    t = env.testpmd(name, [virtio_user_vdev(0, sock, mac, server=(mode == "client"))],
                    ["--total-num-mbufs=16384"] + app_args, lcores=lcores, memory_mb=TESTPMD_MB,
                    hugepages=True, interactive=True).start()
    t.wait_for(r"testpmd> ", 60)
    wait_for(lambda: state(d, name) == "running", 30, f"{name} running: {port(d, name)}")
    return t


@pytest.mark.parametrize("size", [64, 9000])
@pytest.mark.parametrize("mode", ["client", "server"])
def test_txonly_through_vsw_to_rxonly(daemon, venv, mode, size):
    add_vhost(daemon, "a", venv.sock("a"), mode, size)
    add_vhost(daemon, "b", venv.sock("b"), mode, size)
    jumbo = size > 1514

    # Station B: announces itself with one burst to A, then only receives.
    rx = front_end(venv, daemon, "b", MAC_B, mode,
                   ["--forward-mode=rxonly", f"--eth-peer=0,{MAC_A}"] +
                   (jumbo_rx_args(size) if jumbo else []), lcores=(0, 1))
    rx.command("start tx_first")
    wait_for(lambda: stats(daemon, "b")["rx_packets"] >= SEED_BURST, 30, "B's announce burst")
    fdb = {r["mac"]: r["port"] for r in daemon.vsctl("fdb-show", "br0", json_out=True)}
    assert fdb.get(MAC_B) == "b", fdb

    # Station A: txonly to B until vsw has forwarded `target` frames.
    tx = front_end(venv, daemon, "a", MAC_A, mode,
                   ["--forward-mode=txonly", f"--eth-peer=0,{MAC_B}"] +
                   (jumbo_tx_args(size) if jumbo else [f"--txpkts={size}"]), lcores=(1, 0))
    target = 5000 if jumbo else 50000
    tx.command("start")
    wait_for(lambda: stats(daemon, "b")["tx_packets"] >= target, 90,
             f"vsw to forward {target} frames to B")
    sent = tx.stop_forwarding()[0]
    # A's testpmd stays connected: vsw drains its ring until everything A sent is counted.
    wait_for(lambda: (lambda s: s["rx_packets"] + drops(s["rx_drops"]))(stats(daemon, "a"))
             >= sent.tx, 30, f"vsw to count A's {sent.tx} frames")
    sa = stats(daemon, "a")
    wait_for(lambda: (lambda s: s["tx_packets"] + drops(s["tx_drops"]))(stats(daemon, "b"))
             >= sa["rx_packets"], 30, "vsw to finish transmitting to B")
    sb = stats(daemon, "b")
    # B polls until its PMD has taken in everything vsw put on its ring.
    wait_for(lambda: rx.nic_stats()[0]["rx_packets"] >= sb["tx_packets"], 30,
             "B to receive what vsw transmitted")
    got = rx.stop_forwarding()[0]
    nic_b = rx.nic_stats()[0]

    # A -> vsw: every frame A's testpmd put on its ring, counted once by vsw.
    assert sa["rx_packets"] + drops(sa["rx_drops"]) == sent.tx, (sent, sa)
    assert drops(sa["rx_drops"]) == 0, sa
    assert sa["rx_bytes"] == sa["rx_packets"] * size, sa
    # vsw -> B: known unicast, so everything received on a goes to b (transmitted or dropped
    # for a full ring, counted), and B received exactly what vsw transmitted.
    assert sb["tx_packets"] + drops(sb["tx_drops"]) == sa["rx_packets"], (sa, sb)
    assert sb["tx_packets"] >= target and sb["tx_bytes"] == sb["tx_packets"] * size, sb
    assert got.rx == sb["tx_packets"], (got, sb)
    assert nic_b["rx_bytes"] == got.rx * size, nic_b
    assert nic_b["rx_errors"] == 0 and nic_b["rx_nombuf"] == 0, nic_b
    # B -> vsw -> A: the announce burst and nothing else, flooded to a (A was not yet known)
    # and delivered or dropped there (A's testpmd may not have been connected yet).
    assert got.tx == SEED_BURST and sb["rx_packets"] == SEED_BURST, (got, sb)
    assert sa["tx_packets"] + drops(sa["tx_drops"]) == SEED_BURST, sa
    fdb = {r["mac"]: r["port"] for r in daemon.vsctl("fdb-show", "br0", json_out=True)}
    assert fdb == {MAC_A: "a", MAC_B: "b"}, fdb
    rx.stop()
    tx.stop()
    assert daemon.alive()


def test_idle_ring_sleeps_until_the_front_end_kicks(daemon, venv):
    """Adaptive polling (the default) with a running but idle ring: the worker sleeps on the
    ring's kick eventfd (vsw clears VRING_USED_F_NO_NOTIFY before it sleeps), not in 50 us naps,
    and the front-end's next burst wakes it through a kick."""
    add_vhost(daemon, "b", venv.sock("b"), "server", 64)
    rx = front_end(venv, daemon, "b", MAC_B, "server",
                   ["--forward-mode=rxonly", f"--eth-peer=0,{MAC_A}"], lcores=(0, 1))

    def total(key):
        return sum(w[key] for w in daemon.vsctl("dp-show", json_out=True)["workers"])

    # A measurement window, not a synchronisation: how often the workers go to sleep while the
    # ring is idle. Sleeping on the kick eventfd, each sleep lasts until the 100 ms backstop
    # (about 10 a second per worker); napping, a worker would sleep thousands of times.
    s0, t0 = total("sleeps"), time.monotonic()
    time.sleep(1.0)
    rate = (total("sleeps") - s0) / (time.monotonic() - t0)
    assert rate < 100, f"{rate:.0f} sleeps/s on an idle ring: the worker naps instead of waiting"

    w0, r0 = total("wakeups"), stats(daemon, "b")["rx_packets"]
    rx.command("start tx_first")
    wait_for(lambda: stats(daemon, "b")["rx_packets"] >= r0 + SEED_BURST, 10, "B's burst")
    # Wake-ups count only wake-up sources that signalled (never the doorbell or a timeout):
    # here the one kick eventfd.
    assert total("wakeups") > w0, daemon.vsctl("dp-show", json_out=True)
    rx.stop()
    assert daemon.alive()
