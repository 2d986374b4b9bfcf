#!/usr/bin/python3
"""fuzz/make_corpus.py — writes the seed corpora in fuzz/corpus/<target>/: a few valid inputs
per target, built from the input formats described at the top of each fuzz/*_fuzz.cc, so the
fuzzers start from inputs that pass the parsers and mutate from there.

Usage: fuzz/make_corpus.py [OUTDIR]   (default: fuzz/corpus next to this script)
The output is deterministic; the files are committed, rerun this after changing a format.
"""
import json
import pathlib
import struct
import sys

OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).parent / "corpus"


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# --- memif messages (memif.md §5: packed little-endian, 128 bytes) -------------------------------
HELLO, INIT, ADD_REGION, ADD_RING, CONNECT, CONNECTED, DISCONNECT = 2, 3, 4, 5, 6, 7, 8
ATTACH_NONE, ATTACH_MEMFD, ATTACH_MEMFD_UNSEALABLE, ATTACH_EVENTFD, ATTACH_PIPE, ATTACH_SHORT = range(6)


def msg(body):
    assert len(body) <= 128
    return body + bytes(128 - len(body))


def field(text, n):
    b = text.encode()[:n]
    return b + bytes(n - len(b))


def init(id_=1, secret="pw", version=0x0200, mode=0, name="seed"):
    return msg(struct.pack("<HHIB", INIT, version, id_, mode) + field(secret, 24) + field(name, 32))


def add_region(index, size):
    return msg(struct.pack("<HHQ", ADD_REGION, index, size))


def add_ring(c2s, index, region, offset, log2, priv=0):
    return msg(struct.pack("<HHHHIBH", ADD_RING, 1 if c2s else 0, index, region, offset, log2, priv))


def connect(if_name="eth0"):
    return msg(struct.pack("<H", CONNECT) + field(if_name, 32))


def disconnect(code, reason):
    return msg(struct.pack("<HI", DISCONNECT, code) + field(reason, 96))


def records(*pairs):
    return b"".join(bytes([kind]) + m for kind, m in pairs)


def memif_message():
    one_ring_each = [
        (ATTACH_NONE, init()),
        (ATTACH_MEMFD, add_region(0, 1 << 20)),
        (ATTACH_EVENTFD, add_ring(True, 0, 0, 0, 10)),
        (ATTACH_EVENTFD, add_ring(False, 0, 0, 32768, 10)),
        (ATTACH_NONE, connect()),
    ]
    write("memif_message_fuzz", "handshake", records(*one_ring_each))
    write("memif_message_fuzz", "handshake-two-rings-each", records(
        (ATTACH_NONE, init(name="two")),
        (ATTACH_MEMFD, add_region(0, 1 << 16)),
        (ATTACH_MEMFD, add_region(1, 1 << 16)),
        (ATTACH_EVENTFD, add_ring(True, 0, 0, 0, 4)),
        (ATTACH_EVENTFD, add_ring(True, 1, 0, 1024, 4)),
        (ATTACH_EVENTFD, add_ring(False, 0, 1, 0, 4)),
        (ATTACH_EVENTFD, add_ring(False, 1, 1, 2048, 4)),
        (ATTACH_NONE, connect("two")),
    ))
    write("memif_message_fuzz", "handshake-then-disconnect",
          records(*one_ring_each, (ATTACH_NONE, disconnect(0, "bye"))))
    write("memif_message_fuzz", "handshake-then-unexpected",
          records(*one_ring_each, (ATTACH_NONE, connect())))
    write("memif_message_fuzz", "wrong-secret", records((ATTACH_NONE, init(secret="nope"))))
    write("memif_message_fuzz", "ring-outside-region", records(
        (ATTACH_NONE, init()),
        (ATTACH_MEMFD, add_region(0, 4096)),
        (ATTACH_EVENTFD, add_ring(True, 0, 0, 4000, 10)),
    ))
    write("memif_message_fuzz", "ack-and-pipe-as-eventfd", records(
        (ATTACH_NONE, init()),
        (ATTACH_NONE, msg(struct.pack("<H", 1))),
        (ATTACH_MEMFD, add_region(0, 1 << 16)),
        (ATTACH_PIPE, add_ring(True, 0, 0, 0, 4)),
    ))


# --- memif rings (fuzz/memif_ring_fuzz.cc op codes) ----------------------------------------------
SEND, RAW_C2S, HEAD_C2S, RECEIVE, RELEASE, OFFER, RAW_S2C, HEAD_S2C, TRANSMIT, SCRIBBLE, MASK = range(11)


