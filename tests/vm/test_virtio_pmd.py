"""vsw's user-space virtio-net driver (port type `virtio`, docs/ports/virtio.md) inside TCG guests.

The bed (tests/vm/tap_bed.py): host namespaces A and B, each behind a tap that is one of the
guest's two virtio-net NICs (PCI 00:10.0 -> A, 00:11.0 -> B). vswitchd and vswctl from the host's
build directory run in the guest (tests/vm/host_programs.py) and bridge the two NICs, so every
frame between A and B crosses the guest's vsw. Checks from the host: ping with a payload pattern
(iputils compares every reply), a file sent over TCP and compared by SHA-256, iperf3 TCP.

Three guests, one per class (a class-scoped fixture: a guest lives only while its tests run):
  * TestLegacyUio — pc machine, legacy devices (`disable-modern=on`), virtio_net loaded. First
    the bed itself is proved with `afpacket` ports on the kernel's eth0/eth1; then bad input
    (interface up, wrong address, a virtio device that is not a NIC, uio without hugepages);
    then both NICs taken from virtio_net by the virtio port over uio_pci_generic, traffic,
    zero-copy counters, cycles per frame, a second port on a held device refused (the first
    port keeps forwarding), and the kernel driver back after del-port.
  * TestModernVfio — q35 with an emulated Intel IOMMU (`-device intel-iommu`, guest
    `intel_iommu=on`), modern-only devices (`disable-legacy=on,iommu_platform=on`), virtio_net
    left out: vfio-pci with IOVAs; uio refused (the IOMMU translates), a device held by another
    vswitchd refused.
  * TestMultiqueue — 2 vCPUs, 2 workers, taps with 2 queues (`mq=on`), `-o queues=2`: both
    queue pairs carry frames.

Every wait is on an event or a condition with a deadline (a console reply, a listening socket,
a counter), never a fixed sleep. Changes and refusals go through vswctl in the guest (the
messages a user sees); repeated queries through GuestVswitchd.rpc() (one open connection:
under TCG each vswctl start costs 1-3 s). Numbers (transfer rate, worker cycles per packet, copies per
forwarded frame) are printed; run with `-s` to see them.
"""
import pytest

from tests.support import paths
from tests.vm.guest import Guest, wait_for
from tests.vm.guest_vswitchd import GuestVswitchd, VswctlError
from tests.vm.host_programs import HostPrograms
from tests.vm.pmd_guest import TRANSFER_BYTES, PmdGuest, counter_value, per_queue
from tests.vm.tap_bed import TapBed

NIC_A, NIC_B = TapBed.pci_addresses()
NINEP = "0000:00:02.0"         # the first 9p share's virtio device (1af4:1009): not a NIC
NO_DEVICE = "0000:00:1f.7"     # a well-formed address with nothing there
HUGEPAGES = 64                 # 2 MiB pages: 128 MiB, vswitchd's 16384 x 2 KiB pool fits
GUEST_MB = 640


def driver_needed():
    """Skips (with the reason) when the build has no virtio port type yet."""
    if not (paths.BUILD / "ports" / "virtio").is_dir():
        pytest.skip("needs the virtio driver (ports/virtio/, branch virtio) in the build")


def _boot(name, bed, hp, smp=1, queues=1, device_opts=(), append=(), early_args=()):
    g = Guest(name, nics=bed.nics(queues=queues, device_opts=device_opts), shares=hp.shares,
              mem_mb=GUEST_MB, smp=smp, append=list(append), early_args=list(early_args))
    g.start()
    try:
        bed.attach()
        g.wait_booted()
    except BaseException:
        g.close()
        raise
    return g


@pytest.fixture(scope="class")
def bed_factory():
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")
    made = []

    def make(tag, subnet, **boot):
        hp = HostPrograms()
        bed = TapBed(tag, subnet=subnet)
        made.append(bed)
        g = _boot(f"pmd-{tag}", bed, hp, **boot)
        made.append(g)
        return PmdGuest(g, bed, hp)

    yield make
    for obj in reversed(made):  # the guest first (QEMU holds the taps), then the namespaces
        if isinstance(obj, Guest):
            obj.close()
        else:
            obj.cleanup()


# --- legacy devices over uio ---------------------------------------------------------------------
@pytest.fixture(scope="class")
def legacy(bed_factory):
    return bed_factory("lg", "10.77.1", device_opts=["disable-modern=on"])


