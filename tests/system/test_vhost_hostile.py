"""Hostile vhost-user front-ends against a running vswitchd while two well-behaved front-ends
(good1 <-> good2) forward through the same bridge.

Every case checks: vswitchd alive and `vswctl show` answering; the hostile connection refused as
the case expects (CLOSE: vsw closes the connection, counts a violation, reports last_error and
logs it; STOP: a data-path rule break, counted, the device no longer running; DROPPED: closed
with a last_error but no rule broken; SURVIVE: merely harmless); the port back to `listening`
once we hang up; vsw's fd count back to its baseline; the good pair still forwarding every frame
intact; and a well-behaved front-end on the very same port handshaking and swapping frames with
good1 afterwards. `pytest -s` prints vsw's last_error for every case.

Rules per ../shared/specs/vhost-user.md §2/§3 (message sizes, versions, request codes), §6
(memory table), §7-§8 (rings, descriptors, indices). The front-end is
tests/support/vhost_frontend.py, validated against dpdk-testpmd's net_vhost in
test_vhost_frontend_selftest.py.
"""
import errno
import fcntl
import os
import struct
import tempfile
import time

import pytest

from tests.support import vhost_user_messages as m
from tests.support.vhost_bed import (GOOD1_MAC, HOSTILE_MAC, VhostBed, expected_offer,
                                     frame_tag, good_exchange, receive_until, tagged_frame,
                                     wait_for)
from tests.support.vhost_frontend import VhostFrontend
from tests.support.virtio_split_ring import DESC_INDIRECT, DESC_NEXT, DESC_WRITE
from tests.support.vswitchd import Vswitchd

CLOSE, STOP, SURVIVE, DROPPED = "close", "stop", "survive", "dropped"
N = 16  # hostile rings have 16 slots
FAR = 0x6000_0000_0000  # neither a GPA nor a front-end VA of ours
DEVNULL = open(os.devnull, "rb")  # an fd that is not memory, not an eventfd


@pytest.fixture(scope="module")
def bed(tmp_path_factory):
    from tests.support import paths
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")
    d = Vswitchd(workdir=str(tmp_path_factory.mktemp("vhost-hostile"))).start()
    try:
        b = VhostBed(d)
        b.add_port("h", "server")
        b.add_port("hq", "server", "queues=2")
        assert b.wait_state("h", "listening") and b.wait_state("hq", "listening")
        yield b
        b.close()
        assert d.alive(), d.log()
        assert d.stop() == 0, d.log()
    finally:
        if d.alive():  # set-up failed or an assertion above did: never leave a daemon behind
            d.proc.kill()
            d.proc.wait()


def run_case(bed, port, action, expect, **fe_kw):
    """Runs one hostile `action(fe, bed)` on `port` and checks everything the module doc lists."""
    fd0 = bed.fd_count()
    violations0 = bed.counter(port, "violations")
    fe = bed.hostile(port, **fe_kw)
    in_flight = bed.send_burst()  # the pair's frames cross vsw while the case runs
    try:
        try:
            action(fe, bed)
        except m.PeerClosed:
            assert expect != STOP, "vsw closed the connection before the rule break"
        if expect in (CLOSE, DROPPED):
            assert fe.ch.wait_closed(5), f"vsw kept the connection: {bed.details(port)}"
        if expect == DROPPED:
            assert bed.details(port).get("last_error"), bed.details(port)
        if expect in (CLOSE, STOP):
            assert wait_for(lambda: bed.counter(port, "violations") > violations0, 5), \
                bed.details(port)
            det = bed.details(port)
            assert det.get("state") != "running", det
            assert det.get("last_error"), det
            assert det["last_error"] in bed.d.log(), "reason not in the log"
    finally:
        fe.close()
        for fd in getattr(fe, "extra_fds", []):
            os.close(fd)
    print(f"[{expect}] last_error: {bed.details(port).get('last_error')}")  # shown with -s
    assert bed.wait_state(port, "listening"), bed.details(port)
    assert wait_for(lambda: bed.fd_count() <= fd0, 5), (bed.fd_count(), fd0)
    bed.daemon_answers()
    bed.expect_burst(in_flight)
    bed.check_pair()
    good = bed.hostile(port, ring_size=64, queues=2 if port == "hq" else 1)
    try:
        good_exchange(bed, good, port)
    finally:
        good.close()
    assert bed.wait_state(port, "listening"), bed.details(port)


# ---- building blocks ---------------------------------------------------------------------------
def raw(req, payload=b"", fds=(), flags=m.VERSION, size=None):
    return lambda fe, bed: fe.ch.send(req, payload, fds, flags, size)