def ring_header(log2, bufsize, regions):
    return struct.pack("<BHB", log2 - 1, bufsize - 64, regions - 1)


def op_send(length, piece, region=0):
    return struct.pack("<BHHB", SEND, length - 1, piece - 1, region)


def op_receive(prefill=0):
    return struct.pack("<BB", RECEIVE, prefill)


def op_release(n=0):
    return struct.pack("<BB", RELEASE, n)


def op_offer(n, cap, region=0):
    return struct.pack("<BBHB", OFFER, n, cap - 1, region)


def op_transmit(frames):  # frames: [(length, segment, fill)]
    out = struct.pack("<BB", TRANSMIT, len(frames) - 1)
    for length, seg, fill in frames:
        out += struct.pack("<HHB", length - 1, seg - 1, fill)
    return out


def memif_ring():
    write("memif_ring_fuzz", "rx-lend-release", ring_header(3, 2048, 1) + op_send(100, 2048)
          + op_send(3000, 2048) + op_receive() + op_receive() + op_release() + op_receive())
    write("memif_ring_fuzz", "rx-chains-two-regions", ring_header(5, 256, 2)
          + op_send(600, 256, 1) + op_send(64, 256) + op_send(10, 256) + op_receive(30)
          + op_release(1) + op_receive() + op_release())
    write("memif_ring_fuzz", "tx-copy-and-chain", ring_header(4, 1024, 1)
          + op_offer(16, 1024) + op_transmit([(60, 60, 1), (1514, 700, 2), (4000, 1920, 3)]))
    write("memif_ring_fuzz", "tx-full-rollback", ring_header(2, 512, 2) + op_offer(2, 512, 1)
          + op_transmit([(64, 64, 9), (2000, 1000, 8), (64, 64, 7)]) + bytes([MASK])
          + op_offer(4, 512) + op_transmit([(128, 128, 5)]))
    write("memif_ring_fuzz", "rx-hostile-desc", ring_header(3, 2048, 1) + op_send(64, 2048)
          + struct.pack("<BB", RAW_C2S, 1) + struct.pack("<HHIII", 0, 0, 64, 0xFFFFFFF0, 0)
          + struct.pack("<BBH", HEAD_C2S, 0, 1) + op_receive())


# --- vhost-user rings (fuzz/vhost_ring_fuzz.cc op codes) ------------------------------------------
(V_SEND, V_RAW_TX, V_TX_AVAIL, V_RECEIVE, V_RELEASE, V_POST_RX, V_RAW_RX, V_RX_AVAIL, V_TRANSMIT,
 V_SCRIBBLE, V_FORWARD, V_RESTART) = range(12)
F_HDR10, F_MRG, F_INDIRECT, F_EVENT_IDX, F_HOST_OFFLOADS, F_GUEST_OFFLOADS, F_NO_POOL = (
    1, 2, 4, 8, 16, 32, 64)
GPA_BASE = 0x40000000


def vhost_header(log2, features):
    return struct.pack("<BB", log2 - 1, features)


def v_send(length, layout=0, vflags=0, gso=0, gso_size=0, csum_start=0, csum_offset=0, piece=None):
    out = struct.pack("<BHBBBHHH", V_SEND, length, layout, vflags, gso, gso_size, csum_start,
                      csum_offset)
    if layout % 4 >= 2:
        out += struct.pack("<B", piece if piece is not None else 8)  # pieces of 1 + 8 * piece bytes
    return out


def v_post_rx(n, cap, layout=0):
    return struct.pack("<BBHB", V_POST_RX, n, cap - 1, layout)


def v_transmit(frames):  # frames: [(length, segment, meta)]
    out = struct.pack("<BB", V_TRANSMIT, len(frames) - 1)
    for length, seg, meta in frames:
        out += struct.pack("<HHB", length - 1, seg - 1, meta)
    return out


def v_raw(op, slot, addr, length, flags, nxt, near=1):
    return struct.pack("<BBQIHHB", op, slot, addr, length, flags, nxt, near)


