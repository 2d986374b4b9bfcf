"""A 64 KiB TCP GSO super-frame from a kernel port reaches a memif client as correct MTU-sized
frames (issue 6, item 8).

    ns s: eth0 / tap --(tap or afpacket port "k")-- br0 --(memif port "m")-- vsw-memif-dump

The sending namespace's kernel queues one TCP/IPv4 super-frame (gso_size 1460, the MSS of a
1500-byte MTU; partial checksum) on its interface: 65 160 payload bytes (the largest a Linux TCP
socket with MSS 1448 builds) or 65 481 (a 65 535-byte frame: from gso_max_size = 65 536 bytes on
the kernel segments by itself before the driver sees the frame). It goes through an AF_PACKET
socket with PACKET_VNET_HDR (tests/support/gso_frames.py), so it carries the GSO metadata the
namespace's own TCP stack would attach; a real TCP connection cannot be used, as nothing on the
memif side answers the handshake.

The kernel port keeps the super-frame whole (afpacket with PACKET_VNET_HDR, a tap with
IFF_VNET_HDR and TSO on: port k counts one received packet, a few more at most from the
namespace's IPv6 start-up), and the memif port cannot take super-frames, so vsw must cut it into
MSS segments at the egress towards memif. The memif client (tests/support/memif_dump) writes what
it receives to a pcap file, and Python checks every segment independently of vsw's code: count,
size <= MTU + 14, contiguous sequence numbers, IP identification + 1 per segment, PSH only on the
last, IPv4 and TCP checksums, payload bytes. test_checker_agrees_with_the_kernels_own_segmentation
checks those checks against Linux's own segmentation.

Runs as root; every namespace, link and process is removed at the end.
"""
import json
import math
import os
import subprocess

import pytest

from tests.support import paths
from tests.support.frame_check import parse_tcp, read_pcap
from tests.support.gso_frames import TCP_PSH, tcp_superframe
from tests.support.wait import wait_for

DUMP = paths.BUILD / "tests" / "support" / "memif_dump" / "vsw-memif-dump"
REPO = paths.REPO

MEMIF_MAC = "02:00:00:00:00:42"
SRC_IP, DST_IP = "10.78.0.1", "10.78.0.2"
SPORT, DPORT = 40000, 5001
SEQ = 0xFFFF0000  # wraps around 2^32 inside the super-frame
MTU = 1500
MSS = MTU - 40
KERNEL_TCP_MAX_PAYLOAD = 65160  # 45 x 1448: tcp_xmit_size_goal() below 64 KiB
# A 65 535-byte frame: the largest the kernel queues whole (skb->len below gso_max_size 65536).
GSO_MAX_PAYLOAD = 65535 - 54


def payload_bytes(length):
    """Position-dependent bytes: a lost, duplicated or shifted segment cannot go unnoticed."""
    return bytes((i * 7 + (i >> 8)) & 0xFF for i in range(length))


def port_stats(d, name):
    return d.vsctl("port-show", name, json_out=True)["stats"]


def tcp_segments(pcap):
    """The frames of our TCP flow in a pcap file, parsed, in arrival order."""
    return [t for t in map(parse_tcp, read_pcap(pcap))
            if t is not None and (t.sport, t.dport) == (SPORT, DPORT)]


def segment_problems(segs, payload):
    """What is wrong with `segs` as the MSS segmentation of the super-frame carrying `payload`
    (tcp_superframe() with SEQ, ip_id 0x1000, PSH|ACK): a list of messages, empty when right."""
    expected = math.ceil(len(payload) / MSS)
    if len(segs) != expected:
        return [f"{len(segs)} segments, expected {expected}"]
    problems = []
    seq = SEQ
    for i, t in enumerate(segs):
        where = f"segment {i} of {expected}"
        last = i == expected - 1
        checks = [
            (t.frame_len <= MTU + 14, f"{t.frame_len} bytes, more than MTU + 14"),
            (t.dst_mac == bytes.fromhex(MEMIF_MAC.replace(":", "")), "destination MAC"),
            ((t.src_ip, t.dst_ip) == (SRC_IP, DST_IP), "addresses"),
            (t.ip_checksum_ok, "bad IPv4 header checksum"),
            (t.tcp_checksum_ok, "bad TCP checksum"),
            (t.seq == seq, f"seq {t.seq:#x}, expected {seq:#x}"),
            (t.ip_id == (0x1000 + i) & 0xFFFF, f"IP id {t.ip_id:#x}"),
            (bool(t.flags & TCP_PSH) == last, "PSH " + ("missing" if last else "set")),
            (len(t.payload) == (MSS if not last else len(payload) - MSS * (expected - 1)),
             f"{len(t.payload)} payload bytes"),
        ]
        problems += [f"{where}: {msg}" for ok, msg in checks if not ok]
        seq = (seq + len(t.payload)) & 0xFFFFFFFF
    if not problems and b"".join(t.payload for t in segs) != payload:
        problems.append("payload bytes differ")
    return problems


def inject_superframe(net, ns, ifname, tmp_path, payload):
    """Queues tcp_superframe(payload) on `ifname` in `ns`, from that interface's MAC."""
    frame = tcp_superframe(net.mac_of(ns, ifname), MEMIF_MAC, SRC_IP, DST_IP, SPORT, DPORT, SEQ,
                           1, payload, MSS)
    frame_file = tmp_path / "superframe.bin"
    frame_file.write_bytes(frame)
    net.ns_exec(ns, f"env PYTHONPATH={REPO} /usr/bin/python3 -m tests.support.gso_frames "
                    f"{ifname} {frame_file}")


