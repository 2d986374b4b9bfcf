"""Two host network namespaces joined only through a guest: namespace A's tap is the guest's
first NIC, namespace B's tap its second, so every frame from A to B crosses whatever the guest
bridges its two NICs with (vsw, in tests/vm/test_virtio_pmd.py).

    bed = TapBed("pl", subnet="10.77.1")            # namespaces and tap names, nothing made yet
    with Guest("g", nics=bed.nics(device_opts=[...]), ...) as g:
        bed.attach()                                  # QEMU made the taps: move them into A, B
        ...
        bed.ping()                                    # A -> B, payload pattern checked
        bed.checked_transfer(8 << 20)                 # A -> B over TCP, sha256 compared
        bed.iperf3(seconds=3, flows=1)
        bed.udp_flows(flows=8)                        # A -> B, 8 UDP flows, payloads checked
    bed.cleanup()

QEMU creates each tap (`-netdev tap,ifname=...`) in the host's namespace when it starts; the
tap is then moved into its namespace with `ip link set TAP netns NS`. QEMU's file descriptor
stays attached to the device across the move (a tun device keeps its queues when its namespace
changes), which the traffic checks here prove each time. Names carry tests/support/netns.py's
per-run prefix; cleanup() removes the namespaces, and with them the taps, even after a failure.
"""
import hashlib
import json
import os
import tempfile
import time

from tests.support.netns import Netns, sh
from tests.vm.guest import IgbTapNic, TapNic, wait_for

TRANSFER_PORT = 5555
IPERF_PORT = 5201
UDP_BASE_PORT = 6000                                      # udp_flows: B's ports 6000 + i
UDP_FLOWS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "udp_flows.py")


class BedError(AssertionError):
    """A traffic check between the namespaces failed (the message has the tool's output)."""


