#!/usr/bin/python3
"""bench/kernel_path/run_bench.py — TCP (optionally UDP) between two network namespaces through
(a) vsw, (b) a Linux bridge and (c) Open vSwitch's userspace datapath, for each kernel port
kind (tap, afpacket), interleaved in one run (vsw, Linux bridge, OVS, vsw, ...), with the
median and range per configuration and the ratios vsw / Linux bridge and vsw / OVS.

    sudo /usr/bin/python3 bench/kernel_path/run_bench.py --build build --rounds 5 --seconds 10

Each switch runs in its own namespace and each path has its own client and server namespaces
(names start with vkp<pid>); kernel offloads stay at their defaults everywhere. Every run also
records vsw's worker cycles/packet (dp.show) and checks that the TcpInCsumErrors and
UdpInCsumErrors counters of both end namespaces did not move; a run that moved them fails the
benchmark. Everything is removed at the end, also on failure or Ctrl-C. See
docs/performance.md "Kernel ports end to end".
"""
import argparse
import datetime
import json
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from endpoints import check_reachable, tso_state  # noqa: E402
from iperf_run import iperf3  # noqa: E402
from linux_bridge import LinuxBridge  # noqa: E402
from ovs_switch import OvsSwitch  # noqa: E402
from shell import Teardown, sh  # noqa: E402
from summary import table  # noqa: E402
from vsw_switch import VswSwitch  # noqa: E402

SWITCHES = ("vsw", "linux-bridge", "ovs")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build", help="vsw build directory (daemon/vswitchd)")
    p.add_argument("--rounds", type=int, default=5, help="runs per configuration (>= 1)")
    p.add_argument("--seconds", type=int, default=10, help="iperf3 duration of one run")
    p.add_argument("--kinds", default="tap,afpacket", help="port kinds, comma-separated")
    p.add_argument("--udp", action="store_true", help="UDP (-u -b 0) instead of TCP")
    p.add_argument("--json", help="also write every run to this file")
    a = p.parse_args()
    a.kinds = a.kinds.split(",")
    if a.rounds < 1 or a.seconds < 1 or not set(a.kinds) <= {"tap", "afpacket"}:
        p.error("--rounds and --seconds must be >= 1; --kinds a subset of tap,afpacket")
    if not os.path.exists(os.path.join(a.build, "daemon", "vswitchd")):
        p.error(f"{a.build}/daemon/vswitchd is not built")
    if os.geteuid() != 0:
        p.error("needs root (network namespaces)")
    return a


def build_paths(teardown, workdir, kind, build):
    """The three paths of one port kind; index keeps their subnets and names apart."""
    base = 10 if kind == "tap" else 20
    return {"vsw": VswSwitch(teardown, workdir, base + 1, kind, build),
            "linux-bridge": LinuxBridge(teardown, workdir, base + 2, kind),
            "ovs": OvsSwitch(teardown, workdir, base + 3, kind)}


def measure(args, workdir, teardown):
    results = {}
    for kind in args.kinds:
        kind_teardown = Teardown()
        try:
            paths = build_paths(kind_teardown, workdir, kind, args.build)
            for s in SWITCHES:
                check_reachable(paths[s].endpoints)
                print(f"{kind:8} {s:12}: {paths[s].describe()}; TSO client/server "
                      f"{tso_state(paths[s].endpoints)}")
            for r in range(1, args.rounds + 1):
                for s in SWITCHES:
                    path = paths[s]
                    path.before_run()
                    run = iperf3(path.endpoints, args.seconds, args.udp)
                    run.update(path.after_run())
                    results.setdefault((kind, s), []).append(run)
                    extra = (f", {run['vsw_cycles_per_packet']:.0f} cycles/packet over "
                             f"{run['vsw_packets']} packets of {run['vsw_bytes_per_packet']:.0f} B"
                             if s == "vsw" else "")
                    if "retransmits" in run:
                        extra = f", {run['retransmits']} retransmits" + extra
                    else:
                        extra = f", {run['lost_percent']:.1f}% lost" + extra
                    print(f"round {r} {kind:8} {s:12} {run['gbps']:6.2f} Gbit/s{extra}",
                          flush=True)
                    moved = {ns: c for ns, c in run["csum_errors"].items() if any(c.values())}
                    if moved:
                        raise RuntimeError(f"checksum errors counted on {kind}/{s}: {moved}")
        finally:
            kind_teardown.run()
    return results


def main():
    args = parse_args()
    teardown = Teardown()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = tempfile.mkdtemp(prefix="vsw-kernel-path-")
    teardown.push("scratch directory", lambda: sh(f"rm -rf {workdir}", check=False))
    try:
        started = datetime.datetime.now(datetime.timezone.utc)
        load = os.getloadavg()
        results = measure(args, workdir, teardown)
        proto = "UDP" if args.udp else "TCP"
        print(f"\n{proto}, {args.rounds} rounds x {args.seconds} s, started "
              f"{started:%Y-%m-%d %H:%M} UTC, load average at start {load[0]:.1f}, at end "
              f"{os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs\n")
        print(table(results, SWITCHES))
        if args.json:
            with open(args.json, "w") as f:
                json.dump({f"{k}/{s}": runs for (k, s), runs in results.items()}, f, indent=1)
    finally:
        teardown.run()


if __name__ == "__main__":
    main()
