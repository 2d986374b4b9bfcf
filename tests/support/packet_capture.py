"""A minimal capture for tests: receives IPv4 frames on one interface through an AF_PACKET socket
and writes them to a classic pcap file (read back with frame_check.read_pcap).

Run inside the namespace that holds the interface:
    ip netns exec NS /usr/bin/python3 -m tests.support.packet_capture IFNAME FILE COUNT TIMEOUT
prints "ready" once the socket is bound (frames sent after that are seen), then stops after
COUNT frames or TIMEOUT seconds, whichever comes first, and prints how many it wrote.
"""
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4  # sockaddr_ll.sll_pkttype of frames this host sends (linux/if_packet.h)


def capture(ifname, path, count, timeout):
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP)) as s, \
            open(path, "wb") as out:
        s.bind((ifname, 0))
        out.write(struct.pack("=IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        print("ready", flush=True)
        deadline = time.monotonic() + timeout
        written = 0
        while written < count and time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                frame, addr = s.recvfrom(262144)
            except socket.timeout:
                break
            if addr[2] == PACKET_OUTGOING:
                continue
            now = time.time()
            out.write(struct.pack("=IIII", int(now), int(now % 1 * 1e6), len(frame), len(frame)))
            out.write(frame)
            written += 1
        return written


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: packet_capture.py IFNAME FILE COUNT TIMEOUT")
    print(capture(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])), flush=True)