def vhost_ring():
    write("vhost_ring_fuzz", "tx-lend-forward", vhost_header(8, F_MRG | F_INDIRECT | F_EVENT_IDX)
          + v_post_rx(64, 2048) + v_send(64) + v_send(1500, 1) + v_send(600, 5)
          + struct.pack("<BB", V_RECEIVE, 0) + bytes([V_FORWARD])
          + struct.pack("<BB", V_RECEIVE, 0) + struct.pack("<BB", V_RELEASE, 0))
    write("vhost_ring_fuzz", "tx-chains-offloads", vhost_header(6, F_INDIRECT | F_HOST_OFFLOADS)
          + v_send(3000, 2, piece=50) + v_send(2000, 6, piece=20)
          + v_send(1000, 0, vflags=1, csum_start=34, csum_offset=16)
          + v_send(100, 3, piece=1) + struct.pack("<BB", V_RECEIVE, 3)
          + struct.pack("<BB", V_RELEASE, 1) + struct.pack("<BB", V_RESTART, 0)
          + struct.pack("<BB", V_RECEIVE, 0))
    write("vhost_ring_fuzz", "rx-mergeable-offloads", vhost_header(5, F_MRG | F_GUEST_OFFLOADS)
          + v_post_rx(16, 1536) + v_post_rx(4, 1536, 1)
          + v_transmit([(64, 64, 0), (4000, 1000, 0x05 | 0x08), (1514, 1514, 0x01), (9000, 2000, 2)])
          + struct.pack("<BB", V_RESTART, 1) + v_transmit([(60, 60, 0)]))
    write("vhost_ring_fuzz", "rx-legacy-readonly", vhost_header(4, F_HDR10)
          + v_post_rx(2, 200) + v_post_rx(2, 2048, 4)
          + v_transmit([(100, 100, 0), (150, 50, 0), (64, 64, 0)])
          + struct.pack("<BB", V_RESTART, 1) + v_post_rx(1, 2048) + v_transmit([(64, 64, 0)]))
    write("vhost_ring_fuzz", "tx-hostile-desc", vhost_header(4, F_INDIRECT)
          + v_send(64) + v_raw(V_RAW_TX, 1, 0, 20, 1, 1) + struct.pack("<BBHH", V_TX_AVAIL, 2, 1, 1)
          + struct.pack("<BB", V_RECEIVE, 0) + struct.pack("<BB", V_RESTART, 0)
          + v_raw(V_RAW_TX, 2, 0x1FFF0, 64, 4, 0) + struct.pack("<BBHH", V_TX_AVAIL, 2, 2, 2)
          + struct.pack("<BB", V_RECEIVE, 0))


# --- JSON-RPC lines (docs/rpc.md) ----------------------------------------------------------------
def rpc(id_, method, params=None):
    r = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        r["params"] = params
    return r


def jsonrpc_line():
    line = lambda obj: json.dumps(obj, separators=(",", ":")).encode()
    loopback = {"bridge": "br0", "name": "lo0", "type": "loopback", "options": {"ring-size": "512"}}
    write("jsonrpc_line_fuzz", "bridge-add", line(rpc(1, "bridge.add", {"name": "br0"})))
    write("jsonrpc_line_fuzz", "batch-lifecycle", line([
        rpc(1, "bridge.add", {"name": "br0", "aging_s": 60, "max_macs": 1024}),
        rpc(2, "port.add", loopback),
        rpc("three", "port.show", {"name": "lo0"}),
        rpc(4, "stats.show", {"port": "lo0"}),
        rpc(5, "fdb.flush", {"bridge": "br0", "port": "lo0"}),
        rpc(6, "bridge.set", {"name": "br0", "aging_s": 30}),
        rpc(7, "port.del", {"name": "lo0"}),
        rpc(None, "bridge.del", {"name": "br0", "if_exists": True}),
    ]))
    topo = {"bridges": [{"name": "br0", "ports": [{"name": "lo0", "type": "loopback"}]},
                        {"name": "br1", "aging_s": 100, "max_macs": 64, "ports": []}]}
    write("jsonrpc_line_fuzz", "config-apply", line([
        rpc(1, "config.apply", {"config": topo, "dry_run": True}),
        rpc(2, "config.apply", {"config": topo}),
        rpc(3, "config.show"),
        rpc(4, "bridge.list"),
        rpc(5, "port.list", {"bridge": "br1"}),
        rpc(6, "fdb.show", {"bridge": "br0"}),
    ]))
    write("jsonrpc_line_fuzz", "daemon", line([
        rpc(1, "daemon.version"), rpc(2, "daemon.methods"), rpc(3, "dp.show"),
        rpc(4, "log.set_level", {"spec": "off"}),
        {"jsonrpc": "2.0", "method": "daemon.version"},
    ]))
    write("jsonrpc_line_fuzz", "errors", line([
        rpc(1, "no.such"), rpc(2, "bridge.add", {"name": 5}), rpc(3, "bridge.add", [1]),
        {"jsonrpc": "1.0", "id": 4, "method": "x"}, 7, [],
    ]))
    write("jsonrpc_line_fuzz", "not-json", b'{"jsonrpc":"2.0","id":1,"method":')
    # capture.start streams after its reply: only alone and with an id; filters go to libpcap.
    write("jsonrpc_line_fuzz", "capture-setup", line([
        rpc(1, "bridge.add", {"name": "br0"}), rpc(2, "port.add", loopback),
        rpc(3, "capture.list"),
        rpc(4, "capture.start", {"port": "lo0", "filter": "udp port 53"}),
    ]))
    write("jsonrpc_line_fuzz", "capture-start", line(rpc(1, "capture.start", {
        "port": "lo0", "direction": "rx", "snaplen": 128, "count": 10,
        "filter": "ip and (tcp[tcpflags] & tcp-syn != 0 or udp dst port 4789) and not ether broadcast"})))
    write("jsonrpc_line_fuzz", "capture-bad-filter", line(rpc(1, "capture.start", {
        "port": "lo0", "direction": "both", "snaplen": 0, "filter": "udp port ("})))


