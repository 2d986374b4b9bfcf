"""802.1Q VLANs and port mirroring through vswitchd with real kernel interfaces: tagged and
untagged frames sent and captured with scapy on veths in a namespace (afpacket ports), exact
bytes checked for access, trunk and native ports and isolation between VLANs; a mirror's output
read back with tcpdump."""
import json
import subprocess

from tests.support import paths
from tests.support.netns import sh

BCAST = "ffffffffffff"


def frame(dst, src, seq, tci=None):
    """An IPv4-typed frame dst <- src (hex MACs) padded to 60 bytes, tagged with `tci`."""
    body = "0800" + (bytes([seq]) * 46).hex()
    tag = "" if tci is None else "8100%04x" % tci
    return dst + src + tag + body


def tagged(f, tci):
    return f[:24] + "8100%04x" % tci + f[24:]


def run_frames(tmp_path, ns, spec):
    path = tmp_path / "spec.json"
    with open(path, "w") as fh:
        json.dump(spec, fh)
    out = subprocess.run(
        ["ip", "netns", "exec", ns, "/usr/bin/python3", "-m", "tests.support.vlan_frames", str(path)],
        cwd=paths.REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def make_bridge(d, net, ports):
    """Bridge br0 with an afpacket port per (name, vsctl vlan args); the inner veth ends are
    interfaces `name` in one namespace (no addresses: raw frames only)."""
    ns = net.add_namespace("vl")
    d.vsctl("add-br", "br0")
    for name, vlan_args in ports:
        outer = net.name(name)
        sh(f"ip link add {outer} type veth peer name {outer}i")
        net.links.append(outer)
        sh(f"ip link set {outer}i netns {ns}")
        sh(f"ip -n {ns} link set {outer}i name {name}")
        # No IPv6 chatter (router solicitations, DAD) on the inner ends: only our frames.
        sh(f"ip netns exec {ns} sysctl -qw net.ipv6.conf.{name}.disable_ipv6=1")
        sh(f"ip -n {ns} link set {name} up")
        sh(f"sysctl -qw net.ipv6.conf.{outer}.disable_ipv6=1")
        sh(f"ip link set {outer} up")
        d.vsctl("add-port", "br0", name, "--type", "afpacket", "-o", f"ifname={outer}",
                *vlan_args)
    return ns


def test_access_trunk_native_and_isolation(vswitchd, net, tmp_path):
    d = vswitchd
    ns = make_bridge(d, net, [("a10", ["--tag", "10"]), ("b10", ["--tag", "10"]),
                        ("c20", ["--tag", "20"]), ("tr", ["--trunks", "10,20"]),
                        ("nat", ["--vlan-mode", "native-untagged", "--tag", "10",
                                 "--trunks", "20"])])
    s1, s2, s3 = "020000000001", "020000000002", "020000000003"
    listen = ["a10", "b10", "c20", "tr", "nat"]
    # 1. Untagged broadcast on access VLAN 10: b10 and nat untagged as sent, tr tagged VID 10.
    f = frame(BCAST, s1, 1)
    got = run_frames(tmp_path, ns, {"listen": listen, "send": [["a10", f]], "expect": 3, "timeout": 5})
    assert got["b10"] == [f] and got["nat"] == [f]
    assert got["tr"] == [tagged(f, 10)]
    assert got["c20"] == [] and got["a10"] == []
    # 2. Tagged VLAN 20 with PCP 5 on the trunk: c20 untagged, nat tagged with PCP kept.
    f2 = frame(BCAST, s2, 2)
    got = run_frames(tmp_path, ns, {"listen": listen, "send": [["tr", tagged(f2, 0xA014)]],
                               "expect": 2, "timeout": 5})
    assert got["c20"] == [f2]
    assert got["nat"] == [tagged(f2, 0xA014)]
    assert got["a10"] == [] and got["b10"] == []
    # 3. Frames the ports do not carry: tagged on an access port, untagged and VLAN 30 on the
    #    trunk. Nothing arrives anywhere; each is counted as a `vlan` drop.
    before = d.result("stats.show", {"port": "tr"})[0]["rx_drops"]["vlan"]
    got = run_frames(tmp_path, ns, {"listen": listen,
                               "send": [["a10", frame(BCAST, s3, 3, 20)],
                                        ["tr", frame(BCAST, s3, 4)],
                                        ["tr", frame(BCAST, s3, 5, 30)]],
                               "expect": 1, "timeout": 1})
    assert all(v == [] for v in got.values()), got
    assert d.result("stats.show", {"port": "tr"})[0]["rx_drops"]["vlan"] == before + 2
    assert d.result("stats.show", {"port": "a10"})[0]["rx_drops"]["vlan"] >= 1
    # 4. Learned unicast stays in its VLAN: the MAC table has (VLAN, MAC) rows.
    fdb = d.vsctl("fdb-show", "br0", json_out=True)
    assert {"mac": "02:00:00:00:00:01", "vlan": 10, "port": "a10"} in [
        {k: e[k] for k in ("mac", "vlan", "port")} for e in fdb]
    u = frame(s1, s2, 6)  # to s1 (VLAN 10 on a10) from VLAN 20 on c20: not delivered
    got = run_frames(tmp_path, ns, {"listen": listen, "send": [["c20", u]], "expect": 2, "timeout": 2})
    assert got["a10"] == [] and got["b10"] == [], got
    assert got["tr"] == [tagged(u, 20)]  # unknown in VLAN 20: flooded there
    u10 = frame(s1, s3, 7)
    got = run_frames(tmp_path, ns, {"listen": listen, "send": [["b10", u10]], "expect": 1,
                               "timeout": 5})
    assert got["a10"] == [u10] and got["tr"] == [] and got["nat"] == []
    # Settings are shown and saved.
    p = d.vsctl("port-show", "nat", json_out=True)
    assert p["vlan_mode"] == "native-untagged" and p["tag"] == 10 and p["trunks"] == [20]
    cfg = d.result("config.show")
    ports = {q["name"]: q for q in cfg["bridges"][0]["ports"]}
    assert ports["a10"]["vlan_mode"] == "access" and ports["a10"]["tag"] == 10
    assert ports["tr"]["trunks"] == [10, 20]


def test_mirror_output_seen_by_tcpdump(vswitchd, net, tmp_path):
    d = vswitchd
    ns = make_bridge(d, net, [("a10", ["--tag", "10"]), ("b10", ["--tag", "10"]),
                        ("c20", ["--tag", "20"]), ("mon", [])])
    d.vsctl("add-mirror", "br0", "m0", "--select-src-port", "a10", "--output-port", "mon")
    bad = d.vsctl("add-mirror", "br0", "m1", "--select-src-port", "mon", "--output-port", "b10",
                  check=False)
    assert bad.returncode == 2 and "output port" in bad.stderr
    pcap = str(tmp_path / "mirror.pcap")
    tcpdump = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", "mon", "-U", "-n",
                                "-w", pcap, "--immediate-mode", "-Q", "in"],
                               stderr=subprocess.PIPE, text=True)
    try:
        line = tcpdump.stderr.readline()  # "listening on mon, ..." once the capture runs
        assert "listening on" in line, line
        frames = [frame(BCAST, "020000000011", i) for i in range(5)]
        sends = [["a10", f] for f in frames] + [["c20", frame(BCAST, "020000000022", 9)],
                                               ["b10", frame(BCAST, "020000000033", 8)]]
        got = run_frames(tmp_path, ns, {"listen": ["b10"], "send": sends, "expect": 5,
                                   "timeout": 5})
        assert len(got["b10"]) == 5
        m = d.result("mirror.list", {"bridge": "br0"})
        assert m[0]["packets"] == 5, m
    finally:
        tcpdump.terminate()
        tcpdump.wait(10)
    out = subprocess.run(["tcpdump", "-r", pcap, "-n", "-e", "-xx"], capture_output=True,
                         text=True, check=True).stdout
    lines = [ln for ln in out.splitlines() if not ln.startswith("\t")]
    assert len(lines) == 5, out  # the five frames from a10, not those of c20 or b10
    assert all("02:00:00:00:00:11" in ln for ln in lines), out
    assert all("vlan 10" in ln for ln in lines), out  # mon has no VLAN settings: tagged
    listed = d.vsctl("list-mirrors", "br0").stdout
    assert "m0" in listed and "packets: 5" in listed
    d.vsctl("del-mirror", "br0", "m0")
    assert d.result("mirror.list", {}) == []


