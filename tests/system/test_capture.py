"""Live capture (docs/capture.md): `vswctl capture` on a running switch, read back by tcpdump.

Topology (10.78.0.0/24 on one bridge br0):
    ns a --afpacket port va (veth <p>va)-- br0 --afpacket port vb (veth <p>vb)-- ns b

UDP datagrams of a known number are sent with a plain socket from one namespace to the other
(alternating destination ports 40001/40002, so a filter can select exactly half). Every test
synchronises on events: the "capturing on" line vswctl prints once the capture runs, vswctl's
exit, capture.list, port counters, a DNS query arriving at a resolver that never answers.
"""
import os
import select
import signal
import socket
import subprocess
import time

import pytest

from tests.support import paths
from tests.support.kernel_offloads import csum_errors
from tests.support.wait import wait_for

ADDR = {"a": "10.78.0.1", "b": "10.78.0.2"}
SENDER = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
          "[s.sendto(bytes([i % 256]) * 200, (sys.argv[1], 40001 + i % 2)) "
          "for i in range(int(sys.argv[2]))]")


@pytest.fixture
def topo(vswitchd, net):
    d = vswitchd
    d.vsctl("add-br", "br0")
    ns = {k: net.add_namespace(k) for k in "ab"}
    for k in "ab":
        outer = net.add_veth("v" + k, ns[k], ADDR[k] + "/24")
        d.vsctl("add-port", "br0", "v" + k, "--type", "afpacket", "-o", f"ifname={outer}")
    assert net.wait_ping(ns["a"], ADDR["b"]), d.log()
    assert net.wait_ping(ns["b"], ADDR["a"]), d.log()
    return d, net, ns


def send_udp(net, ns, dst, count):
    net.ns_exec(ns, f'/usr/bin/python3 -c "{SENDER}" {dst} {count}')