def after(prefix, *steps):
    """prefix(fe) then each step(fe, bed)."""
    def act(fe, bed):
        prefix(fe)
        for s in steps:
            s(fe, bed)
    return act


def negotiated(fe):
    fe.negotiate()


def with_memory(fe):
    fe.negotiate()
    fe.set_mem_table()


def running(fe):
    fe.handshake()


def region(fe, **over):
    """The front-end's real region 0 (gpa, size, uva, off), with some fields overridden."""
    gpa, size, uva, off = fe.mem.table()[0]
    r = dict(gpa=gpa, size=size, uva=uva, off=off)
    r.update(over)
    return (r["gpa"], r["size"], r["uva"], r["off"])


def mem_table(regions_of, fds_of=None):
    """After negotiation, SET_MEM_TABLE with regions_of(fe) (and fds_of(fe), default: the memfd
    once per region)."""
    def act(fe, bed):
        fe.negotiate()
        regions = regions_of(fe)
        fds = fds_of(fe) if fds_of else [fe.mem.fd] * len(regions)
        fe.ch.send(m.SET_MEM_TABLE, m.mem_table(regions), fds)
    return act


def ring_setup(num=N, desc=None, used=None, avail=None, index=1):
    """SET_VRING_NUM/BASE/ADDR/KICK on ring `index` with the given num and addresses (front-end
    VAs; default: the ring's real ones)."""
    def act(fe, bed):
        r = fe.rings[index]
        d0, u0, a0 = r.addr_uva()
        fe.ch.send(m.SET_VRING_CALL, m.u64(index), [r.call_fd])
        fe.ch.send(m.SET_VRING_NUM, m.vring_state(index, num))
        fe.ch.send(m.SET_VRING_BASE, m.vring_state(index, 0))
        fe.ch.send(m.SET_VRING_ADDR, m.vring_addr(index, d0 if desc is None else desc(fe),
                                                  u0 if used is None else used(fe),
                                                  a0 if avail is None else avail(fe)))
        fe.ch.send(m.SET_VRING_KICK, m.u64(index), [r.kick_fd])
        fe.ch.send(m.SET_VRING_ENABLE, m.vring_state(index, 1))
    return act


def region_end_uva(fe):
    gpa, size, uva, _ = fe.mem.table()[0]
    return uva + size


def tx(build):
    """On a running device: build(fe, ring) writes descriptors/avail entries, then a kick."""
    def act(fe, bed):
        fe.handshake()
        r = fe.tx_ring()
        build(fe, r)
        r.kick()
    return act


def chain(r, *descs):
    """Descriptors i=0.. as (addr or None for the slot's own buffer, len, flags, next); head 0."""
    for i, (addr, length, flags, nxt) in enumerate(descs):
        r.set_desc(i, r.buf(i) if addr is None else addr, length, flags, nxt)
    r.publish(0, list(range(len(descs))))


def indirect(r, entries, head_len=None, head_flags=DESC_INDIRECT, table_addr=None):
    """Head 0 pointing at an indirect table (in the slot-0 area, spilling over when long)."""
    table = r.indirect  # slot 0's table area; longer tables run into slot 1's
    for k, (length, flags, nxt) in enumerate(entries):
        r.mem.pack("<QIHH", table + 16 * k, r.buf(1 + k % (N - 1)), length, flags, nxt)
    n = 16 * len(entries) if head_len is None else head_len
    r.set_desc(0, table if table_addr is None else table_addr, n, head_flags, 1)
    r.set_desc(1, r.buf(1), 100, 0, 0)
    r.publish(0, [0, 1])


def rx(build):
    """On a running device with no rx buffers posted: build(fe, ring) posts bad ones, then
    good1 floods a broadcast so vsw writes into them."""
    def act(fe, bed):
        fe.handshake(post_rx=False)
        assert bed.wait_state("h", "running")
        r = fe.rx_ring()
        build(fe, r)
        r.kick()
        bed.flood_to()
    return act