@pytest.fixture
def dumper(tmp_path):
    """Starts vsw-memif-dump on demand; killed at the end."""
    procs = []

    def start(sock, mid, pcap):
        if not DUMP.exists():
            pytest.fail(f"{DUMP} is not built: ninja -C {paths.BUILD}")
        p = subprocess.Popen([str(DUMP), "--socket", sock, "--id", str(mid), "--mac", MEMIF_MAC,
                              "--pcap", pcap, "--idle", "2", "--duration", "30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(p)
        line = p.stdout.readline().strip()
        assert line == "ready", f"vsw-memif-dump: {line} {p.stderr.read() if p.poll() else ''}"
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=10)


@pytest.mark.parametrize("payload_len", [KERNEL_TCP_MAX_PAYLOAD, GSO_MAX_PAYLOAD],
                         ids=["kernel-tcp-max", "gso-max"])
@pytest.mark.parametrize("kind", ["afpacket", "tap"])
def test_superframe_reaches_memif_client_as_mss_segments(daemon_factory, net, dumper, tmp_path,
                                                         kind, payload_len):
    sockdir = f"/tmp/vswsf{os.getpid()}{kind[0]}"  # sun_path is short: keep it out of tmp_path
    os.makedirs(sockdir, exist_ok=True)
    sock = os.path.join(sockdir, "memif.sock")
    try:
        d = daemon_factory(workdir=str(tmp_path)).start()
        d.vsctl("add-br", "br0")
        d.vsctl("add-port", "br0", "m", "--type", "memif", "-o", "id=1", "-o", f"socket={sock}")
        ns = net.add_namespace("s")
        if kind == "tap":
            ifname = net.name("tk")
            d.vsctl("add-port", "br0", "k", "--type", "tap", "-o", f"ifname={ifname}")
            net.move_into(ifname, ns, SRC_IP + "/24")
        else:
            outer = net.add_veth("vk", ns, SRC_IP + "/24")
            d.vsctl("add-port", "br0", "k", "--type", "afpacket", "-o", f"ifname={outer}")
            ifname = "eth0"
        pcap = str(tmp_path / "memif.pcap")
        dump = dumper(sock, 1, pcap)
        # The client's announce frame has taught br0 where MEMIF_MAC lives: known unicast.
        assert wait_for(lambda: port_stats(d, "m")["rx_packets"] >= 1), port_stats(d, "m")
        k_before = port_stats(d, "k")["rx_packets"]

        payload = payload_bytes(payload_len)
        inject_superframe(net, ns, ifname, tmp_path, payload)

        out, err = dump.communicate(timeout=60)
        summary = json.loads(out.strip().splitlines()[-1])
        assert dump.returncode == 0, (summary, err)
    finally:
        subprocess.run(["rm", "-rf", sockdir])

    segs = tcp_segments(pcap)
    expected = math.ceil(payload_len / MSS)
    assert len(segs) == expected, (f"{len(segs)} TCP frames, expected {expected}; "
                                   f"memif client summary {summary}; k: {port_stats(d, 'k')}; "
                                   f"m: {port_stats(d, 'm')}\n{d.log()}")
    assert segment_problems(segs, payload) == []
    # vsw's own view: the kernel port received the super-frame whole (one packet; a few more at
    # most: the namespace's IPv6 start-up chatter), the memif port sent every segment, so vsw
    # itself segmented at the egress towards memif.
    k_received = port_stats(d, "k")["rx_packets"] - k_before
    assert 1 <= k_received < expected, f"port k received {k_received} frames"
    assert port_stats(d, "m")["tx_packets"] >= expected


@pytest.mark.parametrize("tx_csum", ["off", "on"])
def test_checker_agrees_with_the_kernels_own_segmentation(net, tmp_path, tx_csum):
    """The tools above, checked against Linux itself: with TSO off on the sending veth the kernel
    segments the injected super-frame in software (tcp_gso_segment); with checksum offload off
    too it completes every checksum, and segment_problems() finds nothing; with checksum offload
    on the segments cross the veth with partial checksums only, and it must say so."""
    a, b = net.add_namespace("ka"), net.add_namespace("kb")
    net.ns_exec(a, f"ip link add eth0 type veth peer name eth1 netns {b}")
    net.ns_exec(a, "ip link set eth0 up")
    net.ns_exec(b, "ip link set eth1 up")
    net.ns_exec(a, f"ethtool -K eth0 tso off tx {tx_csum}")
    pcap = tmp_path / "kernel.pcap"
    payload = payload_bytes(KERNEL_TCP_MAX_PAYLOAD)
    expected = math.ceil(len(payload) / MSS)
    cap = net.ns_spawn(b, f"env PYTHONPATH={REPO} /usr/bin/python3 -m tests.support.packet_capture"
                          f" eth1 {pcap} {expected} 20")
    assert cap.stdout.readline().strip() == "ready", cap.stderr.read()
    inject_superframe(net, a, "eth0", tmp_path, payload)
    assert int(cap.stdout.readline()) == expected, cap.stderr.read()
    problems = segment_problems(tcp_segments(pcap), payload)
    if tx_csum == "off":
        assert problems == []
    else:
        assert problems and all(p.endswith("bad TCP checksum") for p in problems), problems
