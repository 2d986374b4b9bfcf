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
    if seq % 10 == 9:
        time.sleep(0.001)
'''


def softnet_drops():
    """Frames the kernel dropped from its per-CPU input backlogs (all namespaces)."""
    with open("/proc/net/softnet_stat") as f:
        return sum(int(line.split()[1], 16) for line in f)


def udp_errors(net, ns):
    """Datagrams the namespace dropped: at its veth end, socket buffer full, bad checksum."""
    lines = net.ns_exec(ns, "cat /proc/net/snmp").stdout.splitlines()
    udp = [line.split()[1:] for line in lines if line.startswith("Udp:")]
    fields = dict(zip(udp[0], map(int, udp[1])))
    link = json.loads(net.ns_exec(ns, "ip -s -j link show eth0").stdout)[0]
    return fields["InErrors"] + fields["RcvbufErrors"] + link["stats64"]["rx"]["dropped"]


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
    tx_before = {s["port"]: s["tx_packets"] for s in d.vsctl("stats", json_out=True)}
    kernel_before = softnet_drops() + udp_errors(net, ns["b"]) + udp_errors(net, ns["c"])
    receivers = {k: net.ns_spawn(ns[k], f"/usr/bin/python3 {tmp_path}/rx.py") for k in "bc"}
    time.sleep(0.5)
    count = 20000
    senders = [net.ns_spawn(ns[s], f"/usr/bin/python3 {tmp_path}/tx.py {ADDR[r]} {count}")
               for s, r in (("a", "b"), ("d", "c"))]
    for p in senders:
        assert p.wait(timeout=120) == 0
    results = {}
    for k, p in receivers.items():
        out, err = p.communicate(timeout=60)
        results[k] = json.loads(out)
    stats = {s["port"]: s for s in d.vsctl("stats", json_out=True)}
    kernel_lost = softnet_drops() + udp_errors(net, ns["b"]) + udp_errors(net, ns["c"]) - kernel_before
    for k, r in results.items():
        assert r["bad"] == 0, f"corrupted or duplicated datagrams at {k}: {r}"
        # vsw handed every datagram to the receiving port, without any drop...
        port = stats["v" + k]
        assert port["tx_packets"] - tx_before["v" + k] >= count, port
        assert sum(port["tx_drops"].values()) == 0, port
    # ...and whatever did not reach the receivers was dropped by the kernel behind vsw (its
    # input backlog or the socket), which the kernel's own counters account for. On a quiet
    # machine nothing is lost at all.
    missing = sum(count - r["good"] for r in results.values())
    assert missing <= kernel_lost, f"{missing} datagrams lost, kernel dropped {kernel_lost}: {results}"
    after = {w["id"]: w["packets"] for w in d.vsctl("dp-show", json_out=True)["workers"]}
    for wid in after:
        assert after[wid] - before[wid] >= count, f"worker {wid} did not carry its flow"
