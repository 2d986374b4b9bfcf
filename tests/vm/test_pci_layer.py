"""The user-space PCI layer (ports/pci) on real (emulated) devices, in two TCG guests.

tests/vm/pci_probe (built on the host, run in the guest through host_programs.py) opens a
virtio-net function with open_device(), prints ids, BARs, the MAC read through a BAR, the DMA
addresses of two mapped regions, then releases it. Checked here:

  * pc machine, no IOMMU, legacy virtio-net (`disable-modern=on`): uio (BAR0 by in/out, DMA to
    physical addresses of hugepages, as /proc/self/pagemap says; I/O BAR by in/out and by
    pread/pwrite); refusals: no hugepages for uio, a virtio device that is not a NIC (the 9p
    share), the kernel interface up, a second probe while one holds the device; recovery after
    a holder is killed (the next probe restores the recorded driver); vfio without an IOMMU
    (the guest kernel has no no-IOMMU mode: refused, or run in that mode where it has one);
  * q35 with an emulated Intel IOMMU (`-device intel-iommu`, `intel_iommu=on`), modern
    virtio-net (`disable-legacy=on,iommu_platform=on`): vfio (MMIO BARs mmapped from the device
    fd, IOVAs from 2 MiB upward, one container for two devices with a region mapped once and
    kept while a user remains, an interrupt eventfd), uio refused (the IOMMU translates), a
    group holding a second function not bound to vfio-pci refused, busy refused, recovery after
    a holder is killed.

With --tx the probe also sends frames on the device's transmit queue, whose ring and buffers
the device reaches only through the DMA addresses the layer gave (virtio_tx_check.h), and waits
for each completion (and, under vfio, its interrupt). After every probe, refused or not, the device is back on virtio-pci and its interface exists.
About 40 s in all under TCG on a quiet machine (address parsing and absent devices are
unit-tested: tests/unit/pci/).
"""
import re

import pytest

from tests.vm.guest import Guest
from tests.vm.host_programs import HostPrograms
from tests.support import paths

PROBE = paths.BUILD / "tests" / "vm" / "pci_probe"
MAC = "52:54:00:5c:1a:01"
MAC2 = "52:54:00:5c:1a:02"
HUGEPAGES = 8


def _kv(line):
    return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)


class Probe:
    """pci_probe in guest `g`; parses its output."""

    def __init__(self, g, hp):
        self.g, self.hp = g, hp

    def cmd(self, bdf, path, *args):
        return self.hp.command(PROBE, bdf, path, *args)

    def run(self, bdf, path, *args):
        rc, out = self.g.run(self.cmd(bdf, path, *args), timeout=60)
        return rc, out

    @staticmethod
    def parse(out):
        facts = {"bars": {}, "dma": []}
        for line in out.splitlines():
            word = line.split(" ", 1)[0]
            if word == "opened":
                facts["opened"] = _kv(line)
            elif word == "bar":
                kv = _kv(line)
                facts["bars"][int(kv["index"])] = kv
            elif word.startswith("mac="):
                facts["mac"] = word[4:]
            elif word == "dma" and "region=" in line:
                facts["dma"].append({k: (int(v, 16) if k != "region" else int(v))
                                     for k, v in _kv(line).items()})
            elif word == "dma" and "outside=" in line:
                facts["outside"] = int(_kv(line)["outside"], 16)
            elif word == "irq":
                facts["irq"] = int(_kv(line)["fd"])
            elif word == "tx":
                facts["tx"] = {k: int(v) for k, v in _kv(line).items()}
            elif word == "also":
                facts["also"] = int(_kv(line)["dma"], 16)
            elif word == "released":
                facts["released"] = _kv(line)["driver"]
        return facts

    def open_ok(self, bdf, path, *args):
        rc, out = self.run(bdf, path, *args)
        assert rc == 0, out
        facts = self.parse(out)
        assert "opened" in facts and "released" in facts, out
        return facts, out

    def refused(self, bdf, path, *args):
        rc, out = self.run(bdf, path, *args)
        assert rc == 2 and "error: " in out, out
        return out

    def busy_then_crash(self, bdf, path, holder_args, args):
        """A holder (run with `holder_args`) takes the device; a second probe is refused as
        busy; the holder is SIGKILLed with the device still taken; the next probe finds it on
        the user-space driver, takes it as it is and gives it back to the driver the dead one
        recorded in /run/vsw/pci/<bdf>.driver. Returns (holder facts, busy refusal output)."""
        fifo, log = f"/tmp/hold-{path}", f"/tmp/hold-{path}.log"
        self.g.check(f"rm -f {fifo} {log}; mkfifo {fifo}; "
                     f"{self.cmd(bdf, path, *holder_args, '--hold', fifo)} > {log} 2>&1 & "
                     f"echo $! > {log}.pid")
        # the holder prints "holding" once it has the device (bounded wait, 30 s)
        self.g.check(f"i=0; until grep -q holding {log}; do i=$((i+1)); "
                     f"[ $i -gt 300 ] && {{ cat {log}; exit 1; }}; sleep 0.1; done")
        held = self.parse(self.g.check(f"cat {log}"))
        assert _command(self.g, bdf) & 0x4, "bus master off while the holder has the device"
        busy = self.refused(bdf, path, *args)
        # the refusal left the holder's device alone: Bus Master still on (PCI 3.0 §6.2.2;
        # uio_pci_generic clears it when any /dev/uioN file is closed, so the refused probe
        # must not have opened it)
        assert _command(self.g, bdf) & 0x4, "the refused probe turned bus mastering off"
        self.g.check(f"kill -9 $(cat {log}.pid)")
        want = "uio_pci_generic" if path == "uio" else "vfio-pci"
        assert self.g.check(f"cat /run/vsw/pci/{bdf}.driver") == "virtio-pci"
        assert self.g.check(f"basename $(readlink /sys/bus/pci/devices/{bdf}/driver)") == want
        f, out = self.open_ok(bdf, path, *args)
        assert f"already bound to {want}" in out and f["opened"]["previous"] == "virtio-pci", out
        assert f["released"] == "virtio-pci", out
        assert self.g.run(f"test -e /run/vsw/pci/{bdf}.driver")[0] != 0
        return held, busy


