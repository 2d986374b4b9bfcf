"""A small but real vhost-user front-end (the role QEMU plays) with a minimal virtio-net driver,
for testing vhost-user back-ends (vsw, dpdk-testpmd's net_vhost) from Python.

    fe = VhostFrontend.connect(path)         # back-end listens (vsw mode=server)
    fe = VhostFrontend.accept(listener)      # back-end connects (vsw mode=client)
    fe.handshake()                           # features, memory table, rings, enable
    fe.send(frame); fe.receive(1)            # tx ring 1, rx ring 0 (queue pair 0)

Message sequence per ../shared/specs/vhost-user.md §5 (QEMU's order): GET_FEATURES,
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_OWNER, SET_FEATURES,
SET_MEM_TABLE (NEED_REPLY with REPLY_ACK), per ring SET_VRING_CALL/NUM/BASE/ADDR/KICK, then
SET_VRING_ENABLE(1) per ring. Memory: one memfd (§6), GPAs and front-end VAs deliberately
different. Ring numbering (§5): vring 2q = RX queue q (device writes), 2q+1 = TX queue q.
virtio_net_hdr per §7: 12 bytes with VERSION_1 or MRG_RXBUF, else 10.

Hostile tests use `fe.ch` (the raw Channel) and `fe.rings`/`fe.mem` to break the rules.
"""
import select
import struct
import time

from . import vhost_user_messages as m
from .virtio_split_ring import DESC_INDIRECT, DESC_NEXT, DESC_WRITE, GuestMemory, SplitRing

# What this driver can do; the handshake asks for the intersection with the back-end's offer.
DRIVER_FEATURES = (m.bit(m.F_VERSION_1) | m.bit(m.F_MRG_RXBUF) | m.bit(m.F_INDIRECT_DESC)
                   | m.bit(m.F_EVENT_IDX) | m.bit(m.F_MQ) | m.bit(m.F_PROTOCOL_FEATURES)
                   | m.bit(m.F_ANY_LAYOUT))
DRIVER_PROTOCOL_FEATURES = m.bit(m.PF_MQ) | m.bit(m.PF_REPLY_ACK)

INDIRECT_MAX = 16


class HandshakeError(Exception):
    pass