def test_iperf3_tcp_through_tag_push_and_pop(vswitchd, net):
    """A TCP stream with the kernel's offloads on (GSO super-frames with partial checksums)
    through an access port (tag pushed), a trunk veth pair between two bridges (tagged on the
    wire, the kernel moving the tag into packet metadata and vsw putting it back) and an access
    port again (tag popped): csum_start/hdr_len must move with the tag for both kernels."""
    from tests.support.kernel_offloads import csum_errors
    from tests.system.test_kernel_traffic import iperf_tcp
    d = vswitchd
    ns1, ns2 = net.add_namespace("i1"), net.add_namespace("i2")
    d.vsctl("add-br", "br0")
    d.vsctl("add-br", "br1")
    a = net.add_veth("ia", ns1, "10.9.0.1/24")
    b = net.add_veth("ib", ns2, "10.9.0.2/24")
    x, y = net.name("tx"), net.name("ty")
    sh(f"ip link add {x} type veth peer name {y}")
    net.links.append(x)
    sh(f"ip link set {x} up")
    sh(f"ip link set {y} up")
    d.vsctl("add-port", "br0", "ia", "--type", "afpacket", "-o", f"ifname={a}", "--tag", "10")
    d.vsctl("add-port", "br0", "tx", "--type", "afpacket", "-o", f"ifname={x}", "--trunks", "10")
    d.vsctl("add-port", "br1", "ty", "--type", "afpacket", "-o", f"ifname={y}", "--trunks", "10")
    d.vsctl("add-port", "br1", "ib", "--type", "afpacket", "-o", f"ifname={b}", "--tag", "10")
    assert net.wait_ping(ns1, "10.9.0.2"), d.log()
    before = csum_errors(net, ns2)
    received, bps = iperf_tcp(net, ns2, ns1, "10.9.0.2", seconds=3)
    assert received > 10_000_000, (received, bps)
    assert csum_errors(net, ns2) == before
    fdb = d.vsctl("fdb-show", "br1", json_out=True)
    assert {e["vlan"] for e in fdb} == {10}
    # A port of another VLAN on br1 gets nothing of it.
    assert d.result("stats.show", {"port": "ib"})[0]["rx_drops"]["vlan"] == 0
