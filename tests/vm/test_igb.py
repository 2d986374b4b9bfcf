"""vsw's Intel 82576 driver (port type `igb`, ports/intel/, docs/ports/intel.md) against QEMU's
igb device model (`-device igb`, QEMU >= 8.0: tests/deps.sh installs it from bookworm-backports
on Debian 12) inside TCG guests.

The bed is tests/vm/tap_bed.py's: host namespaces A and B, each behind a tap that is one of the
guest's two igb NICs (00:06.0 -> A, 00:08.0 -> B; two slots apart because QEMU places each
igb's eight SR-IOV VFs at devfn + 0x80 + 2n, which must stay on the bus and must not collide),
and vswitchd in the guest bridging them with two `igb` ports. From the host: ping with a payload
pattern (iputils checks every reply), a file over TCP compared by SHA-256, iperf3 TCP with the
bytes it moved checked against the ports' counters, and UDP flows with checked payloads
(tests/vm/udp_flows.py) that RSS spreads over the ports' two rx queues (`-o rx-queues=2`: one
worker owns both queues of both ports; rx_packets_per_queue in port-show must grow on both).

Two guests, one per module-scoped fixture (each boots once), both `-machine q35`:
  * uio — no IOMMU, the kernel's igb driver loaded: the bed is first proved with `afpacket`
    ports on the kernel's eth0/eth1; a device whose interface is up is refused; then both NICs
    are taken from igb (the PCI layer unbinds it) over uio_pci_generic, and del-port gives
    them back to igb.
  * vfio — `-device intel-iommu`, guest `intel_iommu=on`, igb not loaded (the devices start
    with no driver): each NIC alone in its IOMMU group, uio refused (the IOMMU translates),
    both NICs over vfio-pci with IOVAs, del-port leaves them driverless again.

Every wait is on an event or a condition with a deadline. Numbers (rates, worker cycles per
frame, frames per rx queue) are printed; run with `-s` to see them.
"""
import pytest

from tests.support import paths
from tests.vm.guest import Guest, wait_for
from tests.vm.host_programs import HostPrograms
from tests.vm.pmd_guest import TRANSFER_BYTES, PmdGuest, counter_value, per_queue
from tests.vm.tap_bed import TapBed

SLOTS = (0x06, 0x08)
NIC_A, NIC_B = TapBed.pci_addresses(SLOTS)
IGB_ID = ("0x8086", "0x10c9")   # 82576 (82576 datasheet §1.4, device IDs)
HUGEPAGES = 64                  # 2 MiB pages: vswitchd's packet pool and the rings fit
GUEST_MB = 640
RX_QUEUES = 2
UDP_FLOWS = 8                   # flows A -> B and B -> A, distinct ports each (udp_flows.py)


def driver_needed():
    if not (paths.BUILD / "ports" / "intel").is_dir():
        pytest.fail("needs the Intel driver (ports/intel/, branch intel) in the build")


def _boot(name, bed, hp, append=(), early_args=()):
    g = Guest(name, nics=bed.nics(igb=True, slots=SLOTS), shares=hp.shares, mem_mb=GUEST_MB,
              smp=1, append=list(append), early_args=["-machine", "q35", *early_args])
    g.start()
    try:
        bed.attach()
        g.wait_booted()
    except BaseException:
        g.close()
        raise
    return g


def _igb_bed(tag, subnet, **boot):
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")
    hp = HostPrograms()
    bed = TapBed(tag, subnet=subnet)
    try:
        g = _boot(f"igb-{tag}", bed, hp, **boot)
    except BaseException:
        bed.cleanup()
        raise
    return PmdGuest(g, bed, hp)


def _close(p):
    p.g.close()       # QEMU first: it holds the taps
    p.bed.cleanup()