def _command(g, bdf):
    """The command register (config offset 4, little-endian) of `bdf`."""
    lo, hi = g.check(f"od -An -tu1 -j4 -N2 /sys/bus/pci/devices/{bdf}/config").split()
    return int(lo) | int(hi) << 8


def _find(g, device_id):
    """BDFs of virtio functions with PCI device id `device_id` (e.g. "0x1000")."""
    out = g.check("for d in /sys/bus/pci/devices/*; do "
                  "echo $(basename $d) $(cat $d/vendor) $(cat $d/device); done")
    return [l.split()[0] for l in out.splitlines()
            if l.split()[1:] == ["0x1af4", device_id]]


def _assert_kernel_has_it(g, bdf):
    drv = g.check(f"basename $(readlink /sys/bus/pci/devices/{bdf}/driver)")
    assert drv == "virtio-pci", drv
    nets = g.check(f"ls /sys/bus/pci/devices/{bdf}/virtio*/net")
    assert re.fullmatch(r"eth\d+", nets), nets
    return nets


@pytest.fixture(scope="module")
def hp():
    if not PROBE.exists():
        pytest.fail(f"{PROBE} is not built: run meson setup build && ninja -C build")
    return HostPrograms()


def test_legacy_device_over_uio_and_vfio_noiommu(hp):
    nic = f"virtio-net-pci,disable-modern=on,mac={MAC},romfile="
    with Guest("pci-uio", shares=hp.shares, mem_mb=384, extra_args=["-device", nic]) as g:
        g.wait_booted()
        p = Probe(g, hp)
        [bdf] = _find(g, "0x1000")
        ninep = _find(g, "0x1009")  # the 9p shares: virtio, but not a NIC
        assert ninep, "no virtio-9p device in the guest"
        eth = _assert_kernel_has_it(g, bdf)

        # refusals before any hugepage is reserved
        assert g.check("cat /proc/sys/vm/nr_hugepages") == "0"
        out = p.refused(bdf, "uio")
        assert "echo N > /proc/sys/vm/nr_hugepages" in out and "driver=vfio" in out, out
        _assert_kernel_has_it(g, bdf)
        out = p.refused(ninep[0], "uio")
        assert "1af4:1009" in out and "virtio-net" in out, out
        assert g.check(f"basename $(readlink /sys/bus/pci/devices/{ninep[0]}/driver)") == \
            "virtio-pci"
        g.check(f"ip link set {eth} up")
        out = p.refused(bdf, "vfio")
        assert f"ip link set {eth} down" in out, out
        g.check(f"ip link set {eth} down")
        _assert_kernel_has_it(g, bdf)

        g.check(f"echo {HUGEPAGES} > /proc/sys/vm/nr_hugepages")
        f, out = p.open_ok(bdf, "uio", "--huge", "--tx", 3)
        assert f["opened"]["path"] == "uio" and f["opened"]["previous"] == "virtio-pci", out
        assert f["opened"]["vendor"] == "1af4" and f["opened"]["device"] == "1000", out
        assert int(f["opened"]["command"], 16) & 0x5 == 0x5, out  # I/O space + bus master
        assert f["bars"][0]["io"] == "1" and f["bars"][0]["size"] == "32", out
        assert f["mac"] == MAC, out  # read through BAR0 (in/out)
        for r in f["dma"]:  # physical addresses, as the pagemap says
            assert r["dma"] == r["physical"] != 0, out
        assert f["dma"][0]["dma"] != f["dma"][1]["dma"], out
        assert f["outside"] == 0, out
        assert f["irq"] == -1, out
        # the device read ring and frames and wrote the used ring at those physical addresses
        assert f["tx"] == {"frames": 3, "interrupts": -1}, out
        assert f["released"] == "virtio-pci", out
        _assert_kernel_has_it(g, bdf)
        # Busy and crash recovery; the holder does its I/O BAR accesses by pread/pwrite of sysfs
        # resource0 instead of in/out.
        held, busy = p.busy_then_crash(bdf, "uio", ["--huge", "--tx", 2, "--file-io"], ["--huge"])
        assert held["mac"] == MAC and held["tx"]["frames"] == 2, held
        assert "in use by another process" in busy, busy
        _assert_kernel_has_it(g, bdf)

        # No IOMMU on this machine: vfio needs the kernel's no-IOMMU mode. Debian 12's kernel
        # is built without it (CONFIG_VFIO_NOIOMMU unset: vfio has no parameters), so the probe
        # must say so and leave the device alone; a kernel with it runs the probe in that mode.
        param = "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
        if g.run(f"test -e {param}")[0] != 0:
            out = p.refused(bdf, "vfio", "--huge")
            assert "no no-IOMMU mode" in out and "driver=uio" in out, out
        else:
            f, out = p.open_ok(bdf, "vfio", "--huge")
            assert f["opened"]["path"] == "vfio" and "no-IOMMU" in out, out
            assert g.check(f"cat {param}") == "Y"
            assert f["mac"] == MAC, out
            for r in f["dma"]:
                assert r["dma"] == r["physical"] != 0, out
            assert f["released"] == "virtio-pci", out
        _assert_kernel_has_it(g, bdf)


