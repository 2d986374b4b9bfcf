"""vswitchd.service under a real systemd: the vsw .deb installed in a Debian 12 guest whose PID 1
is systemd (tests/vm/systemd_guest.py, TCG).

One guest serves the module (its boot is the expensive part); the tests run in file order, each
building on the state the previous one left:
  * `systemd-analyze verify` of the installed unit is clean, in the guest (and on the host);
  * `apt-get install ./vsw_*.deb` (no network: the image has the package's Depends) enables
    and starts the unit; the default topology is up (br0, tap0 = vsw-tap0);
  * `systemctl start` returns only after READY=1: `vswctl show` right after it answers, with no
    retry;
  * a change (a tap port) is saved, survives `kill -9` of the main PID (systemd restarts the
    unit: NRestarts and MainPID change) and `systemctl restart`;
  * `systemctl stop` ends the daemon by its own clean exit (status 0 after SIGTERM, result
    success) well within TimeoutStopSec;
  * the unit's sandbox lets every port type work: tap, afpacket on a veth made in the guest,
    memif with vsw-pktgen passing frames between two memif ports, vhost-user in server mode
    listening on its socket;
  * `apt-get remove` stops the unit and keeps /var/lib/vsw; `apt-get purge` deletes it.
"""
import json
import pathlib
import shutil
import subprocess
import time

import pytest

from tests.support.deb_package import build_package, runtime_depends
from tests.vm.guest import wait_for
from tests.vm.systemd_guest import SystemdGuest

UNIT = "vswitchd.service"
UNIT_PATH = "/lib/systemd/system/vswitchd.service"


class Box:
    """The guest plus the helpers the tests share."""

    def __init__(self, guest, host_deb):
        self.g, self.host_deb = guest, host_deb
        self.deb = f"/mnt/deb/{host_deb.name}"  # the share of host_deb's directory

    def show(self, *props):
        """{property: value} from `systemctl show vswitchd.service -p ...`."""
        out = self.g.check(f"systemctl show {UNIT} " + " ".join(f"-p {p}" for p in props))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def vswctl(self, *args, json_out=False):
        out = self.g.check("vswctl " + ("--json " if json_out else "") + " ".join(args))
        return json.loads(out) if json_out else out

    def port_names(self):
        names = set()
        for br in self.vswctl("config-show", json_out=True)["bridges"]:
            names.update(p["name"] for p in br["ports"])
        return names


@pytest.fixture(scope="module")
def box():
    t0 = time.monotonic()
    deb = build_package()
    print(f"[systemd] package ready in {time.monotonic() - t0:.0f} s: {deb}")
    guest = SystemdGuest("sd", packages=runtime_depends(deb), shares={"deb": str(deb.parent)})
    try:
        guest.start()
        t1 = time.monotonic()
        guest.wait_booted()
        # Waits (systemd's own wait) until the boot's start-up jobs are done.
        state = guest.run("systemctl is-system-running --wait", timeout=180)[1]
        print(f"[systemd] guest up in {time.monotonic() - t1:.0f} s ({state})")
        assert state in ("running", "degraded"), state
        if state == "degraded":
            print(guest.run("systemctl --failed --no-legend")[1])
        guest.mount_share("deb")
        yield Box(guest, deb)
    finally:
        guest.close()


def test_guest_runs_systemd_as_pid1(box):
    assert box.g.check("cat /proc/1/comm") == "systemd"
    assert box.g.check("systemctl --version | head -1").startswith("systemd 252")


