"""vsw's 802.1Q VLANs against the Linux kernel's own VLAN interfaces (the 8021q module, which the
host kernel lacks): vswitchd in a TCG guest, a namespace with eth0.10 and eth0.20 on a veth
attached to a trunk port, and namespaces on access ports of VLANs 10 and 20. Ping works within a
VLAN, never across. One guest boot."""
import pytest

from tests.support import paths
from tests.vm.guest import Guest
from tests.vm.guest_vswitchd import GuestVswitchd
from tests.vm.host_programs import HostPrograms

SETUP = """set -e
modprobe 8021q 2>/dev/null || true
for n in tr a10 a20; do
  ip netns add $n
  ip link add v$n type veth peer name e$n
  ip link set e$n netns $n
  ip -n $n link set e$n name eth0
  ip -n $n link set eth0 up
  ip -n $n link set lo up
  ip link set v$n up
done
ip -n tr link add link eth0 name eth0.10 type vlan id 10
ip -n tr link add link eth0 name eth0.20 type vlan id 20
ip -n tr addr add 10.10.0.1/24 dev eth0.10
ip -n tr addr add 10.20.0.1/24 dev eth0.20
ip -n tr link set eth0.10 up
ip -n tr link set eth0.20 up
ip -n a10 addr add 10.10.0.2/24 dev eth0
ip -n a20 addr add 10.20.0.2/24 dev eth0
ip -n a20 addr add 10.10.0.3/24 dev eth0
echo ok"""


def test_kernel_vlan_interfaces_through_trunk_and_access_ports():
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")
    hp = HostPrograms()
    with Guest("vlan", shares=hp.shares, mem_mb=384) as g:
        g.wait_booted()
        assert g.check(SETUP, timeout=120).endswith("ok")
        assert "8021q" in g.check("cat /proc/modules; ls /proc/net/vlan"), "no 8021q in the guest"
        d = GuestVswitchd(g, hp, hugepages=False).start()
        d.vsctl("add-br", "br0")
        d.rpc("port.add", {"bridge": "br0", "name": "tr", "type": "afpacket",
                           "options": {"ifname": "vtr"}, "trunks": [10, 20]})
        d.rpc("port.add", {"bridge": "br0", "name": "a10", "type": "afpacket",
                           "options": {"ifname": "va10"}, "tag": 10})
        d.rpc("port.add", {"bridge": "br0", "name": "a20", "type": "afpacket",
                           "options": {"ifname": "va20"}, "tag": 20})
        # Within a VLAN: the kernel's tagged eth0.10 / eth0.20 and the untagged access sides.
        g.wait_until("ip netns exec tr ping -c 1 -W 1 10.10.0.2", timeout=30)
        g.wait_until("ip netns exec tr ping -c 1 -W 1 10.20.0.2", timeout=30)
        # Across VLANs: a20 holds 10.10.0.3 but sits in VLAN 20; neither side reaches it.
        rc, out = g.run("ip netns exec a10 ping -c 2 -W 1 10.10.0.3")
        assert rc != 0, out
        rc, out = g.run("ip netns exec tr ping -c 2 -W 1 -I eth0.10 10.10.0.3")
        assert rc != 0, out
        fdb = d.rpc("fdb.show", {"bridge": "br0"})
        assert {(e["vlan"], e["port"]) for e in fdb} >= {(10, "tr"), (10, "a10"), (20, "tr"),
                                                         (20, "a20")}, fdb
        drops = {s["port"]: s["tx_drops"] for s in d.rpc("stats.show")}
        assert all(v == 0 for v in drops["a10"].values()), drops
        d.stop()