def test_modern_device_over_vfio_behind_an_iommu(hp):
    nic = f"virtio-net-pci,disable-legacy=on,iommu_platform=on,mac={MAC},romfile=,addr=06.0"
    # Two functions of one slot share an IOMMU group (no ACS), so 07.0 cannot go alone.
    pair = [f"virtio-net-pci,disable-legacy=on,iommu_platform=on,mac={MAC2},romfile=,"
            f"addr=07.0,multifunction=on",
            f"virtio-net-pci,disable-legacy=on,iommu_platform=on,romfile=,addr=07.1"]
    other = "virtio-net-pci,disable-legacy=on,iommu_platform=on,romfile=,addr=08.0"
    extra = ["-device", nic, "-device", other] + [a for d in pair for a in ("-device", d)]
    with Guest("pci-vfio", shares=hp.shares, mem_mb=384, append=["intel_iommu=on"],
               early_args=["-machine", "q35", "-device", "intel-iommu"],
               extra_args=extra) as g:
        g.wait_booted()
        p = Probe(g, hp)
        bdf, first, second = "0000:00:06.0", "0000:00:07.0", "0000:00:07.1"
        assert set(_find(g, "0x1041")) == {bdf, "0000:00:08.0", first, second}
        assert g.check("ls /sys/class/iommu") != ""
        _assert_kernel_has_it(g, bdf)

        g.check(f"echo {HUGEPAGES} > /proc/sys/vm/nr_hugepages")
        out = p.refused(bdf, "uio", "--huge")
        assert "IOMMU translates" in out and "driver=vfio" in out, out
        _assert_kernel_has_it(g, bdf)

        out = p.refused(first, "vfio")
        assert f"{second} (virtio-pci)" in out, out
        _assert_kernel_has_it(g, first)

        # ordinary pages: the IOMMU maps them; 08.0 joins the same container meanwhile
        f, out = p.open_ok(bdf, "vfio", "--tx", 3, "--also", "0000:00:08.0")
        assert f["opened"]["path"] == "vfio" and f["opened"]["device"] == "1041", out
        assert int(f["opened"]["command"], 16) & 0x6 == 0x6, out  # memory space + bus master
        assert f["mac"] == MAC, out  # through the device-cfg capability's mmapped BAR
        mapped = [b for b in f["bars"].values() if b["mapped"] == "1"]
        assert mapped and all(b["io"] == "0" for b in f["bars"].values()), out
        # IOVAs vsw assigned: the first region at 2 MiB, the next one 2 MiB above
        assert [r["dma"] for r in f["dma"]] == [0x200000 + 4096 + 123, 0x400000 + 4096 + 123], out
        assert f["outside"] == 0, out
        assert f["also"] == f["dma"][0]["dma"], out  # one IOVA space, mapped once
        assert out.count("vfio: mapped") == 2, out   # not again for the second device
        assert f["irq"] >= 0, out
        # the device reached ring and frames through the IOMMU at those IOVAs (still mapped
        # after 08.0 let go of the region), and each frame's INTx arrived on the eventfd
        # (unmasked after each)
        assert f["tx"] == {"frames": 3, "interrupts": 3}, out
        assert f["released"] == "virtio-pci", out
        _assert_kernel_has_it(g, bdf)

        held, busy = p.busy_then_crash(bdf, "vfio", ["--tx", 1], [])
        assert held["tx"] == {"frames": 1, "interrupts": 1}, held
        assert "in use by another process" in busy, busy
        _assert_kernel_has_it(g, bdf)