def test_install_enables_and_starts_the_unit(box):
    out = box.g.check(f"DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                      f"{box.deb} 2>&1", timeout=300)
    assert "Setting up vsw" in out, out
    assert box.g.check(f"systemctl is-enabled {UNIT}") == "enabled"
    assert box.g.check(f"systemctl is-active {UNIT}") == "active"
    p = box.show("ExecMainPID", "Type", "FragmentPath")
    assert p["Type"] == "notify" and p["FragmentPath"] == UNIT_PATH, p
    assert box.g.check(f"cat /proc/{p['ExecMainPID']}/cmdline | tr '\\0' ' '").startswith(
        "/usr/sbin/vswitchd ")
    # the default topology: br0 with tap0, whose kernel interface exists
    assert box.port_names() == {"tap0"}
    assert "br0" in box.vswctl("show")
    box.g.check("ip link show vsw-tap0")
    assert box.g.run("test -f /var/lib/vsw/state.json")[0] == 0


def test_systemd_analyze_verify_is_clean(box):
    rc, out = box.g.run(f"systemd-analyze verify {UNIT_PATH} 2>&1")
    assert rc == 0 and out == "", out


def test_systemd_analyze_verify_on_the_host(box, tmp_path):
    """The host runs no systemd, but `systemd-analyze verify` works offline: against the
    extracted package (--root, where /usr/sbin/vswitchd exists) plus the host's targets the unit
    refers to. --man=no: the man page is checked in the guest, where the package installed it."""
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing on the host (Debian package systemd)")
    subprocess.run(["dpkg-deb", "-x", str(box.host_deb), str(tmp_path)], check=True)
    units = tmp_path / "lib/systemd/system"
    for target in pathlib.Path("/lib/systemd/system").glob("*.target"):
        shutil.copy2(target, units / target.name)
    res = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={tmp_path}",
                          f"/lib/systemd/system/{UNIT}"], capture_output=True, text=True)
    out = (res.stdout + res.stderr).strip()
    assert res.returncode == 0 and out == "", out


def test_start_returns_after_ready(box):
    box.g.check(f"systemctl stop {UNIT}")
    # No retry loop: `systemctl start` of a Type=notify unit returns after READY=1, and vswitchd
    # sends it once the control socket accepts clients.
    for _ in range(3):
        out = box.g.check(f"systemctl start {UNIT} && vswctl show", timeout=120)
        assert "br0" in out and "tap0" in out, out
        box.g.check(f"systemctl stop {UNIT}")
    box.g.check(f"systemctl start {UNIT}")


def test_change_is_saved_and_survives_kill_9(box):
    box.vswctl("add-port", "br0", "t1", "--type", "tap", "-o", "ifname=vsw-t1")
    state = json.loads(box.g.check("cat /var/lib/vsw/state.json"))
    assert any(p["name"] == "t1" for b in state["bridges"] for p in b["ports"]), state
    before = box.show("MainPID", "NRestarts")
    box.g.check(f"kill -9 {before['MainPID']}")

    def restarted():
        now = box.show("MainPID", "NRestarts", "ActiveState", "SubState")
        return (now["ActiveState"] == "active" and now["SubState"] == "running"
                and now["MainPID"] not in ("0", before["MainPID"])
                and int(now["NRestarts"]) == int(before["NRestarts"]) + 1 and now)
    # Restart=on-failure, RestartSec=2s: systemd restarts it; TCG makes every step slow.
    now = wait_for(restarted, 90, interval=0.5, what="systemd restarting vswitchd after kill -9")
    print(f"[systemd] restarted: {before} -> {now}")
    # Active (running) again means READY=1 came: vswctl answers at once, t1 is back.
    assert box.port_names() == {"tap0", "t1"}
    box.g.check("ip link show vsw-t1")


def test_stop_is_a_clean_exit_within_the_timeout(box):
    timeout = box.show("TimeoutStopUSec")["TimeoutStopUSec"]
    t0 = time.monotonic()
    box.g.check(f"systemctl stop {UNIT}", timeout=120)
    took = time.monotonic() - t0
    p = box.show("Result", "ExecMainCode", "ExecMainStatus", "ActiveState")
    # Result=success rather than timeout; ExecMainCode 1 = CLD_EXITED: vswitchd exited by
    # itself with status 0 after SIGTERM, not killed by a signal (SIGKILL after the timeout).
    assert p == {"Result": "success", "ExecMainCode": "1", "ExecMainStatus": "0",
                 "ActiveState": "inactive"}, p
    assert timeout == "20s" and took < 20, (timeout, took)
    log = box.g.check(f"journalctl -u {UNIT} -o cat --no-pager | tail -n 20")
    assert "SIGKILL" not in log and "timed out" not in log, log
    print(f"[systemd] systemctl stop took {took:.1f} s (TimeoutStopSec {timeout})")