class VhostFrontend:
    """One vhost-user connection with `queues` queue pairs of `ring_size`-slot split rings.

    Options: `features` (None = DRIVER_FEATURES ∩ offered; else the exact u64 to SET), toggles
    `mrg_rxbuf`, `indirect`, `event_idx` remove those bits from the request; `regions` splits
    guest memory into that many memory-table regions (rings in the first, buffers in the last);
    `rx_buf`/`tx_buf` are the per-descriptor buffer sizes; `need_reply_all` sets NEED_REPLY on
    every request without a reply of its own (when REPLY_ACK is negotiated) and checks the ack;
    `sealing` is GuestMemory's (default: sealed as QEMU seals its memfd).
    """

    def __init__(self, channel, queues=1, ring_size=256, features=None, mrg_rxbuf=True,
                 indirect=True, event_idx=True, regions=1, rx_buf=2048, tx_buf=2048,
                 need_reply_all=False, sealing="qemu"):
        self.ch = channel
        self.queues = queues
        self.ring_size = ring_size
        self.want_features = features
        self.mask = DRIVER_FEATURES
        for on, b in ((mrg_rxbuf, m.F_MRG_RXBUF), (indirect, m.F_INDIRECT_DESC),
                      (event_idx, m.F_EVENT_IDX)):
            if not on:
                self.mask &= ~m.bit(b)
        self.need_reply_all = need_reply_all
        per_ring = ring_size * (16 + 2 + 8 + max(rx_buf, tx_buf) + 16 * INDIRECT_MAX) + 3 * 4096
        self.mem = GuestMemory(2 * queues * per_ring + 65536 * regions, regions, sealing)
        self.rings = []
        for q in range(queues):
            self.rings.append(SplitRing(self.mem, 2 * q, ring_size, rx_buf,
                                        buf_region=regions - 1))
            self.rings.append(SplitRing(self.mem, 2 * q + 1, ring_size, tx_buf, INDIRECT_MAX,
                                        buf_region=regions - 1))
        self.offered = self.features = 0
        self.offered_protocol = self.protocol = 0
        self.queue_num = None
        self.hdr_len = 12
        self.rx_pending = {}  # queue -> buffers of a mergeable frame not yet complete

    @classmethod
    def connect(cls, path, timeout=10.0, **kw):
        return cls(m.connect(path, timeout), **kw)

    @classmethod
    def accept(cls, listener, timeout=10.0, **kw):
        return cls(listener.accept(timeout), **kw)

    # ---- control messages ----------------------------------------------------------------------
    def has(self, feature_bit):
        return bool(self.features & m.bit(feature_bit))

    def reply_ack(self):
        return bool(self.protocol & m.bit(m.PF_REPLY_ACK))

    def request(self, request, payload=b"", fds=(), need_reply=None):
        """Sends a request; for GET_* returns the reply payload, for others with NEED_REPLY
        returns the ack value (0 = success), else None."""
        if need_reply is None:
            need_reply = self.need_reply_all and self.reply_ack() and request not in m.HAS_REPLY
        flags = m.VERSION | (m.FLAG_NEED_REPLY if need_reply else 0)
        self.ch.send(request, payload, fds, flags)
        if request in m.HAS_REPLY:
            return self.ch.recv_reply(request)
        if need_reply:
            return self.ch.recv_u64(request)
        return None

    def set_request(self, request, payload=b"", fds=(), need_reply=None):
        ack = self.request(request, payload, fds, need_reply)
        if ack:
            raise HandshakeError(f"back-end refused request {request}: ack {ack}")

    def negotiate(self):
        """Features, protocol features, queue count and owner (before the memory table)."""
        self.offered = struct.unpack("<Q", self.request(m.GET_FEATURES))[0]
        if self.offered & m.bit(m.F_PROTOCOL_FEATURES):
            self.offered_protocol = struct.unpack("<Q", self.request(m.GET_PROTOCOL_FEATURES))[0]
            wanted = self.offered_protocol & DRIVER_PROTOCOL_FEATURES
            # REPLY_ACK applies once negotiated: not to the message that negotiates it (QEMU
            # sets no NEED_REPLY there either).
            self.set_request(m.SET_PROTOCOL_FEATURES, m.u64(wanted))
            self.protocol = wanted
        if self.protocol & m.bit(m.PF_MQ):
            self.queue_num = struct.unpack("<Q", self.request(m.GET_QUEUE_NUM))[0]
            if self.queue_num < self.queues:
                raise HandshakeError(f"back-end has {self.queue_num} queue pairs, "
                                     f"{self.queues} wanted")
        elif self.queues > 1:
            raise HandshakeError("back-end offers no protocol MQ")
        self.set_request(m.SET_OWNER)
        if self.want_features is None:
            self.features = self.offered & self.mask
            if self.queues == 1:
                self.features &= ~m.bit(m.F_MQ)
        else:
            self.features = self.want_features
        self.hdr_len = 12 if self.has(m.F_VERSION_1) or self.has(m.F_MRG_RXBUF) else 10
        self.set_request(m.SET_FEATURES, m.u64(self.features))

    def set_mem_table(self):
        n = len(self.mem.regions)
        need = True if self.reply_ack() else None  # as QEMU and virtio_user do
        self.set_request(m.SET_MEM_TABLE, m.mem_table(self.mem.table()), [self.mem.fd] * n, need)

    def start_ring(self, ring, base=0):
        """CALL, NUM, BASE, ADDR, KICK for one ring. `base` should match the driver's shadow
        indices (0 on a fresh ring)."""
        i = ring.index
        self.set_request(m.SET_VRING_CALL, m.u64(i), [ring.call_fd])
        self.set_request(m.SET_VRING_NUM, m.vring_state(i, ring.num))
        self.set_request(m.SET_VRING_BASE, m.vring_state(i, base))
        desc, used, avail = ring.addr_uva()
        self.set_request(m.SET_VRING_ADDR, m.vring_addr(i, desc, used, avail))
        self.set_request(m.SET_VRING_KICK, m.u64(i), [ring.kick_fd])

    def enable_ring(self, ring, on=True):
        if self.has(m.F_PROTOCOL_FEATURES):
            self.set_request(m.SET_VRING_ENABLE, m.vring_state(ring.index, 1 if on else 0))

    def start(self, post_rx=True):
        """After negotiate(): memory table, every ring started, then enabled. Posts every rx
        buffer first (a guest fills its rx rings before DRIVER_OK)."""
        self.set_mem_table()
        for r in self.rings:
            if r.index % 2 == 0 and post_rx:
                self.post_rx(r.index // 2)
            self.start_ring(r)
        for r in self.rings:
            self.enable_ring(r)

    def handshake(self, post_rx=True):
        """The whole start sequence (negotiate + start). Returns self."""
        self.negotiate()
        self.start(post_rx)
        return self

    def stop_ring(self, ring):
        """GET_VRING_BASE: the back-end stops the ring and returns its next avail index."""
        payload = self.request(m.GET_VRING_BASE, m.vring_state(ring.index, 0))
        index, num = struct.unpack("<II", payload)
        assert index == ring.index, (index, ring.index)
        return num

    # ---- virtio-net driver -----------------------------------------------------------------------
    def rx_ring(self, q=0):
        return self.rings[2 * q]

    def tx_ring(self, q=0):
        return self.rings[2 * q + 1]

    def post_rx(self, q=0, count=None):
        """Posts `count` (default: all free) one-descriptor device-writable buffers."""
        r = self.rx_ring(q)
        n = len(r.free) if count is None else count
        for i in r.take(n):
            r.set_desc(i, r.buf(i), r.buf_size, DESC_WRITE)
            r.publish(i)
        if n:
            r.kick()
        return n

    def header(self, flags=0, gso_type=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0,
               num_buffers=0):
        h = struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)
        return h + (struct.pack("<H", num_buffers) if self.hdr_len == 12 else b"")

    def send(self, frame, q=0, hdr=None, pieces=None, indirect=False, kick=True):
        """Puts header + frame on TX queue q as one chain. `pieces` gives the byte length of each
        descriptor (default: as few as the buffer size allows); `indirect` puts the chain in an
        indirect table behind one head descriptor. Returns the head index."""
        r = self.tx_ring(q)
        data = (self.header() if hdr is None else hdr) + frame
        if pieces is None:
            pieces = [r.buf_size] * ((len(data) + r.buf_size - 1) // r.buf_size)
        lens, off = [], 0
        for p in pieces:
            n = min(p, len(data) - off)
            if n <= 0:
                break
            lens.append(n)
            off += n
        assert off == len(data), "pieces shorter than the frame"
        ids = r.take(len(lens) + (1 if indirect else 0))
        bufs = ids[1:] if indirect else ids
        off = 0
        for k, (i, n) in enumerate(zip(bufs, lens)):
            assert n <= r.buf_size, "piece longer than a descriptor buffer"
            self.mem.write(r.buf(i), data[off:off + n])
            off += n
            last = k == len(lens) - 1
            if indirect:
                table = r.set_indirect(ids[0], k, r.buf(i), n, 0 if last else DESC_NEXT, k + 1)
            else:
                r.set_desc(i, r.buf(i), n, 0 if last else DESC_NEXT, 0 if last else bufs[k + 1])
        if indirect:
            assert len(lens) <= INDIRECT_MAX
            r.set_desc(ids[0], table, 16 * len(lens), DESC_INDIRECT)
        r.publish(ids[0], ids)
        if kick:
            r.kick()
        return ids[0]

    def reclaim_tx(self, q=0):
        """Completed TX heads (their descriptors are free again)."""
        return [head for head, _ in self.tx_ring(q).pop_used()]

    def wait_tx_done(self, count, q=0, timeout=5.0):
        """Waits until `count` TX chains have completed; returns their heads."""
        done = []
        deadline = time.monotonic() + timeout
        while len(done) < count and time.monotonic() < deadline:
            got = self.reclaim_tx(q)
            done += got
            if not got:
                self.tx_ring(q).wait_call(0.02)
        return done

    def receive(self, count, q=0, timeout=5.0, repost=True):
        """Up to `count` frames from RX queue q as (header bytes, frame bytes), waiting on the
        call eventfd (and re-reading the used ring) until the deadline. Mergeable buffers are
        joined by the first header's num_buffers. Consumed buffers are posted again."""
        r = self.rx_ring(q)
        frames, pending = [], self.rx_pending.setdefault(q, [])
        deadline = time.monotonic() + timeout
        while len(frames) < count:
            used = r.pop_used()
            for head, length in used:
                assert length <= r.buf_size, f"used len {length} > buffer {r.buf_size}"
                pending.append(self.mem.read(r.buf(head), length))
            while pending:
                first = pending[0]
                nbuf = 1
                if self.has(m.F_MRG_RXBUF):
                    nbuf = struct.unpack_from("<H", first, 10)[0]
                    assert nbuf >= 1, "num_buffers 0 with MRG_RXBUF"
                if len(pending) < nbuf:
                    break
                data = b"".join(pending[:nbuf])
                del pending[:nbuf]
                frames.append((data[:self.hdr_len], data[self.hdr_len:]))
            if repost and used:
                self.post_rx(q)
            if len(frames) >= count:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not used:
                r.wait_call(min(left, 0.02))
        return frames  # a mergeable frame still incomplete stays in rx_pending for the next call

    # ---- teardown ------------------------------------------------------------------------------
    def alive(self, timeout=0.0):
        """False if the back-end has closed the connection (reads and drops anything else)."""
        r, _, _ = select.select([self.ch.sock], [], [], timeout)
        if not r:
            return True
        return not self.ch.wait_closed(0.05)

    def close(self):
        self.ch.close()
        for r in self.rings:
            r.close()
        self.mem.close()
