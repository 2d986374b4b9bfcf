"""A vsw tap moved into another network namespace (or renamed there) reports its real link
state and says where it is: vsw finds it through its own tap fd, not by name in its namespace."""

from tests.support.netns import sh
from tests.support.wait import wait_for


def port(d, name):
    return d.vsctl("port-show", name, json_out=True)


def test_tap_in_another_namespace_reports_its_real_state(vswitchd, net):
    d = vswitchd
    d.vsctl("add-br", "br0")
    ifname = net.name("tn")
    d.vsctl("add-port", "br0", "t0", "--type", "tap", "-o", f"ifname={ifname}")
    ns = net.add_namespace("tns")
    sh(f"ip link set {ifname} netns {ns}")
    # vsw's namespace has no interface of that name any more; the port still knows where it is.
    p = port(d, "t0")
    assert p["details"]["netns"] == ns
    assert p["details"]["ifname"] == ifname
    assert p["link"] == "down"
    sh(f"ip -n {ns} link set {ifname} name eth7")
    sh(f"ip -n {ns} link set eth7 up")
    # A tap has carrier while vsw holds its fd: up in its namespace is up.
    assert wait_for(lambda: port(d, "t0")["link"] == "up"), port(d, "t0")
    p = port(d, "t0")
    assert p["details"]["ifname"] == "eth7" and p["details"]["admin"] == "up"
    assert p["details"]["ifindex"] != "?"
    # An interface with the old name in vsw's namespace is not mistaken for the tap.
    sh(f"ip link add {ifname} type veth peer name {ifname}p")
    try:
        sh(f"ip link set {ifname}p up")
        sh(f"ip link set {ifname} up")
        sh(f"ip -n {ns} link set eth7 down")
        assert wait_for(lambda: port(d, "t0")["link"] == "down"), port(d, "t0")
        assert port(d, "t0")["details"]["netns"] == ns
    finally:
        sh(f"ip link del {ifname}", check=False)
    d.vsctl("del-port", "t0")


def test_tap_at_home_says_so(vswitchd, net):
    d = vswitchd
    d.vsctl("add-br", "br0")
    ifname = net.name("th")
    d.vsctl("add-port", "br0", "t1", "--type", "tap", "-o", f"ifname={ifname}")
    p = port(d, "t1")
    assert p["details"]["netns"] == "vswitchd's"
    assert p["details"]["ifname"] == ifname
    assert p["link"] == "up"
