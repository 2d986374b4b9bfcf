"""vswitchd --metrics-listen: Prometheus text that promtool accepts, counters equal to what
vswctl reports, over TCP on loopback and over a Unix socket, and the refusals (non-loopback
addresses, bad paths and methods, too many connections)."""
import http.client
import os
import re
import socket
import subprocess

import pytest

from tests.support.vswitchd import Vswitchd
from tests.system.test_kernel_traffic import ADDR

SAMPLE = re.compile(r'^(vsw_[a-z_]+)(\{[^}]*\})? (\S+)$')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def get(conn, path="/metrics", method="GET"):
    conn.request(method, path)
    res = conn.getresponse()
    return res.status, res.getheader("Content-Type"), res.read().decode()


def parse(text):
    """{(name, labels): value} of every sample."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        assert m, line
        out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out


def promtool_check(text):
    res = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.fixture
def daemon(tmp_path):
    port = free_port()
    d = Vswitchd(workdir=str(tmp_path), extra_args=["--metrics-listen", f"127.0.0.1:{port}"])
    d.start()
    d.metrics_port = port
    yield d
    d.stop()


def test_metrics_match_vswctl_and_pass_promtool(daemon, net):
    d = daemon
    d.vsctl("add-br", "br0")
    ns = {k: net.add_namespace(k) for k in "ab"}
    for k in "ab":
        outer = net.add_veth("m" + k, ns[k], ADDR[k] + "/24")
        d.vsctl("add-port", "br0", "m" + k, "--type", "afpacket", "-o", f"ifname={outer}")
    assert net.wait_ping(ns["a"], ADDR["b"])
    net.ping(ns["a"], ADDR["b"], count=20, interval=0.01)

    before = {p["port"]: p for p in d.vsctl("stats", json_out=True)}
    conn = http.client.HTTPConnection("127.0.0.1", d.metrics_port, timeout=10)
    status, ctype, text = get(conn)
    after = {p["port"]: p for p in d.vsctl("stats", json_out=True)}
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4")
    promtool_check(text)
    samples = parse(text)
    for name in ("ma", "mb"):
        labels = f'{{bridge="br0",port="{name}",type="afpacket"}}'
        for key in ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes"):
            value = samples[(f"vsw_port_{key}_total", labels)]
            # Neighbour discovery may add a frame between the snapshots: bounded, not equal.
            assert before[name][key] <= value <= after[name][key], (name, key, value)
        for reason, count in after[name]["tx_drops"].items():
            value = samples[("vsw_port_tx_drops_total", labels[:-1] + f',reason="{reason}"}}')]
            assert before[name]["tx_drops"][reason] <= value <= count
        assert samples[("vsw_port_rx_packets_total", labels)] >= 20
        assert samples[("vsw_port_link_up", labels)] == 1
    macs = len(d.vsctl("fdb-show", "br0", json_out=True))
    assert samples[("vsw_bridge_macs", '{bridge="br0"}')] == macs >= 2
    assert samples[("vsw_bridge_mac_learned_total", '{bridge="br0"}')] >= 2
    dp = d.vsctl("dp-show", json_out=True)
    assert samples[("vsw_mempool_buffers", "")] == dp["mempool"]["buffers"]
    assert samples[("vsw_worker_packets_total", '{worker="0"}')] >= 40
    assert samples[("vsw_tsc_hz", "")] == dp["tsc_hz"]

    # Same connection (keep-alive): HEAD, a wrong path, a wrong method.
    status, _, body = get(conn, method="HEAD")
    assert status == 200 and body == ""
    assert get(conn, "/")[0] == 404
    assert get(conn, method="POST")[0] == 405
    conn.close()


def test_connections_over_the_limit_are_closed_and_service_goes_on(daemon):
    d = daemon
    idle = [socket.create_connection(("127.0.0.1", d.metrics_port)) for _ in range(16)]
    try:
        extra = socket.create_connection(("127.0.0.1", d.metrics_port), timeout=10)
        assert extra.recv(1) == b""  # closed at once
        extra.close()
    finally:
        for s in idle:
            s.close()
    conn = http.client.HTTPConnection("127.0.0.1", d.metrics_port, timeout=10)
    # The idle ones are gone, so a scrape gets in again (the server notices closes at once).
    for _ in range(50):
        try:
            if get(conn)[0] == 200:
                break
        except (ConnectionError, http.client.RemoteDisconnected):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", d.metrics_port, timeout=10)
    else:
        pytest.fail("metrics not served after idle clients left")
    assert d.alive()


def test_unix_socket_endpoint(tmp_path):
    sock = str(tmp_path / "metrics.sock")
    d = Vswitchd(workdir=str(tmp_path), extra_args=["--metrics-listen", sock])
    d.start()
    try:
        status, _, text = get(UnixHTTPConnection(sock))
        assert status == 200
        promtool_check(text)
        assert ("vsw_build_info", '{version="%s"}' % d.result("daemon.version")["version"]) \
            in parse(text)
    finally:
        d.stop()
    assert not os.path.exists(sock)


@pytest.mark.parametrize("addr,why", [("0.0.0.0:9100", "not a loopback address"),
                                      ("192.0.2.1:9100", "not a loopback address"),
                                      ("127.0.0.1", "no port")])
def test_addresses_that_would_expose_metrics_are_refused(tmp_path, addr, why):
    d = Vswitchd(workdir=str(tmp_path), extra_args=["--metrics-listen", addr])
    d.start(expect_ready=False)
    assert d.proc.wait(timeout=20) == 1
    assert why in d.log() and addr in d.log()