class TestLegacyUio:
    def test_afpacket_bed_kernel_driver(self, legacy):
        """The harness alone, before any user-space driver: the kernel's virtio_net drives the
        NICs, vsw bridges them with afpacket ports."""
        p = legacy
        assert p.driver_of(NIC_A) == "virtio-pci" and p.driver_of(NIC_B) == "virtio-pci"
        assert p.g.check(f"cat /sys/bus/pci/devices/{NIC_A}/device") == "0x1000"  # legacy id
        p.reserve_hugepages(HUGEPAGES)
        d = p.start_daemon()  # the packet pool is made at start: on the hugepages
        assert p.dp()["mempool"]["hugepages"] is True
        d.vsctl("add-br", "br0")
        for port, dev in (("k0", "eth0"), ("k1", "eth1")):
            d.vsctl("add-port", "br0", port, "--type", "afpacket", "-o", f"ifname={dev}")
        before = p.stats()
        p.traffic("afpacket, kernel virtio_net")
        after = p.stats()
        # the frames crossed the guest's vsw: A's data in on k0, out on k1
        assert after["k0"]["rx_bytes"] - before["k0"]["rx_bytes"] > TRANSFER_BYTES
        assert after["k1"]["tx_bytes"] - before["k1"]["tx_bytes"] > TRANSFER_BYTES
        fdb = {r["mac"]: r["port"] for r in d.rpc("fdb.show", {"bridge": "br0"})}
        assert fdb.get(p.bed.mac("a")) == "k0" and fdb.get(p.bed.mac("b")) == "k1", fdb
        d.vsctl("del-port", "k0")
        d.vsctl("del-port", "k1")

    def test_bad_input_is_refused_and_leaves_the_binding(self, legacy):
        driver_needed()
        p = legacy
        # the afpacket ports left eth0/eth1 up: a device whose kernel interface is up is in use
        msg = p.refused("add-port", "br0", "v0", "--type", "virtio", "-o", f"pci={NIC_A}",
                        "-o", "driver=uio")
        assert "eth0" in msg and "up" in msg, msg
        p.g.check("ip link set eth0 down; ip link set eth1 down")
        msg = p.refused("add-port", "br0", "v0", "--type", "virtio", "-o", f"pci={NO_DEVICE}")
        assert NO_DEVICE in msg and "no PCI device" in msg, msg
        msg = p.refused("add-port", "br0", "v0", "--type", "virtio", "-o", "pci=00:10.0")
        assert "00:10.0" in msg, msg  # not DDDD:BB:DD.F: the message shows the expected form
        msg = p.refused("add-port", "br0", "v0", "--type", "virtio", "-o", f"pci={NINEP}")
        assert "1af4:1009" in msg and "not support" in msg, msg
        assert p.driver_of(NINEP) == "virtio-pci"
        assert p.g.check("ls /mnt/vswbuild >/dev/null && echo ok") == "ok"  # the share still works
        # uio DMA goes to physical addresses: without hugepages it cannot work. Lowering the
        # reservation to 0 leaves the daemon's pages in use (they turn surplus) but the system
        # then has none reserved, which is what the PCI layer checks.
        assert p.g.check("echo 0 > /proc/sys/vm/nr_hugepages; cat /proc/sys/vm/nr_hugepages") \
            == "0"
        try:
            msg = p.refused("add-port", "br0", "v0", "--type", "virtio", "-o", f"pci={NIC_A}",
                            "-o", "driver=uio")
        finally:
            p.reserve_hugepages(HUGEPAGES)
        assert "hugepages" in msg, msg
        for addr, netdev in ((NIC_A, "eth0"), (NIC_B, "eth1")):
            assert p.driver_of(addr) == "virtio-pci"
            assert p.g.run(f"test -e /sys/class/net/{netdev}")[0] == 0
        assert p.d.rpc("port.list") == []  # nothing half-made was kept

    def test_uio_forwarding_zero_copy(self, legacy):
        driver_needed()
        p = legacy
        p.g.check("ip link set eth0 down; ip link set eth1 down")
        p.add_virtio("v0", NIC_A, "driver=uio")
        p.add_virtio("v1", NIC_B, "driver=uio")
        assert p.driver_of(NIC_A) == "uio_pci_generic" and p.driver_of(NIC_B) == "uio_pci_generic"
        det = p.details("v0")
        print(f"\n[legacy uio] v0 details: {det}")
        assert (det["interface"], det["driver"], det["previous_driver"]) == \
            ("legacy", "uio", "virtio-pci"), det
        assert det["rx_wakeup"] == "none (uio has no interrupt eventfds)", det
        p.wait_link_up("v0")
        p.wait_link_up("v1")
        check_zero_copy_traffic(p, "legacy uio")
        p.small_frames("legacy uio")

    # uio_pci_generic clears Bus Master whenever a /dev/uioN file is closed (its release
    # hook), so the PCI layer refuses a held device on a lock taken before /dev/uioN is opened;
    # the traffic check after the refusal proves the first port's DMA still runs.
    def test_second_port_on_a_held_device_is_refused(self, legacy):
        driver_needed()
        p = legacy
        msg = p.refused("add-port", "br0", "v2", "--type", "virtio", "-o", f"pci={NIC_A}",
                        "-o", "driver=uio")
        assert NIC_A in msg and "in use" in msg, msg
        assert p.driver_of(NIC_A) == "uio_pci_generic"
        # the refusal left the device alone: Bus Master still on (PCI Local Bus 3.0 §6.2.2,
        # command register bit 2), and the first port still forwards
        command = int(p.g.check(f"od -A n -t x2 -j 4 -N 2 /sys/bus/pci/devices/{NIC_A}/config"),
                      16)
        assert command & 0x4, f"command register {command:#06x}: Bus Master cleared"
        p.bed.ping(count=5)

    def test_del_port_gives_the_device_back_to_the_kernel(self, legacy):
        driver_needed()
        p = legacy
        p.d.vsctl("del-port", "v0")
        p.d.vsctl("del-port", "v1")
        for addr in (NIC_A, NIC_B):
            assert p.driver_of(addr) == "virtio-pci"
        # virtio_net probes the devices again: one interface each
        wait_for(lambda: len(p.netdevs_of(NIC_A)) == 1 and len(p.netdevs_of(NIC_B)) == 1, 30,
                 what="virtio_net's interfaces back")