def test_restart_keeps_the_configuration(box):
    # The tests above started the unit five times (four starts and the restart after kill -9);
    # on a fast run that is within systemd's default start rate limit (StartLimitBurst=5 per
    # StartLimitIntervalSec=10s, systemd.unit(5)), and this test's start and restart would be
    # refused ("start of the service was attempted too often"). reset-failed flushes the
    # counter: what is tested here is restart, not how often the tests start the unit.
    box.g.check(f"systemctl reset-failed {UNIT}; systemctl start {UNIT}")
    pid = box.show("MainPID")["MainPID"]
    box.g.check(f"systemctl restart {UNIT}", timeout=120)
    assert box.show("MainPID")["MainPID"] != pid
    assert box.port_names() == {"tap0", "t1"}
    assert box.show("Result")["Result"] == "success"


def test_hardening_lets_every_port_type_work(box):
    g = box.g
    # afpacket on a veth made here (the unit needs CAP_NET_RAW and the host's network namespace)
    g.check("ip link add vsw-va type veth peer name vsw-vb && ip link set vsw-va up")
    box.vswctl("add-port", "br0", "a1", "--type", "afpacket", "-o", "ifname=vsw-va")
    # The peer comes up only now: its IPv6 start-up frames (DAD, MLD, router solicitations)
    # reach vsw through the AF_PACKET ring.
    g.check("ip link set vsw-vb up")
    # memif: two ports on the default socket, vsw-pktgen as the client of both
    box.vswctl("add-port", "br0", "m1", "--type", "memif", "-o", "id=1")
    box.vswctl("add-port", "br0", "m2", "--type", "memif", "-o", "id=2")
    # vhost-user in server mode: vswitchd creates and listens on the socket in /run/vsw
    box.vswctl("add-port", "br0", "vu1", "--type", "vhost-user", "-o", "path=/run/vsw/vu1.sock",
               "-o", "mode=server")
    assert box.port_names() == {"tap0", "t1", "a1", "m1", "m2", "vu1"}

    assert box.vswctl("port-show", "vu1", json_out=True)["details"]["state"] == "listening"
    g.check("test -S /run/vsw/vu1.sock")
    wait_for(lambda: box.vswctl("port-show", "a1", json_out=True)["stats"]["rx_packets"] > 0,
             60, interval=0.5, what="frames from vsw-vb received on afpacket port a1")

    count = 2000
    out = g.check(f"vsw-pktgen --socket /run/vsw/memif.sock --mode txrx --id 1 --rx-id 2 "
                  f"--mac 02:00:00:00:00:01 --dst-mac 02:00:00:00:00:02 --count {count} "
                  f"--rate 2000 --idle 3 --json --quiet", timeout=120)
    summary = json.loads(out.strip().splitlines()[-1])
    print(f"[systemd] vsw-pktgen txrx: {summary}")
    assert summary["tx"]["frames"] == count, summary
    assert summary["rx"]["ok"] == count and summary["rx"]["corrupt"] == 0, summary
    stats = {s["port"]: s for s in box.vswctl("stats", json_out=True)}
    assert stats["m1"]["rx_packets"] >= count and stats["m2"]["tx_packets"] >= count, stats
    # The journal has no permission errors from the sandbox.
    log = g.check(f"journalctl -u {UNIT} -o cat --no-pager")
    assert "Operation not permitted" not in log and "Permission denied" not in log, log


def test_remove_stops_the_unit_and_purge_deletes_the_state(box):
    g = box.g
    g.check("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q vsw", timeout=300)
    assert g.run(f"systemctl is-active {UNIT}")[1] in ("inactive", "unknown")
    assert g.run("pidof vswitchd")[0] != 0
    assert g.run(f"systemctl is-enabled {UNIT}")[1] != "enabled"
    assert g.run("test -x /usr/sbin/vswitchd")[0] != 0
    assert g.run("test -f /var/lib/vsw/state.json")[0] == 0, "remove must keep the state"
    assert g.run("test -f /etc/vsw/default.json")[0] == 0, "remove keeps conffiles"
    g.check("DEBIAN_FRONTEND=noninteractive apt-get purge -y -q vsw", timeout=300)
    assert g.run("test -e /var/lib/vsw")[0] != 0, "purge must delete /var/lib/vsw"
    assert g.run("test -e /etc/vsw/default.json")[0] != 0
    assert g.run(f"test -e /etc/systemd/system/multi-user.target.wants/{UNIT}")[0] != 0