class CaptureProc:
    """A `vswctl capture` process; start() returns once the daemon runs the capture."""

    def __init__(self, d, *args, stdout=subprocess.PIPE, shell_tail=None):
        cmd = [str(paths.VSWCTL), "--socket", d.socket, "capture"] + [str(a) for a in args]
        if shell_tail:
            cmd = " ".join(f"'{c}'" for c in cmd) + " | " + shell_tail
        self.proc = subprocess.Popen(cmd, shell=shell_tail is not None, stdout=stdout,
                                     stderr=subprocess.PIPE)
        self.stderr = b""

    def wait_started(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while b"capturing on" not in self.stderr:
            left = deadline - time.monotonic()
            assert left > 0, f"capture did not start: {self.stderr!r}"
            ready, _, _ = select.select([self.proc.stderr], [], [], left)
            if ready:
                chunk = os.read(self.proc.stderr.fileno(), 4096)
                assert chunk, f"vswctl exited: {self.stderr!r} rc={self.proc.poll()}"
                self.stderr += chunk
        return self

    def finish(self, timeout=30.0):
        out, err = self.proc.communicate(timeout=timeout)
        self.stderr += err
        return self.proc.returncode, out


def tcpdump_lines(path, *extra):
    res = subprocess.run(["tcpdump", "-n", "-r", str(path)] + list(extra), capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return [line for line in res.stdout.splitlines() if line.strip()]


def captures(d):
    return d.vsctl("list-captures", json_out=True)


def test_file_with_exact_count_read_back_by_tcpdump(topo, tmp_path):
    d, net, ns = topo
    out = tmp_path / "va.pcap"
    cap = CaptureProc(d, "va", "--direction", "rx", "-w", out, "-c", 40, "udp").wait_started()
    send_udp(net, ns["a"], ADDR["b"], 40)
    rc, _ = cap.finish()
    assert rc == 0, cap.stderr
    assert b"40 frames captured, 0 dropped" in cap.stderr
    data = out.read_bytes()
    assert data[:4] == (0xA1B23C4D).to_bytes(4, "little"), "not a nanosecond pcap file"
    assert int.from_bytes(data[20:24], "little") == 1, "link type is not Ethernet"
    lines = tcpdump_lines(out)
    assert len(lines) == 40, lines
    assert all(f"{ADDR['a']}." in line and "UDP, length 200" in line for line in lines), lines
    assert wait_for(lambda: captures(d) == [])


def test_filter_selects_exactly_half(topo, tmp_path):
    """Two captures at once: `udp` with -c 40 ends once all 40 frames passed the port, and
    `udp dst port 40001` (run by the same worker in the same burst) then matched exactly 20."""
    d, net, ns = topo
    half, every = tmp_path / "half.pcap", tmp_path / "all.pcap"
    cap_half = CaptureProc(d, "va", "-w", half, "udp", "dst", "port", "40001").wait_started()
    cap_all = CaptureProc(d, "va", "-w", every, "-c", 40, "udp").wait_started()
    send_udp(net, ns["a"], ADDR["b"], 40)
    rc, _ = cap_all.finish()
    assert rc == 0, cap_all.stderr
    assert len(tcpdump_lines(every)) == 40
    running = captures(d)
    assert [c["matched"] for c in running] == [20], running
    assert running[0]["filter"] == "udp dst port 40001"
    # Everything matched reaches the file; SIGINT then ends vswctl cleanly (exit 0).
    assert wait_for(lambda: half.exists() and len(tcpdump_lines(half)) == 20, timeout=10)
    cap_half.proc.send_signal(signal.SIGINT)
    rc, _ = cap_half.finish()
    assert rc == 0, cap_half.stderr
    lines = tcpdump_lines(half)
    assert len(lines) == 20 and all(".40001: UDP" in line for line in lines), lines
    assert wait_for(lambda: captures(d) == [])


def test_stream_to_tcpdump_through_a_pipe(topo):
    d, net, ns = topo
    cap = CaptureProc(d, "vb", "-w", "-", "-c", 10, "udp",
                      shell_tail="tcpdump -n -r - 2>/dev/null").wait_started()
    send_udp(net, ns["a"], ADDR["b"], 10)
    rc, out = cap.finish()
    assert rc == 0, cap.stderr
    lines = out.decode().splitlines()
    assert len(lines) == 10, lines
    assert all(f"> {ADDR['b']}.4000" in line for line in lines), lines


def test_rx_and_tx_directions(topo, tmp_path):
    d, net, ns = topo
    rx, tx = tmp_path / "rx.pcap", tmp_path / "tx.pcap"
    cap_rx = CaptureProc(d, "va", "--direction", "rx", "-w", rx, "-c", 6, "udp").wait_started()
    cap_tx = CaptureProc(d, "va", "--direction", "tx", "-w", tx, "-c", 4, "udp").wait_started()
    send_udp(net, ns["a"], ADDR["b"], 6)  # enters vsw on va: rx
    send_udp(net, ns["b"], ADDR["a"], 4)  # leaves vsw on va: tx
    assert cap_rx.finish()[0] == 0, cap_rx.stderr
    assert cap_tx.finish()[0] == 0, cap_tx.stderr
    rx_lines, tx_lines = tcpdump_lines(rx), tcpdump_lines(tx)
    assert len(rx_lines) == 6 and all(f"{ADDR['a']}." in l.split(">")[0] for l in rx_lines)
    assert len(tx_lines) == 4 and all(f"{ADDR['b']}." in l.split(">")[0] for l in tx_lines)


def test_summary_lines_without_w(topo):
    d, net, ns = topo
    cap = CaptureProc(d, "va", "-c", 3, "udp").wait_started()
    send_udp(net, ns["a"], ADDR["b"], 3)
    rc, out = cap.finish()
    assert rc == 0, cap.stderr
    lines = out.decode().splitlines()
    assert len(lines) == 3, lines
    assert all(f"IPv4 {ADDR['a']} > {ADDR['b']} proto 17 length 242" in l for l in lines), lines


def test_killed_client_ends_the_capture(topo, tmp_path):
    d, net, ns = topo
    cap = CaptureProc(d, "va", "-w", tmp_path / "x.pcap").wait_started()
    assert len(captures(d)) == 1
    cap.proc.kill()
    cap.proc.wait(timeout=10)
    assert wait_for(lambda: captures(d) == [], timeout=10), captures(d)
    # Traffic still flows, and a new capture can start.
    assert net.ping(ns["a"], ADDR["b"], count=3) == 0.0


def test_bad_filter_is_refused_and_starts_nothing(topo, tmp_path):
    d, _, _ = topo
    out = tmp_path / "bad.pcap"
    res = d.vsctl("capture", "va", "-w", out, "udp", "port", check=False)
    assert res.returncode == 2, res
    assert "bad filter 'udp port'" in res.stderr and "syntax error" in res.stderr, res.stderr
    assert not out.exists()
    assert captures(d) == []
    res = d.vsctl("capture", "nosuch", "-w", out, check=False)
    assert res.returncode == 2 and "port 'nosuch' does not exist" in res.stderr, res.stderr


def test_deleted_port_ends_the_capture_with_a_message(topo, tmp_path):
    d, _, _ = topo
    cap = CaptureProc(d, "vb", "-w", tmp_path / "vb.pcap").wait_started()
    d.vsctl("del-port", "vb")
    rc, _ = cap.finish()
    assert rc == 2, cap.stderr
    assert b"port 'vb' was deleted" in cap.stderr
    assert captures(d) == []


def test_capture_during_iperf3_keeps_traffic_correct(topo, tmp_path):
    """A capture of everything TCP on the server's port while iperf3 runs: the transfer
    completes with no checksum error in either namespace, and the file reads back."""
    d, net, ns = topo
    out = tmp_path / "tcp.pcap"
    cap = CaptureProc(d, "vb", "-w", out, "-s", 128, "tcp").wait_started()
    before = {k: csum_errors(net, ns[k]) for k in "ab"}
    srv = net.ns_spawn(ns["b"], "iperf3 -s -1 -p 5202")
    assert wait_for(lambda: "5202" in net.ns_exec(ns["b"], "ss -ltn").stdout, timeout=10)
    res = net.ns_exec(ns["a"], f"iperf3 -c {ADDR['b']} -p 5202 -t 3 -J", check=False, timeout=60)
    srv.wait(timeout=15)
    assert res.returncode == 0, res.stdout + res.stderr
    assert '"bytes"' in res.stdout
    for k in "ab":
        assert csum_errors(net, ns[k]) == before[k], f"checksum errors in ns {k}"
    running = captures(d)
    assert running and running[0]["matched"] > 1000, running
    cap.proc.send_signal(signal.SIGINT)
    rc, _ = cap.finish()
    assert rc == 0, cap.stderr
    lines = tcpdump_lines(out, "-c", "100")
    assert len(lines) == 100 and all("Flags" in l for l in lines), lines[:5]


SILENT_DNS = "127.0.0.77"  # loopback (all of 127/8 is), so nothing leaves the machine


@pytest.fixture
def silent_resolver(tmp_path):
    """A DNS server that reads queries and never answers, and a resolv.conf that names it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((SILENT_DNS, 53))
    conf = tmp_path / "resolv.conf"
    conf.write_text(f"nameserver {SILENT_DNS}\noptions timeout:20 attempts:1\n")
    yield sock, conf
    sock.close()


def queries_seen(sock, timeout):
    """Reads the queries that arrive within `timeout` s (at least one, or none at the end)."""
    n = 0
    while select.select([sock], [], [], timeout)[0]:
        sock.recv(4096)
        n += 1
        timeout = 0
    return n


def test_unresolvable_host_name_is_refused_without_holding_the_control_thread(
        daemon_factory, silent_resolver, tmp_path):
    """`host NAME` whose resolver never answers: libpcap would block for the resolver's timeout
    (20 s here). The capture is refused within the compile limit (1.5 s), another client is
    served meanwhile, at most 4 compiles may wait at once, and addresses work again after."""
    sock, conf = silent_resolver
    d = daemon_factory(prefix=["unshare", "-m", "--", "sh", "-c",
                               f'mount --bind {conf} /etc/resolv.conf && exec "$0" "$@"'])
    d.start()
    d.vsctl("add-br", "br0")
    d.vsctl("add-port", "br0", "m1", "--type", "memif", "-o", "id=1")

    def refused_capture(name):
        t0 = time.monotonic()
        res = d.vsctl("capture", "m1", "-w", tmp_path / "x.pcap", "host", name, check=False)
        return res, time.monotonic() - t0

    slow = CaptureProc(d, "m1", "-w", tmp_path / "x.pcap", "host", "db1.vsw-test.invalid")
    assert queries_seen(sock, 10) >= 1, "libpcap never asked the resolver"
    t0 = time.monotonic()
    d.vsctl("show")  # served while the compile waits for its answer
    assert time.monotonic() - t0 < 2.5
    rc, _ = slow.finish()
    assert rc != 0, slow.stderr
    assert b"write addresses instead" in slow.stderr, slow.stderr
    assert not (tmp_path / "x.pcap").exists()

    # Three more stuck compiles fill the 4 slots; the next filter is refused at once.
    for k in range(3):
        res, took = refused_capture(f"db{k + 2}.vsw-test.invalid")
        assert res.returncode != 0 and "write addresses instead" in res.stderr, res
        assert took < 5, took
    res, took = refused_capture("db9.vsw-test.invalid")
    assert res.returncode != 0 and "still being compiled" in res.stderr, res
    assert took < 1.0, took
    assert captures(d) == []

    # Once the resolver gave up on them, a filter with an address starts a capture.
    started = []

    def numeric_capture_starts():
        cap = CaptureProc(d, "m1", "-w", tmp_path / "y.pcap", "host", "10.78.0.1")
        try:
            started.append(cap.wait_started(timeout=5))
            return True
        except AssertionError:
            cap.finish()
            return False

    assert wait_for(numeric_capture_starts, timeout=60, step=0.2), d.log()
    cap = started[0]
    assert [c["filter"] for c in captures(d)] == ["host 10.78.0.1"]
    cap.proc.send_signal(signal.SIGINT)
    assert cap.finish()[0] == 0, cap.stderr