# ---- the cases -----------------------------------------------------------------------------------
MESSAGE_CASES = {
    "u64 payload of 4 bytes": after(negotiated, raw(m.SET_FEATURES, b"\0" * 4)),
    "vring state of 16 bytes": after(negotiated, raw(m.SET_VRING_NUM, m.vring_state(1, N) * 2)),
    "vring addr of 32 bytes": after(with_memory, raw(m.SET_VRING_ADDR, bytes(32))),
    "payload on SET_OWNER": raw(m.SET_OWNER, b"\0" * 8),
    "payload on GET_FEATURES": raw(m.GET_FEATURES, b"\0" * 8),
    "size 256 MiB, no payload": raw(m.GET_FEATURES, size=1 << 28),
    "size 1 MiB, payload sent": raw(m.SET_FEATURES, bytes(1 << 20)),
    "size 0xffffffff": raw(m.SET_MEM_TABLE, size=0xFFFFFFFF),
    "version 0": raw(m.GET_FEATURES, flags=0),
    "version 2": raw(m.GET_FEATURES, flags=2),
    "version 3": raw(m.GET_FEATURES, flags=3),
    "unknown request 99": raw(99, m.u64(0)),
    "request 0": raw(0),
    "request 0xffffffff": raw(0xFFFFFFFF),
    "features not offered (packed ring)": after(
        lambda fe: fe.ch.send(m.SET_OWNER),
        raw(m.SET_FEATURES, m.u64(m.bit(m.F_VERSION_1) | m.bit(m.F_RING_PACKED)))),
    "features not offered (LOG_ALL)": raw(m.SET_FEATURES, m.u64(m.bit(m.F_LOG_ALL))),
    "protocol features not offered (mem slots)": raw(
        m.SET_PROTOCOL_FEATURES, m.u64(m.bit(m.PF_CONFIGURE_MEM_SLOTS))),
    "SET_LOG_BASE with an fd (not offered)": after(
        with_memory, lambda fe, bed: fe.ch.send(m.SET_LOG_BASE, struct.pack("<QQ", 4096, 0),
                                                [fe.mem.fd])),
    "ADD_MEM_REG (not offered)": after(
        negotiated, lambda fe, bed: fe.ch.send(m.ADD_MEM_REG, b"\0" * 8 + m.mem_region(
            *fe.mem.table()[0]), [fe.mem.fd])),
    "SET_BACKEND_REQ_FD (not offered)": lambda fe, bed: fe.ch.send(
        m.SET_BACKEND_REQ_FD, b"", [fe.ch.sock.fileno()]),
    "vring index 200": after(negotiated, raw(m.SET_VRING_NUM, m.vring_state(200, N))),
    "vring index 2 on a 1-queue port": after(negotiated, raw(m.SET_VRING_NUM, m.vring_state(2, N))),
    "kick for vring 255 with an fd": after(
        with_memory, lambda fe, bed: fe.ch.send(m.SET_VRING_KICK, m.u64(255),
                                                [fe.rings[0].kick_fd])),
    "SET_VRING_CALL without an fd, no NOFD bit": after(negotiated, raw(m.SET_VRING_CALL, m.u64(0))),
    "8 fds on SET_OWNER": raw(m.SET_OWNER, fds=[DEVNULL.fileno()] * 8),
    "kick fd is /dev/null": after(with_memory, lambda fe, bed: fe.ch.send(
        m.SET_VRING_KICK, m.u64(1), [DEVNULL.fileno()])),
}