# --- topology files (docs/rpc.md "Topology schema"), optionally NUL + running config ------------
def topology_file():
    repo = pathlib.Path(__file__).resolve().parent.parent
    files = sorted((repo / "configs").glob("*.json")) + sorted((repo / "configs" / "examples").glob("*.json"))
    for f in files:
        write("topology_file_fuzz", f.stem, f.read_bytes())
    desired = {"bridges": [
        {"name": "br0", "aging_s": 60, "ports": [
            {"name": "p1", "type": "loopback", "options": {"ring-size": "256"}},
            {"name": "p2", "type": "tap", "options": {"ifname": "vsw-p2"}}]},
        {"name": "br2", "max_macs": 128, "memif_dynamic": "/run/vsw/dyn.sock", "ports": []}]}
    running = {"bridges": [
        {"name": "br0", "ports": [
            {"name": "p1", "type": "loopback", "options": {"ring-size": "512"}},
            {"name": "p3", "type": "loopback"}]},
        {"name": "br1", "ports": [{"name": "p2", "type": "tap"}]}]}
    write("topology_file_fuzz", "apply-over-running",
          json.dumps(desired, indent=2).encode() + b"\0" + json.dumps(running).encode())
    write("topology_file_fuzz", "empty", b'{"bridges": []}')


# --- virtio-net header + frame (virtio 1.0 §5.1.6) ------------------------------------------------
NEEDS_CSUM = 1
GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_UDP_L4, GSO_ECN = 1, 3, 4, 5, 0x80
SEL_1514, SEL_1518, SEL_1522, SEL_1920, SEL_9018 = range(5)


def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, sel, chain_seg=0x20):
    # chain_seg: the chain's segment size is 64 + 8 * chain_seg bytes (0x20: 320)
    return struct.pack("<BBHHHHHB", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
                       sel, chain_seg)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def eth(ethertype, vlans=()):
    out = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
    for tpid, vid in vlans:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", ethertype)


def ipv4(proto, l4_len, options=b""):
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + l4_len, 0x1234, 0x4000, 64, proto,
                      0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + options
    c = 0xFFFF - csum(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:]


def ipv6(next_header, payload_len):
    src = bytes.fromhex("fd000000000000000000000000000001")
    dst = bytes.fromhex("fd000000000000000000000000000002")
    return struct.pack("!IHBB", 0x60000000, payload_len, next_header, 64) + src + dst


def tcp(flags=0x18, seq=1000, options=b""):
    doff = 5 + len(options) // 4
    # The checksum field holds the pseudo-header seed, as the kernel leaves it with NEEDS_CSUM.
    return struct.pack("!HHIIBBHHH", 40000, 5201, seq, 1, doff << 4, flags, 65535, 0, 0) + options


def udp(length):
    return struct.pack("!HHHH", 40000, 4789, length, 0)


def payload(n):
    return bytes((i * 31 + 7) & 0xFF for i in range(n))


