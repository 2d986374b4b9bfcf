"""TCP/IPv4 GSO super-frames with their virtio-net header, and a way to inject one into a kernel
interface so that the kernel treats it exactly like a super-frame its own TCP stack made.

Injection: an AF_PACKET socket with PACKET_VNET_HDR (packet(7)) sends `virtio_net_hdr + frame`;
the kernel turns the header into GSO metadata (virtio_net_hdr_to_skb) and queues the frame on the
interface as one skb: a veth hands it whole to its peer (where vsw's afpacket port reads it),
a tap hands it whole to vsw when vsw enabled TSO on it (TUNSETOFFLOAD) and otherwise segments it
in software first. Headers are set as Linux's TCP sets them for CHECKSUM_PARTIAL: the TCP
checksum field holds the folded pseudo-header sum (RFC 793 §3.1 pseudo-header, length of the
whole TCP segment), csum_start/csum_offset point at it.

Run as a program inside the sending namespace:
    ip netns exec NS /usr/bin/python3 -m tests.support.gso_frames IFNAME FILE
sends the bytes of FILE (a virtio_net_hdr followed by the frame) once on IFNAME.
"""
import socket
import struct
import sys

ETH_HLEN = 14
IP_HLEN = 20
TCP_HLEN = 20
# virtio 1.x §5.1.6 struct virtio_net_hdr (legacy 10-byte form that PACKET_VNET_HDR uses).
VNET_HDR_F_NEEDS_CSUM = 1
VNET_HDR_GSO_TCPV4 = 1
SOL_PACKET = 263  # linux/socket.h (not exported by Python 3.11)
PACKET_VNET_HDR = 15  # linux/if_packet.h
TCP_ACK, TCP_PSH = 0x10, 0x08


def fold(total):
    """RFC 1071 one's-complement folding of a 32-bit-or-more sum to 16 bits."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ones_sum(data):
    if len(data) % 2:
        data += b"\0"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def internet_checksum(data):
    """RFC 1071 checksum of `data` (the value to store in the header)."""
    return ~fold(ones_sum(data)) & 0xFFFF


def pseudo_header(src_ip, dst_ip, proto, length):
    """RFC 793 §3.1 / RFC 768 IPv4 pseudo-header."""
    return socket.inet_aton(src_ip) + socket.inet_aton(dst_ip) + struct.pack("!BBH", 0, proto,
                                                                             length)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def tcp_superframe(src_mac, dst_mac, src_ip, dst_ip, sport, dport, seq, ack, payload, mss,
                   ip_id=0x1000):
    """Returns virtio_net_hdr + Ethernet/IPv4/TCP frame carrying `payload` as one GSO super-frame
    (gso_type TCPV4, gso_size `mss`, partial checksum), PSH|ACK, DF set."""
    total = IP_HLEN + TCP_HLEN + len(payload)
    if total > 0xFFFF:
        raise ValueError(f"an IPv4 datagram holds at most 65535 bytes, not {total}")
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ip_id, 0x4000, 64, socket.IPPROTO_TCP, 0,
                     socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", internet_checksum(ip)) + ip[12:]
    partial = fold(ones_sum(pseudo_header(src_ip, dst_ip, socket.IPPROTO_TCP,
                                          TCP_HLEN + len(payload))))
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (TCP_HLEN // 4) << 4,
                      TCP_ACK | TCP_PSH, 65535, partial, 0)
    eth = mac_bytes(dst_mac) + mac_bytes(src_mac) + struct.pack("!H", 0x0800)
    hdr_len = ETH_HLEN + IP_HLEN + TCP_HLEN
    # flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (host byte order, legacy).
    vnet = struct.pack("=BBHHHH", VNET_HDR_F_NEEDS_CSUM, VNET_HDR_GSO_TCPV4, hdr_len, mss,
                       ETH_HLEN + IP_HLEN, 16)
    return vnet + eth + ip + tcp + payload


def inject(ifname, data):
    """Sends `data` (virtio_net_hdr + frame) once on `ifname` through a PACKET_VNET_HDR socket."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0) as s:
        s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
        s.bind((ifname, 0))
        sent = s.send(data)
        if sent != len(data):
            raise RuntimeError(f"sent {sent} of {len(data)} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: gso_frames.py IFNAME FILE")
    with open(sys.argv[2], "rb") as f:
        inject(sys.argv[1], f.read())