class TapBed:
    """Namespaces A and B with addresses subnet.1 and subnet.2 (/24) on taps tap_a, tap_b.

    tag: a few letters making the names unique within the run (<= 3 characters)."""

    def __init__(self, tag, subnet="10.77.0"):
        self.netns = Netns()
        self.tag = tag
        self.ns_a, self.ns_b = self.netns.name(f"{tag}A"), self.netns.name(f"{tag}B")
        self.tap_a, self.tap_b = self.netns.name(f"{tag}a"), self.netns.name(f"{tag}b")
        self.ip_a, self.ip_b = f"{subnet}.1", f"{subnet}.2"
        self._made = False

    def nics(self, queues=1, device_opts=(), slots=(0x10, 0x11), igb=False):
        """The two TapNics (guest NIC 0 -> A, NIC 1 -> B) at fixed PCI slots (00:10.0 and
        00:11.0 by default), so that tests can name the devices by address. igb=True: QEMU's
        igb (IgbTapNic) instead of virtio-net."""
        if igb:
            return [IgbTapNic(tap, device_opts=[*device_opts, f"addr={slot:#x}"])
                    for tap, slot in zip((self.tap_a, self.tap_b), slots)]
        return [TapNic(tap, queues=queues, device_opts=[*device_opts, f"addr={slot:#x}"])
                for tap, slot in zip((self.tap_a, self.tap_b), slots)]

    @staticmethod
    def pci_addresses(slots=(0x10, 0x11)):
        return [f"0000:00:{slot:02x}.0" for slot in slots]

    def attach(self, timeout=30):
        """Creates the namespaces, waits for QEMU's taps and moves one into each, addressed and
        up. Call after Guest.start()."""
        for side in "AB":
            self.netns.add_namespace(f"{self.tag}{side}")
        self._made = True
        for tap, ns, ip in ((self.tap_a, self.ns_a, self.ip_a), (self.tap_b, self.ns_b, self.ip_b)):
            wait_for(lambda: os.path.exists(f"/sys/class/net/{tap}"), timeout,
                     what=f"QEMU's tap {tap}")
            sh(f"ip link set {tap} netns {ns}")
            sh(f"ip -n {ns} addr add {ip}/24 dev {tap}")
            sh(f"ip -n {ns} link set {tap} up")
        return self

    def mac(self, side):
        ns, tap = (self.ns_a, self.tap_a) if side == "a" else (self.ns_b, self.tap_b)
        return self.netns.mac_of(ns, tap)

    def exec(self, ns, cmd, timeout=60, check=True):
        return self.netns.ns_exec(ns, cmd, check=check, timeout=timeout)

    # --- traffic checks ------------------------------------------------------------------------
    def wait_reachable(self, timeout=30):
        """Waits until one ping from A gets a reply from B (ARP, learning, a device starting)."""
        deadline = time.monotonic() + timeout
        while True:
            res = self.exec(self.ns_a, f"ping -c 1 -W 1 {self.ip_b}", check=False)
            if res.returncode == 0:
                return
            if time.monotonic() >= deadline:
                raise BedError(f"{self.ip_b} unreachable from A after {timeout} s:\n"
                               f"{res.stdout}{res.stderr}")

    def ping(self, count=10, size=1200, pattern="a5"):
        """`count` pings A -> B of `size` bytes filled with `pattern`; iputils ping compares
        every reply's payload with what it sent and prints "wrong data byte" on a mismatch.
        BedError unless all replies arrived intact. Returns ping's output."""
        res = self.exec(self.ns_a, f"ping -c {count} -i 0.1 -s {size} -p {pattern} -W 2 "
                                   f"-w {count // 10 + 10} {self.ip_b}", check=False,
                        timeout=count + 40)
        out = res.stdout + res.stderr
        if res.returncode != 0 or "wrong data" in out or f"{count} received" not in out:
            raise BedError(f"ping A -> B failed:\n{out}")
        return out

    def _wait_listening(self, ns, port, proc, timeout=20):
        def listening():
            if proc.poll() is not None:
                raise BedError(f"listener in {ns} exited {proc.returncode}: "
                               f"{proc.stdout.read()}{proc.stderr.read()}")
            res = self.exec(ns, f"ss -Hltn sport = :{port}", check=False)
            return res.returncode == 0 and res.stdout.strip()
        wait_for(listening, timeout, what=f"a listener on port {port} in {ns}")

    def checked_transfer(self, nbytes=8 << 20, timeout=120):
        """Sends `nbytes` of random data from A to B over one TCP connection (socat) and
        compares the SHA-256 of what B received with what A sent: the payload check iperf3 lacks.
        Returns (bytes, seconds)."""
        with tempfile.TemporaryDirectory(prefix="vsw-bed-") as tmp:
            src, dst = os.path.join(tmp, "sent"), os.path.join(tmp, "received")
            with open(src, "wb") as f:
                f.write(os.urandom(nbytes))
            with open(src, "rb") as f:
                sent = hashlib.sha256(f.read()).hexdigest()
            rx = self.netns.ns_spawn(self.ns_b, f"socat -u TCP-LISTEN:{TRANSFER_PORT},"
                                                f"bind={self.ip_b},reuseaddr OPEN:{dst},creat,trunc")
            try:
                self._wait_listening(self.ns_b, TRANSFER_PORT, rx)
                t0 = time.monotonic()
                tx = self.exec(self.ns_a, f"socat -u OPEN:{src} TCP:{self.ip_b}:{TRANSFER_PORT}",
                               check=False, timeout=timeout)
                if tx.returncode != 0:
                    raise BedError(f"socat A -> B failed ({tx.returncode}): {tx.stderr}")
                rx.wait(timeout)
                seconds = time.monotonic() - t0
            finally:
                if rx.poll() is None:
                    rx.kill()
                    rx.wait()
            with open(dst, "rb") as f:
                data = f.read()
            got = hashlib.sha256(data).hexdigest()
            if len(data) != nbytes or got != sent:
                raise BedError(f"transfer corrupted: sent {nbytes} bytes sha256 {sent}, "
                               f"received {len(data)} bytes sha256 {got}")
        return nbytes, seconds

    def iperf3(self, seconds=3, flows=1, udp_len=None, bitrate=None, timeout=None):
        """iperf3 TCP (or UDP with `udp_len`-byte datagrams at `bitrate`, e.g. "20M") from A
        (client) to B (server, one-off); returns the client's JSON "end" summary. BedError if
        it fails or moves nothing."""
        srv = self.netns.ns_spawn(self.ns_b, f"iperf3 -s -1 -B {self.ip_b} -p {IPERF_PORT}")
        try:
            self._wait_listening(self.ns_b, IPERF_PORT, srv)
            udp = f" -u -l {udp_len} -b {bitrate or '10M'}" if udp_len else ""
            res = self.exec(self.ns_a, f"iperf3 -c {self.ip_b} -p {IPERF_PORT} -t {seconds} "
                                       f"-P {flows}{udp} -J", check=False,
                            timeout=timeout or seconds + 60)
            srv.wait(30)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
        try:
            end = json.loads(res.stdout)["end"]
        except (ValueError, KeyError):
            raise BedError(f"iperf3 failed ({res.returncode}):\n{res.stdout[-3000:]}"
                           f"{res.stderr}") from None
        moved = end["sum"]["bytes"] if udp_len else end["sum_received"]["bytes"]
        if res.returncode != 0 or moved == 0:
            raise BedError(f"iperf3 moved nothing:\n{res.stdout[-3000:]}")
        return end

    def udp_flows(self, flows=8, count=200, size=1000, rate=800, reverse=False, timeout=60):
        """`flows` UDP flows of `count` datagrams of `size` bytes from A to B (B to A with
        reverse=True), distinct ports per flow, every payload checked (tests/vm/udp_flows.py),
        paced at `rate` datagrams/s in all. BedError unless every datagram of every flow
        arrived intact; returns the receiver's summary."""
        src, dst = (self.ns_b, self.ns_a) if reverse else (self.ns_a, self.ns_b)
        src_ip, dst_ip = (self.ip_b, self.ip_a) if reverse else (self.ip_a, self.ip_b)
        prog = f"/usr/bin/python3 {UDP_FLOWS}"
        rx = self.netns.ns_spawn(dst, f"{prog} recv {dst_ip} {UDP_BASE_PORT} {flows} {count} "
                                      f"{timeout}")
        try:
            line = rx.stderr.readline()  # "listening" once bound (or the error on exit)
            if "listening" not in line:
                raise BedError(f"udp_flows receiver in {dst} failed: {line}{rx.stderr.read()}")
            tx = self.exec(src, f"{prog} send {src_ip} {dst_ip} {UDP_BASE_PORT} {flows} {count} "
                                f"{size} {rate}", check=False, timeout=timeout)
            if tx.returncode != 0:
                raise BedError(f"udp_flows sender in {src} failed: {tx.stdout}{tx.stderr}")
            out, err = rx.communicate(timeout=timeout + 30)
        finally:
            if rx.poll() is None:
                rx.kill()
                rx.wait()
        try:
            summary = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise BedError(f"udp_flows receiver printed no summary: {out}{err}") from None
        if summary["bad"] or summary["received"] != [count] * flows:
            raise BedError(f"UDP flows {src} -> {dst}: {flows} x {count} datagrams of {size} "
                           f"bytes sent, receiver saw {summary}")
        return summary

    def cleanup(self):
        self.netns.cleanup()
