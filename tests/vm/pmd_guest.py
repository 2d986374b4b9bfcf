"""PmdGuest: one guest of a TapBed (tests/vm/tap_bed.py) with the vswitchd that bridges its two
NICs, and the queries and traffic checks the user-space NIC driver tests share
(tests/vm/test_virtio_pmd.py, tests/vm/test_igb.py).

    p = PmdGuest(guest, bed, HostPrograms())
    p.reserve_hugepages(64)
    d = p.start_daemon()
    ...
    p.traffic("label")          # ping, sha256-checked transfer, iperf3; worker figures printed
"""
import re

import pytest

from tests.vm.guest_vswitchd import GuestVswitchd, VswctlError
from tests.vm.guest import wait_for

TRANSFER_BYTES = 8 << 20


def counter_value(v):
    """An integer counter from a details value (an int, or a string starting with one)."""
    return int(v) if not isinstance(v, str) else int(v.split()[0])


def per_queue(text):
    """[q0, q1, ...] from a per-queue counter ("q0=N q1=M", or a list)."""
    if isinstance(text, list):
        return [counter_value(v) for v in text]
    return [int(v) for v in re.findall(r"q\d+=(\d+)", str(text))]


class PmdGuest:
    """One guest of the bed with its vswitchd; the helpers the tests share."""

    def __init__(self, guest, bed, hp):
        self.g, self.bed, self.hp = guest, bed, hp
        self.d = None

    def start_daemon(self, workers=1, **kw):
        # the default poll mode (adaptive) lets an idle worker nap (virtio ports have no
        # wake-up source yet: 50 us naps, one pass apart), so idle polling does not take the
        # vCPU from every vswctl run under TCG
        self.d = GuestVswitchd(self.g, self.hp, workers=workers, **kw).start()
        return self.d

    def driver_of(self, addr):
        """The kernel driver the guest's PCI device `addr` is bound to ("" when none)."""
        return self.g.check(f"readlink /sys/bus/pci/devices/{addr}/driver | sed 's,.*/,,'")

    def netdevs_of(self, addr):
        return self.g.check(f"ls /sys/bus/pci/devices/{addr}/virtio*/net 2>/dev/null; true").split()

    def reserve_hugepages(self, n):
        got = int(self.g.check(f"echo {n} > /proc/sys/vm/nr_hugepages; "
                               f"cat /proc/sys/vm/nr_hugepages"))
        assert got == n, f"guest reserved {got} of {n} hugepages"

    def port(self, port):
        return self.d.rpc("port.show", {"name": port})

    def details(self, port):
        return self.port(port)["details"]

    def stats(self):
        return {s["port"]: s for s in self.d.rpc("stats.show")}

    def dp(self):
        return self.d.rpc("dp.show")

    def refused(self, *args):
        """Runs a vswctl command that must fail; returns its message."""
        with pytest.raises(VswctlError) as err:
            self.d.vsctl(*args)
        print(f"[refused] vswctl {' '.join(args[3:])}: {err.value.output}")
        return err.value.output

    def add_virtio(self, name, addr, *opts):
        args = ["add-port", "br0", name, "--type", "virtio", "-o", f"pci={addr}"]
        for o in opts:
            args += ["-o", o]
        self.d.vsctl(*args)

    def wait_link_up(self, port, timeout=60):
        wait_for(lambda: self.port(port).get("link") == "up",
                 timeout, interval=0.2, what=f"{port} link up")

    def traffic(self, label, flows=1, seconds=3):
        """Ping, a checked transfer and iperf3 A -> B; returns the worker figures over the
        iperf3 run and prints the numbers."""
        self.bed.wait_reachable()
        self.bed.ping()
        nbytes, secs = self.bed.checked_transfer(TRANSFER_BYTES)
        w = self.measure(lambda: self.bed.iperf3(seconds=seconds, flows=flows))
        mbit = w["result"]["sum_received"]["bits_per_second"] / 1e6
        print(f"\n[{label}] transfer {nbytes >> 20} MiB sha256-checked in {secs:.1f} s "
              f"({nbytes * 8 / secs / 1e6:.0f} Mbit/s); iperf3 TCP -P {flows} {seconds} s: "
              f"{mbit:.0f} Mbit/s; {w['text']}")
        return w

    def measure(self, run):
        """Runs run() and returns the worker figures over it (dp-show and stats deltas):
        frames the workers moved, busy cycles per frame, bytes per frame received."""
        before, sbefore = self.dp(), self.stats()
        result = run()
        after, safter = self.dp(), self.stats()
        total = lambda d, k: sum(w[k] for w in d["workers"])
        packets = total(after, "packets") - total(before, "packets")
        busy = total(after, "busy_tsc") - total(before, "busy_tsc")
        rx_frames = sum(safter[q]["rx_packets"] - sbefore[q]["rx_packets"] for q in safter)
        rx_bytes = sum(safter[q]["rx_bytes"] - sbefore[q]["rx_bytes"] for q in safter)
        cpp = busy / packets if packets else float("nan")
        bpf = rx_bytes / rx_frames if rx_frames else 0
        text = (f"worker: {packets} frames, {cpp:.0f} busy cycles/frame, {bpf:.0f} bytes/frame "
                f"(guest TSC {after['tsc_hz'] / 1e9:.2f} GHz, TCG)")
        return {"result": result, "packets": packets, "cycles_per_packet": cpp,
                "bytes_per_frame": bpf, "text": text}

    def small_frames(self, label, seconds=2):
        """The worker's busy cycles per frame for UDP frames of 106 bytes (64-byte payload):
        iperf3 -u at a rate TCG can carry; the per-frame cost without TSO super-frames."""
        w = self.measure(lambda: self.bed.iperf3(seconds=seconds, udp_len=64, bitrate="20M"))
        print(f"[{label}] UDP 106-byte frames {seconds} s: {w['text']}")
        return w