MEMORY_CASES = {
    "overlapping regions": mem_table(lambda fe: [region(fe), region(fe, uva=region(fe)[2] + (
        1 << 40), size=region(fe)[1] // 2)]),
    "zero-size region": mem_table(lambda fe: [region(fe, size=0)]),
    "region beyond the fd's size": mem_table(lambda fe: [region(fe, size=1 << 30)]),
    "mmap_offset beyond the fd's size": mem_table(lambda fe: [region(fe, off=region(fe)[1])]),
    "gpa+size overflows u64": mem_table(lambda fe: [region(fe, gpa=(1 << 64) - 4096)]),
    "uva+size overflows u64": mem_table(lambda fe: [region(fe, uva=(1 << 64) - 4096)]),
    "mmap_offset+size overflows u64": mem_table(lambda fe: [region(fe, off=(1 << 64) - 4096)]),
    "9 regions": mem_table(lambda fe: [region(fe, gpa=i << 32, uva=(i << 33) + (1 << 45))
                                       for i in range(9)],
                           lambda fe: [fe.mem.fd] * 8),
    "nregions 2, one region in the payload": lambda fe, bed: fe.ch.send(
        m.SET_MEM_TABLE, m.mem_table([region(fe)], nregions=2), [fe.mem.fd, fe.mem.fd]),
    "two regions, one fd": mem_table(lambda fe: [region(fe), region(fe, gpa=1 << 40, uva=1 << 44)],
                                     lambda fe: [fe.mem.fd]),
    "one region, no fd": mem_table(lambda fe: [region(fe)], lambda fe: []),
    "one region, three fds": mem_table(lambda fe: [region(fe)], lambda fe: [fe.mem.fd] * 3),
    "fd is /dev/null": mem_table(lambda fe: [region(fe)], lambda fe: [DEVNULL.fileno()]),
    "fd is a socket": mem_table(lambda fe: [region(fe)], lambda fe: [fe.ch.sock.fileno()]),
    "fd is a read-only file": mem_table(lambda fe: [region(fe)], lambda fe: [readonly_file(fe)]),
}

RING_CASES = {
    "ring size 0": after(with_memory, ring_setup(num=0)),
    "ring size 3": after(with_memory, ring_setup(num=3)),
    "ring size 65536": after(with_memory, ring_setup(num=65536)),
    "ring size 32769": after(with_memory, ring_setup(num=32769)),
    "desc table outside guest memory": after(with_memory, ring_setup(desc=lambda fe: FAR)),
    "desc table given as a GPA": after(with_memory, ring_setup(desc=lambda fe: fe.tx_ring().desc)),
    "used ring outside guest memory": after(with_memory, ring_setup(used=lambda fe: FAR)),
    "avail ring outside guest memory": after(with_memory, ring_setup(avail=lambda fe: FAR)),
    "desc table across the region end": after(
        with_memory, ring_setup(desc=lambda fe: region_end_uva(fe) - 16 * N + 16)),
    "used ring across the region end": after(
        with_memory, ring_setup(used=lambda fe: region_end_uva(fe) - 4)),
}

def swap_memory(fe, bed):
    """A new table of another memfd at other GPAs/VAs: the running rings no longer translate."""
    other = os.memfd_create("vswv-other", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    os.ftruncate(other, 1 << 20)
    fe.extra_fds = getattr(fe, "extra_fds", []) + [other]
    fe.ch.send(m.SET_MEM_TABLE, m.mem_table([(1 << 40, 1 << 20, 1 << 45, 0)]), [other])


RUNNING_CASES = {
    "memory table swapped under running rings": after(running, swap_memory),
    "features changed while running": after(running, lambda fe, bed: fe.ch.send(
        m.SET_FEATURES, m.u64(fe.features & ~m.bit(m.F_MRG_RXBUF)))),
    "ring address moved out of memory while running": after(running, lambda fe, bed: fe.ch.send(
        m.SET_VRING_ADDR, m.vring_addr(1, FAR, FAR + 4096, FAR + 8192))),
    "ring resized while running": after(running, raw(m.SET_VRING_NUM, m.vring_state(1, 8))),
}

TX_CASES = {
    "descriptor loop 0->1->0": tx(lambda fe, r: chain(r, (None, 64, DESC_NEXT, 1),
                                                      (None, 64, DESC_NEXT, 0))),
    "descriptor pointing at itself": tx(lambda fe, r: chain(r, (None, 64, DESC_NEXT, 0))),
    "next index beyond the table": tx(lambda fe, r: chain(r, (None, 64, DESC_NEXT, N + 5))),
    "chain longer than the ring (loop over all)": tx(lambda fe, r: chain(
        r, *[(None, 64, DESC_NEXT, (i + 1) % N) for i in range(N)])),
    "indirect table nesting INDIRECT": tx(lambda fe, r: indirect(
        r, [(100, DESC_NEXT, 1), (16, DESC_INDIRECT, 0)])),
    "indirect table length 24": tx(lambda fe, r: indirect(r, [(100, 0, 0)] * 2, head_len=24)),
    "indirect table length 0": tx(lambda fe, r: indirect(r, [(100, 0, 0)], head_len=0)),
    "indirect table longer than the ring": tx(lambda fe, r: indirect(
        r, [(64, DESC_NEXT, k + 1) for k in range(N)] + [(64, 0, 0)])),
    "indirect table outside guest memory": tx(lambda fe, r: indirect(
        r, [(100, 0, 0)], table_addr=FAR)),
    "indirect loop inside the table": tx(lambda fe, r: indirect(
        r, [(64, DESC_NEXT, 1), (64, DESC_NEXT, 0)])),
    "indirect head with NEXT": tx(lambda fe, r: indirect(
        r, [(100, 0, 0)], head_flags=DESC_INDIRECT | DESC_NEXT)),
    "avail idx jumps past the ring": tx(lambda fe, r: r.set_avail_idx(N + 1)),
    "avail idx jumps backwards": tx(lambda fe, r: r.set_avail_idx(0xFFFF)),
    "head index beyond the ring": tx(lambda fe, r: (r.set_avail_slot(0, N + 3),
                                                    r.set_avail_idx(1))),
    "write-only descriptor on the tx ring": tx(lambda fe, r: chain(r, (None, 100, DESC_WRITE, 0))),
    "buffer outside guest memory": tx(lambda fe, r: chain(r, (FAR, 100, 0, 0))),
    "buffer at a front-end VA": tx(lambda fe, r: chain(r, (fe.mem.uva(r.buf(0)), 100, 0, 0))),
    "buffer across the region end": tx(lambda fe, r: chain(
        r, (fe.mem.regions[0].gpa + fe.mem.regions[0].size - 10, 100, 0, 0))),
    "buffer address+len overflows u64": tx(lambda fe, r: chain(r, ((1 << 64) - 64, 128, 0, 0))),
}

RX_CASES = {
    "read-only rx buffer": rx(lambda fe, r: chain(r, (None, 2048, 0, 0))),
    "rx buffer outside guest memory": rx(lambda fe, r: chain(r, (FAR, 2048, DESC_WRITE, 0))),
    "rx head index beyond the ring": rx(lambda fe, r: (r.set_avail_slot(0, N + 1),
                                                       r.set_avail_idx(1))),
    "rx avail idx jumps past the ring": rx(lambda fe, r: r.set_avail_idx(N + 2)),
    # 4-byte pieces: a 100-byte frame needs more descriptors than the ring has, so the walk
    # must go round the loop past the ring size.
    "rx descriptor loop": rx(lambda fe, r: chain(r, (None, 4, DESC_WRITE | DESC_NEXT, 1),
                                                 (None, 4, DESC_WRITE | DESC_NEXT, 0))),
}

# Odd but not necessarily rule-breaking: vsw may drop or refuse; it must stay healthy.
HARMLESS_CASES = {
    "zero-length descriptors": tx(lambda fe, r: chain(r, (None, 0, DESC_NEXT, 1), (None, 0, 0, 0))),
    "header-only frame": tx(lambda fe, r: chain(r, (None, 12, 0, 0))),
    "4-byte frame": tx(lambda fe, r: chain(r, (None, 4, 0, 0))),
    "128 KiB chain of one buffer repeated": tx(lambda fe, r: chain(
        r, *[(fe.mem.regions[0].gpa, 8192, DESC_NEXT if i < 15 else 0, i + 1)
             for i in range(16)])),
    "GET_VRING_BASE on a ring never started": after(negotiated, lambda fe, bed: fe.request(
        m.GET_VRING_BASE, m.vring_state(1, 0))),
    "RESET_OWNER while running": after(running, raw(m.RESET_OWNER)),
    # vsw may wait for a table to translate the ring against (it re-translates started rings on
    # SET_MEM_TABLE); the ring just never runs.
    "ring started before any memory table": after(negotiated, ring_setup()),
}



def readonly_file(fe):
    path = tempfile.mktemp(prefix="vswv-ro-", dir="/dev/shm")
    with open(path, "wb") as f:
        f.truncate(fe.mem.size)
    fd = os.open(path, os.O_RDONLY)
    os.unlink(path)
    fe.extra_fds = getattr(fe, "extra_fds", []) + [fd]
    return fd


def cases(table, expect):
    return [pytest.param(act, expect, id=name) for name, act in table.items()]


@pytest.mark.parametrize("action,expect", cases(MESSAGE_CASES, CLOSE) + cases(MEMORY_CASES, CLOSE)
                         + cases(RING_CASES, CLOSE) + cases(RUNNING_CASES, CLOSE)
                         + cases(TX_CASES, STOP)
                         + cases(RX_CASES, STOP) + cases(HARMLESS_CASES, SURVIVE))
def test_hostile(bed, action, expect):
    run_case(bed, "h", action, expect)


def test_memfd_that_can_still_shrink_is_refused(bed):
    """A memfd created without MFD_ALLOW_SEALING could be truncated under vsw's mapping."""
    run_case(bed, "h", after(with_memory), CLOSE, sealing="none")


def test_sealable_memfd_is_sealed_by_vsw(bed):
    fe = bed.hostile("h", ring_size=64, sealing="sealable")
    try:
        good_exchange(bed, fe, "h")
        assert fe.mem.seals() & fcntl.F_SEAL_SHRINK, "vsw mapped a memfd that can shrink"
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


# ---- protocol behaviour a well-behaved front-end relies on ---------------------------------------
@pytest.mark.parametrize("mrg,event_idx,indirect", [(True, True, True), (False, False, False)])
def test_feature_variants_forward_and_num_buffers(bed, mrg, event_idx, indirect):
    """With and without mergeable buffers / EVENT_IDX / indirect descriptors: frames both ways,
    a 9000-byte frame included, num_buffers exact (1 when MRG_RXBUF is off, virtio 1.x
    §5.1.6.4), and the call eventfd signalled."""
    fe = bed.hostile("h", ring_size=64, mrg_rxbuf=mrg, event_idx=event_idx, indirect=indirect,
                     rx_buf=2048 if mrg else 10240)
    try:
        good_exchange(bed, fe, "h")
        assert fe.has(m.F_MRG_RXBUF) == mrg and fe.has(m.F_EVENT_IDX) == event_idx
        tag = bed.tag
        bed.tag += 2
        big = tagged_frame(HOSTILE_MAC, GOOD1_MAC, tag, 9000)
        bed.good[0].send(big)
        got = []
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            got = [(h, f) for h, f in fe.receive(1, timeout=0.5) if f == big]
        assert got, "9000-byte frame did not arrive whole"
        nbuf = struct.unpack_from("<H", got[0][0], 10)[0]
        assert nbuf == ((9000 + 12 + 2047) // 2048 if mrg else 1), nbuf
        assert fe.rx_ring().signalled() >= 1
        f = tagged_frame(GOOD1_MAC, HOSTILE_MAC, tag + 1, 1514)
        fe.send(f, indirect=indirect, pieces=[12, 100, 2000])
        assert receive_until(bed.good[0], lambda g: g == f)
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


def test_offer_and_queue_count(bed):
    for port, queues in (("h", 1), ("hq", 2)):
        fe = bed.hostile(port)
        try:
            fe.negotiate()
            must = expected_offer()
            assert fe.offered & must == must, f"{fe.offered:#x} lacks {must & ~fe.offered:#x}"
            for b in (m.F_RING_PACKED, m.F_IOMMU_PLATFORM, m.F_LOG_ALL):
                assert not fe.offered & m.bit(b), f"feature bit {b} offered"
            assert fe.offered_protocol == m.bit(m.PF_MQ) | m.bit(m.PF_REPLY_ACK)
            assert fe.queue_num == queues
        finally:
            fe.close()
        assert bed.wait_state(port, "listening")


def test_unknown_request_with_need_reply_gets_a_nack_and_the_session_goes_on(bed):
    fe = bed.hostile("h", ring_size=64)
    try:
        fe.negotiate()
        assert fe.reply_ack()
        fe.ch.send(99, m.u64(0), flags=m.VERSION | m.FLAG_NEED_REPLY)
        assert fe.ch.recv_u64(99) != 0
        good_exchange(bed, fe, "h", negotiated=True)
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


def test_bad_memory_table_with_need_reply_is_nacked_or_closed(bed):
    violations0 = bed.counter("h", "violations")
    fe = bed.hostile("h")
    try:
        fe.negotiate()
        fe.ch.send(m.SET_MEM_TABLE, m.mem_table([region(fe, size=0)]), [fe.mem.fd],
                   flags=m.VERSION | m.FLAG_NEED_REPLY)
        try:
            assert fe.ch.recv_u64(m.SET_MEM_TABLE) != 0
        except m.PeerClosed:
            pass
        assert fe.ch.wait_closed(5)  # QEMU treats the failure as fatal; vsw ends it too
        assert bed.counter("h", "violations") > violations0
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


def test_need_reply_on_every_request_is_acked(bed):
    fe = bed.hostile("h", ring_size=64, need_reply_all=True, regions=2)
    try:
        good_exchange(bed, fe, "h")
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


def test_get_vring_base_stops_the_ring_and_returns_its_index(bed):
    fe = bed.hostile("h", ring_size=64)
    try:
        good_exchange(bed, fe, "h")
        tx = fe.tx_ring()
        assert fe.stop_ring(tx) == tx.avail_idx
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


def test_rings_stopped_and_restarted_at_their_base_keep_forwarding(bed):
    """A guest driver reset as QEMU relays it: GET_VRING_BASE on every ring, then the start
    sequence again on the same connection from the returned indices."""
    fe = bed.hostile("h", ring_size=64)
    try:
        good_exchange(bed, fe, "h")
        bases = [fe.stop_ring(r) for r in fe.rings]
        assert bases[1] == fe.tx_ring().avail_idx
        assert bed.wait_for_state_not("h", "running")
        for r, base in zip(fe.rings, bases):
            fe.start_ring(r, base)
        for r in fe.rings:
            fe.enable_ring(r)
        good_exchange(bed, fe, "h", negotiated=True, started=True)
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


# ---- floods --------------------------------------------------------------------------------------
def test_fd_flood_stays_bounded(bed):
    fd0 = bed.fd_count()
    fe = bed.hostile("h")
    try:
        fe.negotiate()
        fe.set_mem_table()
        # Legal: QEMU replaces the call fd again and again. vsw must close each old one.
        for i in range(1000):
            efd = os.eventfd(0)
            fe.ch.send(m.SET_VRING_CALL, m.u64(i % 2), [efd])
            os.close(efd)
        fe.ch.send(m.GET_FEATURES)
        fe.ch.recv_reply(m.GET_FEATURES)  # all 1000 handled
        assert bed.fd_count() <= fd0 + 16, (bed.fd_count(), fd0)
        # Illegal: 8 fds on every message. vsw closes the extras (and may end the session).
        try:
            for _ in range(300):
                fe.ch.send(m.SET_VRING_CALL, m.u64(0), [DEVNULL.fileno()] * 8)
            fe.ch.send(m.GET_FEATURES)
            fe.ch.recv_reply(m.GET_FEATURES)
        except m.PeerClosed:
            pass
        except OSError as e:  # ETOOMANYREFS: vsw stopped reading while holding our fds
            assert e.errno != errno.ETOOMANYREFS, "vsw does not read (or close) fd messages"
            raise
        assert bed.fd_count() <= fd0 + 16, (bed.fd_count(), fd0)
        bed.check_pair()
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")
    assert wait_for(lambda: bed.fd_count() <= fd0, 5), (bed.fd_count(), fd0)


def test_message_flood_keeps_the_stream_in_sync(bed):
    fe = bed.hostile("h", ring_size=64)
    try:
        fe.negotiate()
        burst = b"".join(m.HEADER.pack(m.SET_VRING_NUM, m.VERSION, 8) + m.vring_state(1, 64)
                         for _ in range(20000))
        fe.ch.send_bytes(burst)
        # Pipelined requests, replies read afterwards (few: vsw never blocks on a front-end
        # that does not read, see test_front_end_that_never_reads_its_replies).
        asks = m.HEADER.pack(m.GET_FEATURES, m.VERSION, 0) * 64
        fe.ch.send_bytes(asks)
        bed.check_pair()  # the data plane carries on meanwhile
        for _ in range(64):
            assert fe.ch.recv_u64(m.GET_FEATURES, timeout=10) == fe.offered
        good_exchange(bed, fe, "h", negotiated=True)
    finally:
        fe.close()
    assert bed.wait_state("h", "listening")


def test_front_end_that_never_reads_its_replies(bed):
    """Thousands of GET_FEATURES and no read: vsw's replies fill the socket, and vsw ends the
    session instead of blocking its control thread or buffering without bound."""
    def ask_forever(fe, bed):
        fe.negotiate()
        for _ in range(50):
            fe.ch.send_bytes(m.HEADER.pack(m.GET_FEATURES, m.VERSION, 0) * 200)
    run_case(bed, "h", ask_forever, DROPPED)  # with a reason; not a guest rule break


def test_memory_table_flood_does_not_grow_the_address_space(bed):
    """30 full tables (8 regions of 64 MiB, one sparse memfd each) on one connection: each
    replaces the last, so vsw's address space holds at most two (old and new) at a time."""
    vm0 = bed.vm_size_kib()
    fd0 = bed.fd_count()
    size = 64 << 20  # sparse: vsw has no reason to touch it
    fds = []
    for _ in range(8):
        fds.append(os.memfd_create("vswv-big", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING))
        os.ftruncate(fds[-1], size)
    fe = bed.hostile("h")
    try:
        fe.negotiate()
        regions = [(i * size, size, (1 << 44) + i * 2 * size, 0) for i in range(8)]
        for _ in range(30):
            fe.ch.send(m.SET_MEM_TABLE, m.mem_table(regions), fds,
                       flags=m.VERSION | m.FLAG_NEED_REPLY)
            assert fe.ch.recv_u64(m.SET_MEM_TABLE) == 0
        grown = bed.vm_size_kib() - vm0
        assert grown <= 3 * 8 * size // 1024, f"VmSize grew by {grown} KiB over 30 tables"
    finally:
        fe.close()
        for fd in fds:
            os.close(fd)
    assert bed.wait_state("h", "listening")
    assert wait_for(lambda: bed.vm_size_kib() - vm0 < 64 * 1024, 5), bed.vm_size_kib() - vm0
    assert wait_for(lambda: bed.fd_count() <= fd0, 5)


# ---- crashes and reconnects ----------------------------------------------------------------------
HANDSHAKE_STEPS = [
    lambda fe: fe.ch.send(m.GET_FEATURES) or fe.ch.recv_reply(m.GET_FEATURES),
    lambda fe: fe.negotiate(),
    lambda fe: fe.set_mem_table(),
    lambda fe: fe.start_ring(fe.rings[0]),
    lambda fe: fe.start_ring(fe.rings[1]),
    lambda fe: fe.enable_ring(fe.rings[0]),
    lambda fe: fe.enable_ring(fe.rings[1]),
    lambda fe: [fe.send(tagged_frame(GOOD1_MAC, b"\x02\0\0\0\x11\xee", 7)) for _ in range(8)],
]


@pytest.mark.parametrize("steps", range(len(HANDSHAKE_STEPS) + 1))
def test_crash_in_the_middle_of_the_handshake(bed, steps):
    fd0 = bed.fd_count()
    disconnects0 = bed.counter("h", "disconnects")
    fe = bed.hostile("h")
    if steps > 1:
        HANDSHAKE_STEPS[1](fe)
    if steps == 1:
        HANDSHAKE_STEPS[0](fe)
    for step in HANDSHAKE_STEPS[2:steps]:
        step(fe)
    fe.close()
    assert bed.wait_state("h", "listening"), bed.details("h")
    assert wait_for(lambda: bed.counter("h", "disconnects") > disconnects0, 5)
    assert wait_for(lambda: bed.fd_count() <= fd0, 5), (bed.fd_count(), fd0)
    bed.daemon_answers()
    good = bed.hostile("h", ring_size=64)
    try:
        good_exchange(bed, good, "h")
    finally:
        good.close()


@pytest.mark.parametrize("cut", ["half a header", "header without its payload",
                                 "mem table header with fds, half the payload"])
def test_crash_in_the_middle_of_a_message(bed, cut):
    fd0 = bed.fd_count()
    fe = bed.hostile("h")
    fe.negotiate()
    table = m.mem_table(fe.mem.table())
    if cut == "half a header":
        fe.ch.send_bytes(m.HEADER.pack(m.SET_FEATURES, m.VERSION, 8)[:6])
    elif cut == "header without its payload":
        fe.ch.send_bytes(m.HEADER.pack(m.SET_FEATURES, m.VERSION, 8))
    else:
        fe.ch.send_bytes(m.HEADER.pack(m.SET_MEM_TABLE, m.VERSION, len(table)) + table[:12],
                         [fe.mem.fd])
    fe.close()
    assert bed.wait_state("h", "listening"), bed.details("h")
    assert wait_for(lambda: bed.fd_count() <= fd0, 5), (bed.fd_count(), fd0)
    bed.check_pair()


def test_connect_and_disconnect_counters(bed):
    c0, d0 = bed.counter("h", "connects"), bed.counter("h", "disconnects")
    for _ in range(3):
        fe = bed.hostile("h", ring_size=64)
        good_exchange(bed, fe, "h")
        fe.close()
        assert bed.wait_state("h", "listening")
    assert bed.counter("h", "connects") == c0 + 3
    assert wait_for(lambda: bed.counter("h", "disconnects") == d0 + 3, 5)


def test_two_queue_port(bed):
    run_case(bed, "hq", after(negotiated, raw(m.SET_VRING_NUM, m.vring_state(4, N))), CLOSE,
             queues=2)
    fe = bed.hostile("hq", ring_size=64, queues=2)
    try:
        fe.negotiate()  # QEMU negotiates once per queue pair on the same socket (sheet §5)
        good_exchange(bed, fe, "hq")
        # A frame on the second queue pair's tx ring reaches good1 too.
        tag = bed.tag
        bed.tag += 1
        f = tagged_frame(GOOD1_MAC, b"\x02\0\0\0\x11\xef", tag)
        fe.send(f, q=1)
        assert receive_until_tag(bed.good[0], tag)
    finally:
        fe.close()


def receive_until_tag(fe, tag):
    return receive_until(fe, lambda g: frame_tag(g) == tag)


def test_client_mode_reconnects_after_a_violation_and_a_crash(bed):
    listener = m.Listener(bed.sock("hc"))
    bed.add_port("hc", "client")
    try:
        ch = listener.accept(timeout=5)  # vsw connects (and retries every second)
        fe = VhostFrontend(ch, ring_size=16)
        fe.ch.send(m.GET_FEATURES, flags=0)  # bad version
        assert fe.ch.wait_closed(5)
        fe.close()
        assert wait_for(lambda: bed.counter("hc", "violations") >= 1, 5), bed.details("hc")
        ch = listener.accept(timeout=5)  # vsw came back by itself
        fe = VhostFrontend(ch, ring_size=16)
        fe.negotiate()
        fe.set_mem_table()
        fe.close()  # crash mid-handshake
        ch = listener.accept(timeout=5)
        fe = VhostFrontend(ch, ring_size=64)
        good_exchange(bed, fe, "hc")
        fe.close()
        listener.accept(timeout=5).close()  # and once more after a clean hang-up
        assert bed.counter("hc", "connects") >= 4
    finally:
        bed.d.vsctl("del-port", "hc")
        listener.close()