def virtio_net_hdr():
    p = payload(4000)
    t = tcp()
    f = eth(0x0800) + ipv4(6, len(t) + len(p)) + t + p
    write("virtio_net_hdr_fuzz", "tso4", vnet(NEEDS_CSUM, GSO_TCPV4, 66, 1448, 34, 16, SEL_1514) + f)
    t = tcp(flags=0x99, options=bytes.fromhex("0101080a0000000100000002"))  # CWR, PSH, FIN + TS
    p = payload(20000)
    f = eth(0x0800, [(0x8100, 10)]) + ipv4(6, len(t) + len(p), options=bytes(4)) + t + p
    write("virtio_net_hdr_fuzz", "tso4-ecn-vlan-options",
          vnet(NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, 0, 1400, 42, 16, SEL_1518) + f)
    t = tcp()
    ext = bytes([6, 0]) + bytes(6)  # hop-by-hop, next header TCP
    p = payload(3000)
    f = eth(0x86DD) + ipv6(0, len(ext) + len(t) + len(p)) + ext + t + p
    write("virtio_net_hdr_fuzz", "tso6-hop-by-hop", vnet(NEEDS_CSUM, GSO_TCPV6, 0, 1200, 62, 16, SEL_9018) + f)
    p = payload(2900)
    u = udp(8 + len(p))
    f = eth(0x0800, [(0x88A8, 100), (0x8100, 20)]) + ipv4(17, len(u) + len(p)) + u + p
    write("virtio_net_hdr_fuzz", "uso-qinq", vnet(NEEDS_CSUM, GSO_UDP_L4, 0, 1000, 42, 6, SEL_1522) + f)
    p = payload(300)
    t = tcp()
    f = eth(0x0800) + ipv4(6, len(t) + len(p)) + t + p
    write("virtio_net_hdr_fuzz", "csum-only", vnet(NEEDS_CSUM, 0, 0, 0, 34, 16, SEL_1920) + f)
    write("virtio_net_hdr_fuzz", "arp", vnet(0, 0, 0, 0, 0, 0, SEL_1514) + eth(0x0806) + bytes(28))


# --- vhost-user messages (fuzz/vhost_message_fuzz.cc records; vhost-user.md §2, §5) -------------
def vhost_message():
    V_NONE, V_SEALED, V_UNSEALED, V_EVENTFD, V_PIPE, V_MANY = range(6)
    NEED_REPLY = 0x8
    offered = sum(1 << b for b in (32, 30, 15, 27, 28, 29, 24, 22, 0, 1, 11, 12, 13, 7, 8, 9))

    def rec(req, payload=b"", attach=V_NONE, param=0, flags=0x1, size=None):
        size = len(payload) if size is None else size
        return bytes([attach, param]) + struct.pack("<III", req, flags, size) + payload

    u64 = lambda v: struct.pack("<Q", v)
    state = lambda i, n: struct.pack("<II", i, n)
    gpa, user, mem = 0x100000, 0x7F0000000000, 16 * 4096
    table = struct.pack("<II", 1, 0) + struct.pack("<QQQQ", gpa, mem, user, 0)
    hello = (rec(1) + rec(15) + rec(16, u64(0x9)) + rec(17) + rec(3) + rec(1) +
             rec(2, u64(offered)) + rec(5, table, V_SEALED, 15, flags=0x1 | NEED_REPLY))
    rings = b""
    for i in (0, 1):
        base = user + i * 0x4000
        rings += rec(8, state(i, 256)) + rec(10, state(i, 0))
        rings += rec(9, struct.pack("<IIQQQQ", i, 0, base, base + 0x2000, base + 0x1000, 0))
        rings += rec(12, u64(i), V_EVENTFD) + rec(13, u64(i), V_EVENTFD) + rec(18, state(i, 1))
    write("vhost_message_fuzz", "qemu-start", hello + rings)
    write("vhost_message_fuzz", "qemu-start-stop", hello + rings + rec(11, state(1, 0)) + rec(11, state(0, 0)))
    write("vhost_message_fuzz", "virtio-user-nofd", rec(3) + rec(1) + rec(15) + rec(16, u64(0x8)) +
          rec(2, u64(offered & ~(1 << 30))) + rec(5, table, V_SEALED, 15) +
          rec(8, state(1, 64)) + rec(9, struct.pack("<IIQQQQ", 1, 0, user, user + 0x800, user + 0x400, 0)) +
          rec(12, u64(1 | 0x100)))
    write("vhost_message_fuzz", "hostile-fds", rec(3, b"", V_MANY, 11) + rec(5, table, V_UNSEALED, 15) +
          rec(99, b"", flags=0x1 | NEED_REPLY) + rec(2, u64(1 << 34)))


memif_message()
memif_ring()
vhost_ring()
jsonrpc_line()
topology_file()
virtio_net_hdr()
vhost_message()
