"""Hostile control clients (garbage, a 10 MB line, a client that never reads, a half-open
client) while frames flow: the daemon keeps serving other clients and forwarding."""
import json
import socket
import threading
import time

from tests.support.vswitchd import read_line
from tests.system.test_kernel_traffic import ADDR


def connect(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(d.socket)
    return s


def test_hostile_clients_leave_service_intact(vswitchd, net):
    d = vswitchd
    d.vsctl("add-br", "br0")
    ns = {k: net.add_namespace(k) for k in "cd"}
    for k in "cd":
        outer = net.add_veth("v" + k, ns[k], ADDR[k] + "/24")
        d.vsctl("add-port", "br0", "v" + k, "--type", "afpacket", "-o", f"ifname={outer}")
    assert net.wait_ping(ns["c"], ADDR["d"])
    pinger = net.ns_spawn(ns["c"], f"ping -c 60 -i 0.05 {ADDR['d']}")

    # 1. Garbage gets a parse error and the connection stays usable for valid requests.
    g = connect(d)
    g.sendall(b"\x00\xffthis is not json\n")
    reply = json.loads(read_line(g))
    assert reply["error"]["code"] == -32700
    g.sendall(b'{"jsonrpc":"2.0","id":7,"method":"no.such.method"}\n')
    assert json.loads(read_line(g))["error"]["code"] == -32601
    g.sendall(b'{"jsonrpc":"2.0","id":8,"method":"bridge.add","params":{"name":5}}\n')
    assert json.loads(read_line(g))["error"]["code"] == -32602
    g.close()

    # 2. A 10 MB line without a newline: the daemon answers with an error and drops the client.
    big = connect(d)
    sent_error = {}

    def flood():
        try:
            big.sendall(b"[" + b"1," * (5 * 1024 * 1024))
        except OSError as e:
            sent_error["e"] = e
    t = threading.Thread(target=flood)
    t.start()
    t.join(timeout=30)
    big.settimeout(10)
    data = b""
    try:
        while True:
            chunk = big.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    big.close()
    assert b"-32700" in data or sent_error, "oversize line neither answered nor cut off"

    # 3. A client that sends many requests and never reads its replies.
    lazy = connect(d)
    lazy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    req = b'{"jsonrpc":"2.0","id":1,"method":"daemon.methods"}\n'
    lazy.setblocking(False)
    try:
        for _ in range(20000):
            lazy.send(req)
    except OSError:
        pass

    # 4. Half-open clients: connect and say nothing, or send half a request.
    idle = [connect(d) for _ in range(5)]
    idle[0].sendall(b'{"jsonrpc":"2.0","id":1,"meth')

    # Other clients are still served promptly, and forwarding went on throughout.
    t0 = time.time()
    for _ in range(20):
        assert d.result("daemon.version")["version"]
    assert time.time() - t0 < 10
    assert d.vsctl("show").returncode == 0
    out, _ = pinger.communicate(timeout=60)
    assert " 0% packet loss" in out, out
    assert d.alive()
    for s in idle + [lazy]:
        s.close()
    assert d.result("bridge.list")[0]["name"] == "br0"
