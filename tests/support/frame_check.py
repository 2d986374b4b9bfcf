"""Reading frames back for checks: a classic pcap file reader (the libpcap file format that
tests/support/memif_dump writes) and an Ethernet/IPv4/TCP header parser with RFC 1071 checksum
verification, independent of the code under test."""
import dataclasses
import socket
import struct

from tests.support.gso_frames import ETH_HLEN, fold, internet_checksum, ones_sum, pseudo_header


def read_pcap(path):
    """All frames of a pcap file (microsecond or nanosecond magic, either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise ValueError(f"{path} is not a pcap file")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(order + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


@dataclasses.dataclass
class TcpFrame:
    frame_len: int
    dst_mac: bytes
    src_ip: str
    dst_ip: str
    ip_total_len: int
    ip_id: int
    ip_checksum_ok: bool
    sport: int
    dport: int
    seq: int
    flags: int
    tcp_checksum_ok: bool
    payload: bytes


def parse_tcp(frame):
    """A TcpFrame for an untagged Ethernet/IPv4/TCP frame, else None."""
    if len(frame) < ETH_HLEN + 40 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[ETH_HLEN:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_TCP:
        return None
    total = struct.unpack("!H", ip[2:4])[0]
    datagram = ip[:total]
    tcp = datagram[ihl:]
    doff = (tcp[12] >> 4) * 4
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    tcp_sum = fold(ones_sum(pseudo_header(src, dst, socket.IPPROTO_TCP, len(tcp))) +
                   ones_sum(bytes(tcp)))
    return TcpFrame(frame_len=len(frame), dst_mac=frame[:6], src_ip=src, dst_ip=dst,
                    ip_total_len=total,
                    ip_id=struct.unpack("!H", ip[4:6])[0],
                    ip_checksum_ok=internet_checksum(bytes(ip[:ihl])) == 0,
                    sport=struct.unpack("!H", tcp[0:2])[0], dport=struct.unpack("!H", tcp[2:4])[0],
                    seq=struct.unpack("!I", tcp[4:8])[0], flags=tcp[13],
                    tcp_checksum_ok=tcp_sum == 0xFFFF, payload=bytes(tcp[doff:]))
