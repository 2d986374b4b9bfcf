"""The two ends of every measured path: a client and a server namespace, each with one
interface towards the switch under test, addressed in a /24 of its own.

A switch module builds the path (creating the interface in its switch namespace and moving it
here, or a veth pair with one end here) and returns an Endpoints.
"""
import dataclasses

from shell import sh


@dataclasses.dataclass
class Endpoints:
    client_ns: str
    server_ns: str
    server_addr: str
    client_if: str
    server_if: str


def subnet(index):
    """The /24 of the index-th path (10.201.<index>.0/24): each path its own."""
    return f"10.201.{index}"


def address(ns, ifname, cidr):
    """Addresses `ifname` in `ns` and brings it up. Offloads stay at the kernel's defaults."""
    sh(f"ip -n {ns} addr add {cidr} dev {ifname}")
    sh(f"ip -n {ns} link set {ifname} up")


def veth_into(switch_ns, outer, inner_ns):
    """A veth pair: `outer` stays in `switch_ns` (up), its peer is eth0 in `inner_ns`."""
    sh(f"ip -n {switch_ns} link add {outer} type veth peer name eth0 netns {inner_ns}")
    sh(f"ip -n {switch_ns} link set {outer} up")


def move_into(switch_ns, ifname, inner_ns):
    """Moves an interface a switch created (a tap) from its namespace into `inner_ns`."""
    sh(f"ip -n {switch_ns} link set {ifname} netns {inner_ns}")


def check_reachable(ep):
    """One ping client -> server (ARP and MAC learning settle); raises when it fails."""
    res = sh(f"ip netns exec {ep.client_ns} ping -c 1 -W 1 -w 10 {ep.server_addr}", check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{ep.client_ns} cannot reach {ep.server_addr}:\n{res.stdout}")


def tso_state(ep):
    """'on/on', 'off/off', ...: ethtool's tcp-segmentation-offload of the client and server
    interfaces (left at the kernel's defaults; a tap offers TSO only when its switch enabled it)."""
    states = []
    for ns, ifname in ((ep.client_ns, ep.client_if), (ep.server_ns, ep.server_if)):
        out = sh(f"ip netns exec {ns} ethtool -k {ifname}").stdout
        line = next((x for x in out.splitlines() if "tcp-segmentation-offload:" in x), "? ?")
        states.append(line.split(":", 1)[-1].split()[0])
    return "/".join(states)
