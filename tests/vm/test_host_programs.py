"""Host-built programs in a guest (tests/vm/host_programs.py): vswitchd and vswctl from the build
directory run in a TCG guest through the host's loader, and the daemon answers and configures a
bridge there, through vswctl and through the daemon's JSON-RPC socket. One guest boot, about
15 s.
"""
import pytest

from tests.support import paths
from tests.vm.guest import Guest
from tests.vm.guest_vswitchd import GuestVswitchd, VswctlError
from tests.vm.host_programs import HostProgramError, HostPrograms


def test_paths_outside_the_shares_are_refused(tmp_path):
    hp = HostPrograms()
    assert hp.guest_path(paths.VSWCTL) == "/mnt/vswbuild/cli/vswctl"
    assert hp.guest_path("/usr/bin/iperf3") == "/mnt/hostusr/bin/iperf3"
    outside = tmp_path / "prog"
    outside.write_text("#!/bin/sh\n")
    outside.chmod(0o755)
    with pytest.raises(HostProgramError, match="neither under the build directory"):
        hp.command(outside)
    with pytest.raises(HostProgramError, match="not an executable"):
        hp.command(paths.BUILD / "no-such-program")


def test_vswitchd_and_vswctl_from_the_build_dir_run_in_a_guest():
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")
    hp = HostPrograms()
    with Guest("hostprog", shares=hp.shares, mem_mb=384) as g:
        g.wait_booted()
        assert g.check(hp.command(paths.VSWCTL, "--version")).startswith("vswctl ")
        # the guest's loader and libraries are not the ones used: the host's are
        assert "/mnt/hostusr/lib/" in hp.command(paths.VSWITCHD)
        d = GuestVswitchd(g, hp, hugepages=False).start()
        versions = d.vsctl("version", json_out=True)
        assert versions["vswitchd"] == versions["vswctl"], versions
        d.vsctl("add-br", "br0")
        show = d.vsctl("show", json_out=True)
        assert [b["name"] for b in show["bridges"]] == ["br0"], show
        with pytest.raises(VswctlError) as err:
            d.vsctl("add-port", "br0", "p0", "--type", "afpacket", "-o", "ifname=nosuchif")
        assert "nosuchif" in err.value.output, err.value.output
        # the open JSON-RPC connection: results, an error reply, and requests after it
        assert d.rpc("daemon.version")["version"] == versions["vswitchd"]
        with pytest.raises(VswctlError) as err:
            d.rpc("port.show", {"name": "nosuchport"})
        assert "nosuchport" in err.value.output, err.value.output
        assert [b["name"] for b in d.rpc("bridge.list")] == ["br0"]
        # the daemon runs the guest's kernel: its run directory is in the guest's tmpfs
        assert g.check(f"ls {d.dir}/run >/dev/null && echo ok") == "ok"
        d.stop()
        assert not d.alive()
