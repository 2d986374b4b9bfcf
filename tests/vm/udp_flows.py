#!/usr/bin/python3
"""Several UDP flows with checked payloads, for RSS tests: a receiver and a sender run in two
network namespaces (tests/vm/tap_bed.py's A and B).

    udp_flows.py recv BIND_IP BASE_PORT FLOWS COUNT TIMEOUT    # prints one JSON line, exits
    udp_flows.py send SRC_IP DST_IP BASE_PORT FLOWS COUNT SIZE RATE

Flow i goes from SRC_IP:BASE_PORT+100+i to DST_IP:BASE_PORT+i, so the flows differ in both
ports (a 4-tuple RSS hash sees FLOWS different tuples). Datagram `seq` of flow i carries the
header "<i>:<seq>:" and then bytes that depend on (i, seq) (see payload()), so a datagram that
arrives damaged, truncated or in another flow's socket is counted as bad. The sender sends the
flows round-robin at RATE datagrams per second in all (paced, so that a TCG guest keeps up).
The receiver stops when it has COUNT distinct datagrams on every flow, or after TIMEOUT
seconds, and prints {"received": [...per flow...], "bad": N, "duplicates": N, "seconds": S}.
It prints "listening" on stderr once every socket is bound.
"""
import json
import selectors
import socket
import sys
import time


def payload(flow, seq, size):
    head = f"{flow}:{seq}:".encode()
    body = bytes((flow * 37 + seq * 11 + i) & 0xFF for i in range(max(size - len(head), 0)))
    return head + body


def receive(bind_ip, base, flows, count, timeout):
    sel = selectors.DefaultSelector()
    for i in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind((bind_ip, base + i))
        sel.register(s, selectors.EVENT_READ, i)
    print("listening", file=sys.stderr, flush=True)
    seen = [set() for _ in range(flows)]
    bad = dup = 0
    t0 = time.monotonic()
    deadline = t0 + timeout
    while any(len(s) < count for s in seen):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(min(left, 0.5)):
            data = key.fileobj.recv(65536)
            flow = key.data
            try:
                f, seq, _ = data.split(b":", 2)
                f, seq = int(f), int(seq)
            except ValueError:
                bad += 1
                continue
            if f != flow or data != payload(f, seq, len(data)):
                bad += 1
            elif seq in seen[flow]:
                dup += 1
            else:
                seen[flow].add(seq)
    print(json.dumps({"received": [len(s) for s in seen], "bad": bad, "duplicates": dup,
                      "seconds": round(time.monotonic() - t0, 2)}), flush=True)


def send(src_ip, dst_ip, base, flows, count, size, rate):
    socks = []
    for i in range(flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src_ip, base + 100 + i))
        s.connect((dst_ip, base + i))
        socks.append(s)
    gap = 1.0 / rate
    t = time.monotonic()
    for seq in range(count):
        for i, s in enumerate(socks):
            s.send(payload(i, seq, size))
            t += gap
            delay = t - time.monotonic()
            if delay > 0:
                time.sleep(delay)


def main(argv):
    if len(argv) == 6 and argv[0] == "recv":
        receive(argv[1], int(argv[2]), int(argv[3]), int(argv[4]), float(argv[5]))
        return 0
    if len(argv) == 8 and argv[0] == "send":
        send(argv[1], argv[2], int(argv[3]), int(argv[4]), int(argv[5]), int(argv[6]),
             float(argv[7]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
