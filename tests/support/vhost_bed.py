"""A test bed for vsw's vhost-user ports: one vswitchd with bridge br0, two well-behaved front-ends
(good1, good2) that exchange frames through it, and spare ports for hostile front-ends. Checks
what every hostile case must leave intact: the daemon alive and answering, the good pair
forwarding, no leaked fds or mappings, and the hostile port's counters.

Port details read from `vswctl port-show NAME --json` ("details", string values): state
(connecting | listening | negotiating | running), violations, last_error, connects, disconnects.
"""
import os
import struct
import tempfile
import time

from . import vhost_user_messages as m
from .vhost_frontend import VhostFrontend
from tests.support.wait import wait_for

GOOD1_MAC = bytes.fromhex("020000001101")
GOOD2_MAC = bytes.fromhex("020000001102")
HOSTILE_MAC = bytes.fromhex("0200000011ee")
ETHERTYPE = b"\x88\xb5"  # local experimental


def tagged_frame(dst, src, tag, n=100):
    body = struct.pack("<Q", tag) + bytes(i & 0xFF for i in range(n - 22))
    return dst + src + ETHERTYPE + body


def frame_tag(frame):
    return struct.unpack_from("<Q", frame, 14)[0] if len(frame) >= 22 else None


class VhostBed:
    """The daemon `d` (a started tests.support.vswitchd.Vswitchd) with br0 and the good pair.
    Sockets live in a short temp dir (sun_path holds 107 bytes)."""

    def __init__(self, d):
        self.d = d
        self.dir = tempfile.mkdtemp(prefix="vswv-")
        self.tag = 1 << 20  # frame tags of the bed; hostile cases use small ones
        self.awaited = set()  # tags of burst frames not yet checked
        self.inbox = ({}, {})  # per good port: tag -> frames received
        # More "still forwarding" checks run by check_pair() after every case (e.g. a VM on
        # another port of br0 pinging: append a callable that raises when the ping fails).
        self.extra_checks = []
        d.vsctl("add-br", "br0")
        self.good = []
        for name in ("good1", "good2"):
            self.add_port(name, "server")
        for name in ("good1", "good2"):
            fe = VhostFrontend.connect(self.sock(name), ring_size=256).handshake()
            self.good.append(fe)
        for name in ("good1", "good2"):
            assert self.wait_state(name, "running"), self.details(name)
        # Each good port announces its MAC once, so the bridge learns both before forwarding.
        for fe, mac in zip(self.good, (GOOD1_MAC, GOOD2_MAC)):
            fe.send(tagged_frame(b"\xff" * 6, mac, 0))
        for fe in self.good:
            fe.receive(1, timeout=2)
        self.check_pair()

    # ---- ports -----------------------------------------------------------------------------------
    def sock(self, name):
        return os.path.join(self.dir, name + ".sock")

    def add_port(self, name, mode, *opts):
        """A vhost-user port on br0 (MTU 9000, so jumbo frames cross the bridge)."""
        args = ["add-port", "br0", name, "--type", "vhost-user", "-o", f"path={self.sock(name)}",
                "-o", f"mode={mode}", "-o", "mtu=9000"]
        for o in opts:
            args += ["-o", o]
        self.d.vsctl(*args)

    def details(self, name):
        return self.d.vsctl("port-show", name, json_out=True).get("details", {})

    def counter(self, name, key):
        return int(self.details(name).get(key, "0"))

    def wait_state(self, name, state, timeout=10.0):
        return wait_for(lambda: self.details(name).get("state") == state, timeout)

    def wait_for_state_not(self, name, state, timeout=10.0):
        return wait_for(lambda: self.details(name).get("state") != state, timeout)

    # ---- what every case must leave intact ----------------------------------------------------
    def fd_count(self):
        return len(os.listdir(f"/proc/{self.d.proc.pid}/fd"))

    def vm_size_kib(self):
        with open(f"/proc/{self.d.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1])
        raise AssertionError("no VmSize")

    def daemon_answers(self):
        assert self.d.alive(), self.d.log()
        self.d.vsctl("show")  # raises if vswctl cannot talk to it

    def send_burst(self, src=0, count=8):
        """`count` unicast frames from good{src+1} to the other good port, not waited for;
        returns them by tag for expect_burst()."""
        a = self.good[src]
        smac, dmac = (GOOD1_MAC, GOOD2_MAC) if src == 0 else (GOOD2_MAC, GOOD1_MAC)
        a.reclaim_tx()
        sent = {}
        for _ in range(count):
            f = tagged_frame(dmac, smac, self.tag, 60 + (self.tag * 37) % 1400)
            sent[self.tag] = f
            self.awaited.add(self.tag)
            self.tag += 1
            a.send(f)
        return sent

    def expect_burst(self, sent, dst=1, timeout=5.0):
        """Every frame of `sent` arrived at good{dst+1} exactly once and intact."""
        box = self.inbox[dst]
        deadline = time.monotonic() + timeout
        while any(t not in box for t in sent) and time.monotonic() < deadline:
            self.collect(dst, timeout=min(0.1, max(0.0, deadline - time.monotonic())))
        missing = [t for t in sent if t not in box]
        assert not missing, (f"good{dst + 1}: {len(missing)}/{len(sent)} frames missing\n"
                             f"{self.d.log()[-2000:]}")
        for t, f in sent.items():
            got = box.pop(t)
            self.awaited.discard(t)
            assert len(got) == 1, f"frame {t} delivered {len(got)} times"
            assert got[0] == f, f"frame {t} corrupted"
        src = self.good[1 - dst]
        src.wait_tx_done(len(src.tx_ring().chains), timeout=2)

    def check_pair(self, count=8, timeout=5.0):
        """good1 <-> good2: `count` unicast frames each way arrive once and intact (frames from
        other ports flooded to the pair are ignored)."""
        for src in (0, 1):
            self.expect_burst(self.send_burst(src, count), 1 - src, timeout)
        for check in self.extra_checks:
            check()

    def collect(self, i, timeout=0.0):
        """Receives on good{i+1}: frames awaited by a burst go to its inbox, others are dropped
        (this also keeps the pair's rx rings from filling up)."""
        fe = self.good[i]
        for _, f in fe.receive(1, timeout=timeout) + fe.receive(1 << 20, timeout=0):
            t = frame_tag(f)
            if t in self.awaited:
                self.inbox[i].setdefault(t, []).append(f)

    def drain(self):
        for i in range(len(self.good)):
            self.collect(i)

    def hostile(self, name, **kw):
        """A fresh front-end (not handshaken) on a server-mode port's socket; 16-slot rings."""
        kw.setdefault("ring_size", 16)
        return VhostFrontend.connect(self.sock(name), **kw)

    def flood_to(self, dst=b"\xff" * 6, count=4):
        """good1 sends `count` frames to dst (broadcast: reaches every port of br0)."""
        for _ in range(count):
            self.good[0].send(tagged_frame(dst, GOOD1_MAC, self.tag))
            self.tag += 1
        self.good[0].wait_tx_done(count, timeout=2)
        self.collect(1, timeout=0.2)

    def close(self):
        for fe in self.good:
            fe.close()


def good_exchange(bed, fe, name, negotiated=False, started=False):
    """A well-behaved front-end `fe` on port `name` (handshaken here, or only started if
    `negotiated`, or neither if `started`) swaps a frame with good1."""
    if not negotiated:
        fe.negotiate()
    if not started:
        fe.start()
    assert bed.wait_state(name, "running"), bed.details(name)
    bed.drain()
    tag = bed.tag
    bed.tag += 1
    f = tagged_frame(GOOD1_MAC, HOSTILE_MAC, tag)
    deadline = time.monotonic() + 5
    got = []
    while not got and time.monotonic() < deadline:
        fe.send(f)
        got = [g for _, g in bed.good[0].receive(1, timeout=0.3) if frame_tag(g) == tag]
    assert got == [f], f"no frame from {name} reached good1"
    back = tagged_frame(HOSTILE_MAC, GOOD1_MAC, tag | 1 << 40)
    bed.good[0].send(back)
    assert receive_until(fe, lambda g: g == back), f"good1's reply did not reach {name}"
    return fe


def receive_until(fe, pred, timeout=3.0):
    """True once `fe` receives a frame for which pred(frame) holds (others are dropped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for _, g in fe.receive(1, timeout=deadline - time.monotonic()):
            if pred(g):
                return True
    return False


def expected_offer():
    """The virtio feature bits vsw documents it offers (issue 7)."""
    bits = (m.F_VERSION_1, m.F_MRG_RXBUF, m.F_INDIRECT_DESC, m.F_EVENT_IDX, m.F_MQ, m.F_CSUM,
            m.F_GUEST_CSUM, m.F_HOST_TSO4, m.F_HOST_TSO6, m.F_GUEST_TSO4, m.F_GUEST_TSO6,
            m.F_PROTOCOL_FEATURES)
    return sum(m.bit(b) for b in bits)