def check_zero_copy_traffic(p, label, flows=1, ports=("v0", "v1")):
    """Traffic A <-> B across two virtio ports: every frame handed over by reference (the
    receiving port's buffer is the transmitting port's DMA buffer), none copied."""
    before = {port: p.details(port) for port in ports}
    numbers = p.traffic(label, flows=flows)
    after = {port: p.details(port) for port in ports}
    zero = {port: counter_value(after[port]["tx_zero_copy"])
            - counter_value(before[port]["tx_zero_copy"]) for port in ports}
    copied = {port: counter_value(after[port]["tx_copied"])
              - counter_value(before[port]["tx_copied"]) for port in ports}
    forwarded = sum(zero.values()) + sum(copied.values())
    print(f"[{label}] frames forwarded virtio -> virtio: {forwarded}, zero-copy {zero}, "
          f"copied {copied}: {sum(copied.values()) / max(forwarded, 1):.3f} copies/frame")
    assert all(z > 0 for z in zero.values()), (zero, after)
    assert all(c == 0 for c in copied.values()), (copied, after)
    return numbers


# --- modern devices over vfio behind an emulated IOMMU ------------------------------------------
def check_interrupt_wakeups(p):
    """Adaptive polling over vfio (modern interface): the worker sleeps on each rx queue's MSI-X
    eventfd. Pings 0.1 s apart each find it asleep (it sleeps after 200 us without frames), so
    each echo request arrives by interrupt: the ports' interrupt counts and the worker's
    wake-ups (signalled wake-up sources only) grow, and every reply comes back."""
    ports = ("v0", "v1")
    assert all(p.details(port)["rx_wakeup"].startswith("msix (1 vectors") for port in ports), \
        {port: p.details(port) for port in ports}

    def interrupts():
        return sum(sum(per_queue(p.details(port)["interrupts_per_queue"]))
                   for port in ports)

    def wakeups():
        return sum(w["wakeups"] for w in p.dp()["workers"])

    irq0, wake0 = interrupts(), wakeups()
    p.bed.ping(count=10)
    irq, wake = interrupts() - irq0, wakeups() - wake0
    print(f"\n[modern vfio] 10 pings: {irq} interrupts, {wake} worker wake-ups")
    assert irq >= 5 and wake >= 5, (irq, wake, p.dp())


@pytest.fixture(scope="class")
def modern(bed_factory):
    driver_needed()
    return bed_factory("md", "10.77.2",
                       early_args=["-machine", "q35", "-device", "intel-iommu"],
                       # MSI-X (3 vectors: config, rx, tx) for the interrupt wake-ups
                       device_opts=["disable-legacy=on", "iommu_platform=on", "vectors=3"],
                       append=["intel_iommu=on", "vsw.skip_modules=virtio_net"])


