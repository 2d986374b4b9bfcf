"""Hostile memif clients against a running vswitchd while a vsw-pktgen pair moves traffic on the
same bridge: bogus messages, descriptors outside the client's memory, impossible ring indices,
a ring that is never drained, a crash mid-handshake. Each hostile client is disconnected with a
reason (or simply loses its own frames), vswitchd keeps running, and the pair's frames all arrive
intact.

The hostile client is written here in Python with raw SOCK_SEQPACKET messages (memif protocol v2,
layouts per the memif fact sheet §5 and §7).
"""
import array
import mmap
import os
import socket
import struct
import pytest

from tests.system.test_memif import (GEN_MAC, SINK_MAC, add_memif, details, menv,  # noqa: F401
                                     port_show, result, start_sink, wait_for, wait_state)

ACK, HELLO, INIT, ADD_REGION, ADD_RING, CONNECT, CONNECTED, DISCONNECT = range(1, 9)
COOKIE = 0x3E31F20
LOG2 = 4  # 16-slot rings
RING_BYTES = 128 + 16 * (1 << LOG2)
BUF = 2048


def msg(kind, body=b""):
    return (struct.pack("<H", kind) + body).ljust(128, b"\0")


class RawClient:
    """A memif client that does exactly what the test tells it to."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(5)
        self.s.connect(path)
        self.mem = None
        assert self.recv()[0] == HELLO

    def send(self, data, fd=None):
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))] if fd else []
        self.s.sendmsg([data], anc)

    def recv(self):
        data = self.s.recv(512)
        if not data:
            return (None, b"")
        return (struct.unpack_from("<H", data)[0], data)

    def expect_disconnect(self):
        kind, data = self.recv()
        assert kind == DISCONNECT, (kind, data)
        return data[6:102].split(b"\0")[0].decode()

    def ask(self, data, fd=None):
        self.send(data, fd)
        return self.recv()[0]

    def init(self, mid):
        return self.ask(msg(INIT, struct.pack("<HIB24s32s", 0x0200, mid, 0, b"", b"hostile")))

    def handshake(self, mid):
        """Full, valid handshake: one C2S and one S2C ring of 16 slots in one region."""
        assert self.init(mid) == ACK
        size = 2 * RING_BYTES + 2 * (1 << LOG2) * BUF
        fd = os.memfd_create("hostile", os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, size)
        self.mem = mmap.mmap(fd, size)
        for ring in range(2):
            struct.pack_into("<I", self.mem, ring * RING_BYTES, COOKIE)
        assert self.ask(msg(ADD_REGION, struct.pack("<HQ", 0, size)), fd) == ACK
        os.close(fd)
        for ring, flags in ((0, 1), (1, 0)):
            efd = os.eventfd(0, os.EFD_NONBLOCK)
            body = struct.pack("<HHHIBH", flags, 0, 0, ring * RING_BYTES, LOG2, 0)
            assert self.ask(msg(ADD_RING, body), efd) == ACK
            os.close(efd)
        assert self.ask(msg(CONNECT, struct.pack("<32s", b"hostile0"))) == CONNECTED

    def c2s_desc(self, slot, flags, region, length, offset):
        struct.pack_into("<HHII", self.mem, 128 + 16 * slot, flags, region, length, offset)

    def c2s_head(self, value):
        struct.pack_into("<H", self.mem, 6, value)

    def close(self):
        self.s.close()
        if self.mem is not None:
            self.mem.close()


@pytest.fixture
def busy_bridge(daemon_factory, menv):  # noqa: F811
    """A daemon with br0, a pktgen pair gen -> sink moving traffic, and hostile ports h1..h3."""
    d = daemon_factory(workdir=menv.dir).start()
    d.vsctl("add-br", "br0")
    add_memif(d, "br0", "gen", menv, 1)
    add_memif(d, "br0", "sink", menv, 2, "ring-size=16384")
    for i in (1, 2, 3):
        add_memif(d, "br0", f"h{i}", menv, 10 + i)
    sink = start_sink(d, menv, "sink", 2, "--idle", 3, "--duration", 90)
    gen = menv.pktgen("--id", 1, "--mode", "tx", "--mac", GEN_MAC, "--dst-mac", SINK_MAC,
                      "--count", 40000, "--rate", 10000, "--flows", 4)
    yield d
    g = result(gen)
    s = result(sink)
    # Whatever the hostile clients did, the pair's traffic is complete and intact.
    assert g["tx"]["frames"] == 40000
    assert s["rx"]["ok"] == 40000, s
    assert s["rx"]["lost"] == 0 and s["rx"]["corrupt"] == 0, s
    assert d.alive()


def test_descriptor_outside_the_region(busy_bridge, menv):  # noqa: F811
    d = busy_bridge
    c = RawClient(menv.sock)
    c.handshake(11)
    assert wait_state(d, "h1", "connected")
    c.c2s_desc(0, 0, 0, 64, 1 << 30)  # far outside the client's memory
    c.c2s_head(1)
    assert c.expect_disconnect() == "descriptor buffer outside its region"
    c.close()
    p = port_show(d, "h1")
    assert p["stats"]["rx_drops"]["invalid"] >= 1
    assert p["details"]["last_disconnect"] == "descriptor buffer outside its region"
    assert p["details"]["state"] == "listening"


def test_bad_region_length_chain_and_head(busy_bridge, menv):  # noqa: F811
    d = busy_bridge
    cases = [
        (lambda c: (c.c2s_desc(0, 0, 7, 64, 0), c.c2s_head(1)), "descriptor region out of range"),
        (lambda c: (c.c2s_desc(0, 0, 0, 0, 2 * RING_BYTES), c.c2s_head(1)),
         "descriptor length invalid"),
        (lambda c: (c.c2s_desc(0, 1, 0, 64, 2 * RING_BYTES), c.c2s_head(1)),
         "descriptor chain invalid"),
        (lambda c: c.c2s_head(1000), "ring head out of range"),
    ]
    for act, reason in cases:
        c = RawClient(menv.sock)
        c.handshake(12)
        act(c)
        assert c.expect_disconnect() == reason
        c.close()
        assert wait_state(d, "h2", "listening")
    assert port_show(d, "h2")["details"]["disconnects"] == str(len(cases))


def test_bogus_messages_and_abandoned_handshakes(busy_bridge, menv):  # noqa: F811
    d = busy_bridge
    c = RawClient(menv.sock)
    assert c.ask(msg(CONNECT)) == DISCONNECT  # before INIT
    c.close()
    c = RawClient(menv.sock)
    c.s.send(b"\x03\x00garbage")  # not 128 bytes
    assert c.expect_disconnect() == "invalid message size"
    c.close()
    c = RawClient(menv.sock)
    assert c.init(999) == DISCONNECT  # unknown id
    c.close()
    for _ in range(10):  # clients dying mid-handshake
        c = RawClient(menv.sock)
        assert c.init(13) == ACK
        c.close()
    assert wait_state(d, "h3", "listening")
    c = RawClient(menv.sock)
    c.handshake(13)  # and a proper client still gets in
    assert wait_state(d, "h3", "connected")
    c.close()
    assert wait_state(d, "h3", "listening")


def test_silent_client_times_out(busy_bridge, menv):  # noqa: F811
    c = RawClient(menv.sock)  # connects, reads HELLO, then says nothing
    assert c.init(13) == ACK  # binds an interface, then stalls
    c.s.settimeout(10)
    assert c.expect_disconnect() == "handshake timeout"
    c.close()
    assert wait_state(busy_bridge, "h3", "listening")


def test_client_that_never_drains(busy_bridge, menv):  # noqa: F811
    """h1 connects, refills nothing and reads nothing: flooded frames towards it are dropped
    (tx_full) while the pair is unaffected."""
    d = busy_bridge
    c = RawClient(menv.sock)
    c.handshake(11)
    assert wait_state(d, "h1", "connected")
    # The sink announces its MAC by broadcast once a second: vsw floods it towards h1 too.
    assert wait_for(lambda: port_show(d, "h1")["stats"]["tx_drops"]["tx_full"] >= 2, 10)
    assert details(d, "h1")["state"] == "connected"  # a full ring is not a violation
    c.close()
