"""Two pinned workers forward two flows at once; every UDP datagram arrives intact.

Ports are dealt to workers round-robin in creation order (va, vc -> worker 0; vb, vd -> worker 1),
so the flows a->b and d->c enter on different workers."""
import json
import time

from tests.system.test_kernel_traffic import ADDR

# A receiver counting datagrams whose payload matches the pattern derived from its sequence
# number, and a paced sender. Both run inside namespaces under the system python.
RECEIVER = r'''
import json, socket, sys, hashlib
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("0.0.0.0", 9000)); s.settimeout(5)
good = bad = 0; seen = set()
try:
    while True:
        data = s.recv(65536)
        seq = int.from_bytes(data[:4], "big")
        body = hashlib.sha256(data[:4]).digest() * (len(data) // 32 + 1)
        if data[4:] == body[:len(data) - 4] and seq not in seen:
            good += 1; seen.add(seq)
        else:
            bad += 1
except socket.timeout:
    pass
print(json.dumps({"good": good, "bad": bad}))
'''

SENDER = r'''
import socket, sys, time, hashlib
dst, count = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for seq in range(count):
    head = seq.to_bytes(4, "big")
    size = 64 + (seq * 37) % 1300
    body = hashlib.sha256(head).digest() * (size // 32 + 1)
    s.sendto(head + body[:size - 4], (dst, 9000))
    if seq % 50 == 49:
        time.sleep(0.002)
'''


def test_two_workers_forward_concurrently_intact(daemon_factory, net, tmp_path):
    d = daemon_factory(workers=2, extra_args=["--cpus", "0,1"]).start()
    d.vsctl("add-br", "br0")
    ns = {k: net.add_namespace(k) for k in "abcd"}
    for k in "abcd":
        outer = net.add_veth("v" + k, ns[k], ADDR[k] + "/24")
        d.vsctl("add-port", "br0", "v" + k, "--type", "afpacket", "-o", f"ifname={outer}")
    for src, dst in (("a", "b"), ("d", "c")):
        assert net.wait_ping(ns[src], ADDR[dst])
    dp = d.vsctl("dp-show", json_out=True)
    queues = [len(w["rx_queues"]) for w in dp["workers"]]
    assert queues == [2, 2], dp

    (tmp_path / "rx.py").write_text(RECEIVER)
    (tmp_path / "tx.py").write_text(SENDER)
    before = {w["id"]: w["packets"] for w in dp["workers"]}
    receivers = {k: net.ns_spawn(ns[k], f"/usr/bin/python3 {tmp_path}/rx.py") for k in "bc"}
    time.sleep(0.5)
    count = 20000
    senders = [net.ns_spawn(ns[s], f"/usr/bin/python3 {tmp_path}/tx.py {ADDR[r]} {count}")
               for s, r in (("a", "b"), ("d", "c"))]
    for p in senders:
        assert p.wait(timeout=120) == 0
    for k, p in receivers.items():
        out, err = p.communicate(timeout=60)
        result = json.loads(out)
        assert result["bad"] == 0, f"corrupted or duplicated datagrams at {k}: {result}"
        assert result["good"] == count, f"lost datagrams at {k}: {result}"
    after = {w["id"]: w["packets"] for w in d.vsctl("dp-show", json_out=True)["workers"]}
    for wid in after:
        assert after[wid] - before[wid] >= count, f"worker {wid} did not carry its flow"