class TestModernVfio:
    def test_vfio_forwarding_zero_copy(self, modern):
        p = modern
        assert p.g.check(f"cat /sys/bus/pci/devices/{NIC_A}/device") == "0x1041"  # modern id
        assert p.g.check(f"ls /sys/bus/pci/devices/{NIC_A}/iommu_group/devices") == NIC_A
        # virtio_net is left out, so only the virtio transport (virtio-pci) holds them
        assert p.driver_of(NIC_A) == "virtio-pci" and p.driver_of(NIC_B) == "virtio-pci"
        p.reserve_hugepages(HUGEPAGES)
        d = p.start_daemon()
        d.vsctl("add-br", "br0")
        # uio under a translating IOMMU would DMA to the wrong addresses: refused
        msg = p.refused("add-port", "br0", "v0", "--type", "virtio", "-o", f"pci={NIC_A}",
                        "-o", "driver=uio")
        assert "IOMMU" in msg and "vfio" in msg, msg
        assert p.driver_of(NIC_A) == "virtio-pci"
        p.add_virtio("v0", NIC_A, "driver=vfio")
        p.add_virtio("v1", NIC_B)  # vfio is the default
        assert p.driver_of(NIC_A) == "vfio-pci" and p.driver_of(NIC_B) == "vfio-pci"
        det = p.details("v0")
        print(f"\n[modern vfio] v0 details: {det}")
        assert (det["interface"], det["driver"]) == ("modern", "vfio"), det
        p.wait_link_up("v0")
        p.wait_link_up("v1")
        check_zero_copy_traffic(p, "modern vfio+IOMMU")
        p.small_frames("modern vfio+IOMMU")
        check_interrupt_wakeups(p)

    def test_device_held_by_another_vswitchd(self, modern):
        p = modern
        other = GuestVswitchd(p.g, p.hp, workdir="/tmp/vsw-other", hugepages=False).start()
        try:
            other.vsctl("add-br", "br0")
            with pytest.raises(VswctlError) as err:
                other.vsctl("add-port", "br0", "x0", "--type", "virtio", "-o", f"pci={NIC_A}")
            print(f"[refused] a second vswitchd, pci={NIC_A}: {err.value.output}")
            assert NIC_A in err.value.output and "in use" in err.value.output, err.value.output
        finally:
            other.stop()
        assert p.driver_of(NIC_A) == "vfio-pci"
        p.bed.ping(count=5)  # the first daemon still drives it

    def test_del_port_unbinds(self, modern):
        p = modern
        p.d.vsctl("del-port", "v0")
        p.d.vsctl("del-port", "v1")
        assert p.driver_of(NIC_A) == "virtio-pci" and p.driver_of(NIC_B) == "virtio-pci"


# --- multi-queue ---------------------------------------------------------------------------------
@pytest.fixture(scope="class")
def multiqueue(bed_factory):
    driver_needed()
    return bed_factory("mq", "10.77.3", smp=2, queues=2,
                       append=["vsw.skip_modules=virtio_net"])


class TestMultiqueue:
    def test_two_queue_pairs_carry_frames(self, multiqueue):
        p = multiqueue
        p.reserve_hugepages(HUGEPAGES)
        d = p.start_daemon(workers=2)
        d.vsctl("add-br", "br0")
        p.add_virtio("v0", NIC_A, "driver=uio", "queues=2")
        p.add_virtio("v1", NIC_B, "driver=uio", "queues=2")
        p.wait_link_up("v0")
        p.wait_link_up("v1")
        det = p.details("v0")
        print(f"\n[multiqueue] v0 details: {det}")
        # a transitional device (pc machine's default) offers both: the driver takes modern
        assert (det["interface"], det["driver"], det["queues"]) == ("modern", "uio", "2"), det
        assert det["rx_wakeup"] == "none (uio has no interrupt eventfds)", det
        rx_queues = sorted((q["port"], q["queue"]) for w in p.dp()["workers"]
                           for q in w["rx_queues"])
        assert rx_queues == [("v0", 0), ("v0", 1), ("v1", 0), ("v1", 1)], rx_queues

        def queues(key):
            return {port: per_queue(p.details(port)[key]) for port in ("v0", "v1")}

        def all_grew(before, after):
            return all(len(after[port]) == 2 and
                       all(a > b for a, b in zip(after[port], before[port]))
                       for port in after)

        before, tx_before = queues("rx_packets_per_queue"), queues("tx_packets_per_queue")
        check_zero_copy_traffic(p, "multiqueue uio", flows=4)
        after = queues("rx_packets_per_queue")
        # The tap and the device spread flows over the queues by hash: four flows all land on
        # one queue now and then (1 in 8 per port). New flows get new hashes: a few more rounds
        # make that vanishingly rare, while a driver that used one queue fails every round.
        rounds = 1
        while not all_grew(before, after) and rounds < 4:
            p.bed.iperf3(seconds=2, flows=4)
            after, rounds = queues("rx_packets_per_queue"), rounds + 1
        print(f"[multiqueue] rx frames per queue before {before} after {after} ({rounds} "
              f"iperf3 rounds); tx frames per queue before {tx_before} after "
              f"{queues('tx_packets_per_queue')}")
        assert all_grew(before, after), (before, after)
