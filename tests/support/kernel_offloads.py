"""What the kernel of a namespace says about offloads and checksums: whether TSO is on for an
interface (`ethtool -k`), and its TCP/UDP receive checksum error counters (`nstat`)."""

CSUM_COUNTERS = ("TcpInCsumErrors", "UdpInCsumErrors")


def tso_on(net, ns, ifname):
    """True when `ethtool -k` reports tcp-segmentation-offload on for `ifname` in `ns`."""
    out = net.ns_exec(ns, f"ethtool -k {ifname}").stdout
    for line in out.splitlines():
        if line.strip().startswith("tcp-segmentation-offload:"):
            return line.split(":", 1)[1].split()[0] == "on"
    raise AssertionError(f"ethtool -k {ifname} lists no tcp-segmentation-offload:\n{out}")


def csum_errors(net, ns):
    """{counter: absolute value} of the receive checksum error counters of `ns` (nstat -a: no
    history involved; -s: the history file is not updated; -z: zero counters are listed)."""
    out = net.ns_exec(ns, f"nstat -asz {' '.join(CSUM_COUNTERS)}").stdout
    values = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in CSUM_COUNTERS:
            values[fields[0]] = int(fields[1])
    assert set(values) == set(CSUM_COUNTERS), f"nstat did not list {CSUM_COUNTERS}:\n{out}"
    return values