class IgbChecks:
    """The checks both guests run on their two igb ports i0 (A) and i1 (B)."""

    @staticmethod
    def add_igb(p, name, addr, *opts):
        args = ["add-port", "br0", name, "--type", "igb", "-o", f"pci={addr}"]
        for o in opts:
            args += ["-o", o]
        p.d.vsctl(*args)

    @staticmethod
    def rx_per_queue(p, port):
        return per_queue(p.details(port)["rx_packets_per_queue"])

    @classmethod
    def forwarding(cls, p, label):
        """Ping, a SHA-256-checked transfer and iperf3 TCP A -> B through i0 and i1; the bytes
        iperf3 moved must show in the ports' counters (in on i0, out on i1)."""
        p.wait_link_up("i0")
        p.wait_link_up("i1")
        p.bed.wait_reachable(timeout=60)
        p.bed.ping(count=10, size=1200, pattern="a5")
        p.bed.ping(count=5, size=56, pattern="ff00")
        details0 = {port: p.details(port) for port in ("i0", "i1")}
        nbytes, secs = p.bed.checked_transfer(TRANSFER_BYTES)
        before = p.stats()
        w = p.measure(lambda: p.bed.iperf3(seconds=3))
        after = p.stats()
        received = w["result"]["sum_received"]["bytes"]
        sent = w["result"]["sum_sent"]["bytes"]
        delta = {port: {k: after[port][k] - before[port][k]
                        for k in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets")}
                 for port in ("i0", "i1")}
        print(f"\n[{label}] transfer {nbytes >> 20} MiB sha256-checked in {secs:.1f} s "
              f"({nbytes * 8 / secs / 1e6:.0f} Mbit/s); iperf3 TCP 3 s: "
              f"{w['result']['sum_received']['bits_per_second'] / 1e6:.0f} Mbit/s, "
              f"{received} bytes received; port counters {delta}; {w['text']}")
        # Every payload byte iperf3's server received entered on i0 and left on i1, in frames
        # with headers; the counters may exceed the payload by headers, the control
        # connection and retransmissions, not by double counting (bounded at 1.25x the sent
        # payload + 1 MiB).
        for key in (("i0", "rx_bytes"), ("i1", "tx_bytes")):
            got = delta[key[0]][key[1]]
            assert received <= got <= sent * 1.25 + (1 << 20), (key, got, received, sent)
        # the acknowledgements came back the other way: B -> i1 -> i0 -> A
        assert delta["i1"]["rx_packets"] > 0 and delta["i0"]["tx_packets"] > 0, delta
        # igb -> igb: the transmitting port sends the receiving port's mempool buffers (both
        # devices reach the one pool), no copies
        details1 = {port: p.details(port) for port in ("i0", "i1")}
        moved = {port: {k: counter_value(details1[port][k]) - counter_value(details0[port][k])
                        for k in ("tx_zero_copy", "tx_copied")} for port in ("i0", "i1")}
        print(f"[{label}] transmitted by reference / copied: {moved}")
        assert all(m["tx_zero_copy"] > 0 and m["tx_copied"] == 0 for m in moved.values()), moved
        # The device's own statistics (GPRC/GORC, GPTC/GOTC, read by the port's housekeeping
        # and accumulated) saw at least every frame the ports counted: the device counts each
        # good frame it accepts (bytes with the FCS), the driver those it handed to vsw.
        for port in ("i0", "i1"):
            sw = after[port]
            wait_for(lambda: all(int(p.details(port)[f"hw_{k}"]) >= sw[k] for k in
                                 ("rx_packets", "rx_bytes", "tx_packets", "tx_bytes")),
                     30, interval=0.5, what=f"{port}'s hardware statistics catching up")
        return w

    @classmethod
    def rss_spreads_udp_flows(cls, p, label):
        """UDP flows with distinct ports, payloads checked: RSS (Toeplitz over the 4-tuple,
        82576 datasheet §7.1.2.8) spreads them over both rx queues of the receiving port, in
        both directions (A -> B arrives on i0, B -> A on i1)."""
        for port in ("i0", "i1"):
            assert int(p.port(port)["rx_queues"]) == RX_QUEUES, p.port(port)
        rx_queues = sorted((q["port"], q["queue"]) for w in p.dp()["workers"]
                           for q in w["rx_queues"])
        assert rx_queues == [("i0", 0), ("i0", 1), ("i1", 0), ("i1", 1)], rx_queues
        for port, reverse in (("i0", False), ("i1", True)):
            before = cls.rx_per_queue(p, port)
            summary = p.bed.udp_flows(flows=UDP_FLOWS, count=150, size=900, reverse=reverse)
            after = cls.rx_per_queue(p, port)
            grew = [a - b for a, b in zip(after, before)]
            print(f"[{label}] {UDP_FLOWS} UDP flows {'B -> A' if reverse else 'A -> B'}: "
                  f"{summary}; {port} rx frames per queue +{grew}")
            assert len(after) == RX_QUEUES, after
            # a flow's datagrams all land on one queue; the tuples and the key are fixed, so
            # the spread is the same every run: both queues must have at least one flow
            assert all(g >= 150 for g in grew), (port, before, after)


def check_interrupt_wakeups(p, label):
    """Adaptive polling over vfio: each rx queue of i0 and i1 has its MSI-X vector (82576
    datasheet §7.3: IVAR0 rx queue q -> vector q), QEMU's igb model raises it through vfio's
    eventfd. After the traffic above stops the worker sleeps (its sleeps count grows while
    nothing moves); pings 0.1 s apart each find it asleep, so each echo request (on i0) and
    reply (on i1) arrives by interrupt: the ports' interrupt counts and the worker's wake-ups
    grow, and every reply comes back."""
    ports = ("i0", "i1")
    for port in ports:
        assert p.details(port)["rx_wakeup"] == \
            f"msix ({RX_QUEUES} vectors, one per receive queue)", p.details(port)

    def workers(key):
        return sum(w[key] for w in p.dp()["workers"])

    def interrupts():
        return sum(sum(per_queue(p.details(port)["interrupts_per_queue"])) for port in ports)

    sleeps0 = workers("sleeps")
    wait_for(lambda: workers("sleeps") >= sleeps0 + 3, 30, interval=0.2,
             what="the idle worker going to sleep")
    irq0, wake0 = interrupts(), workers("wakeups")
    p.bed.ping(count=10)
    irq, wake = interrupts() - irq0, workers("wakeups") - wake0
    print(f"\n[{label}] 10 pings: {irq} MSI-X interrupts, {wake} worker wake-ups")
    assert irq >= 5 and wake >= 5, (irq, wake, p.dp())


# --- uio, no IOMMU, the kernel's igb driver first -------------------------------------------------
@pytest.fixture(scope="module")
def uio_guest():
    p = _igb_bed("iu", "10.77.4")
    yield p
    _close(p)


class TestIgbUio(IgbChecks):
    def test_kernel_igb_drives_the_bed(self, uio_guest):
        """The harness before vsw's driver: QEMU's igb under the kernel's igb driver, bridged
        by vsw with afpacket ports."""
        p = uio_guest
        for addr in (NIC_A, NIC_B):
            assert (p.g.check(f"cat /sys/bus/pci/devices/{addr}/vendor"),
                    p.g.check(f"cat /sys/bus/pci/devices/{addr}/device")) == IGB_ID
            assert p.driver_of(addr) == "igb"
        assert p.g.check(f"ls /sys/bus/pci/devices/{NIC_A}/net") == "eth0"
        assert p.g.check(f"ls /sys/bus/pci/devices/{NIC_B}/net") == "eth1"
        p.reserve_hugepages(HUGEPAGES)
        d = p.start_daemon()
        d.vsctl("add-br", "br0")
        p.g.check("ip link set eth0 up; ip link set eth1 up")
        for port, dev in (("k0", "eth0"), ("k1", "eth1")):
            d.vsctl("add-port", "br0", port, "--type", "afpacket", "-o", f"ifname={dev}")
        p.bed.wait_reachable(timeout=60)  # igb's link comes up ~2 s after the interface
        p.bed.ping(count=10)
        p.bed.checked_transfer(1 << 20)
        print(f"\n[kernel igb + afpacket] UDP flows: {p.bed.udp_flows(flows=UDP_FLOWS, count=50)}")
        fdb = {r["mac"]: r["port"] for r in d.rpc("fdb.show", {"bridge": "br0"})}
        assert fdb.get(p.bed.mac("a")) == "k0" and fdb.get(p.bed.mac("b")) == "k1", fdb
        d.vsctl("del-port", "k0")
        d.vsctl("del-port", "k1")

    def test_interface_up_is_refused(self, uio_guest):
        driver_needed()
        p = uio_guest
        msg = p.refused("add-port", "br0", "i0", "--type", "igb", "-o", f"pci={NIC_A}",
                        "-o", "driver=uio")
        assert "eth0" in msg and "up" in msg, msg
        assert p.driver_of(NIC_A) == "igb"
        assert p.d.rpc("port.list") == []

    def test_uio_forwarding_and_rss(self, uio_guest):
        driver_needed()
        p = uio_guest
        p.g.check("ip link set eth0 down; ip link set eth1 down")
        self.add_igb(p, "i0", NIC_A, "driver=uio", f"rx-queues={RX_QUEUES}")
        self.add_igb(p, "i1", NIC_B, "driver=uio", f"rx-queues={RX_QUEUES}")
        assert p.driver_of(NIC_A) == "uio_pci_generic" and p.driver_of(NIC_B) == "uio_pci_generic"
        assert p.details("i0")["rx_wakeup"] == "none (uio has no interrupt eventfds)", \
            p.details("i0")
        print(f"\n[igb uio] i0: {p.port('i0')}")
        self.forwarding(p, "igb uio")
        self.rss_spreads_udp_flows(p, "igb uio")
        p.small_frames("igb uio")

    def test_del_port_gives_the_nics_back_to_igb(self, uio_guest):
        driver_needed()
        p = uio_guest
        p.d.vsctl("del-port", "i0")
        p.d.vsctl("del-port", "i1")
        assert p.driver_of(NIC_A) == "igb" and p.driver_of(NIC_B) == "igb"
        wait_for(lambda: p.g.run(f"ls /sys/bus/pci/devices/{NIC_A}/net "
                                 f"/sys/bus/pci/devices/{NIC_B}/net")[0] == 0,
                 30, what="igb's interfaces back")


# --- vfio behind the emulated Intel IOMMU ---------------------------------------------------------
@pytest.fixture(scope="module")
def vfio_guest():
    driver_needed()
    p = _igb_bed("iv", "10.77.5", early_args=["-device", "intel-iommu"],
                 append=["intel_iommu=on", "vsw.skip_modules=igb"])
    yield p
    _close(p)


class TestIgbVfio(IgbChecks):
    def test_vfio_forwarding_and_rss(self, vfio_guest):
        p = vfio_guest
        for addr in (NIC_A, NIC_B):
            assert p.g.check(f"ls /sys/bus/pci/devices/{addr}/iommu_group/devices") == addr
            assert p.driver_of(addr) == ""  # igb left out: nothing holds them
        p.reserve_hugepages(HUGEPAGES)
        d = p.start_daemon()
        d.vsctl("add-br", "br0")
        # uio under a translating IOMMU would DMA to the wrong addresses: refused
        msg = p.refused("add-port", "br0", "i0", "--type", "igb", "-o", f"pci={NIC_A}",
                        "-o", "driver=uio")
        assert "IOMMU" in msg and "vfio" in msg, msg
        self.add_igb(p, "i0", NIC_A, "driver=vfio", f"rx-queues={RX_QUEUES}")
        self.add_igb(p, "i1", NIC_B, f"rx-queues={RX_QUEUES}")  # vfio is the default
        assert p.driver_of(NIC_A) == "vfio-pci" and p.driver_of(NIC_B) == "vfio-pci"
        print(f"\n[igb vfio] i0: {p.port('i0')}")
        self.forwarding(p, "igb vfio+IOMMU")
        self.rss_spreads_udp_flows(p, "igb vfio+IOMMU")
        check_interrupt_wakeups(p, "igb vfio+IOMMU")

    def test_del_port_leaves_them_driverless(self, vfio_guest):
        p = vfio_guest
        p.d.vsctl("del-port", "i0")
        p.d.vsctl("del-port", "i1")
        assert p.driver_of(NIC_A) == "" and p.driver_of(NIC_B) == ""
