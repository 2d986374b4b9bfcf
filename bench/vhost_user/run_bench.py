#!/usr/bin/env python3
"""vhost-user throughput: a dpdk-testpmd tester (two net_virtio_user ports) through a switch.

The tester (tester.py) is one dpdk-testpmd with two net_virtio_user ports, stations A and B,
forwarding on CPU 0 (macswap, loop topology, seeded with `start tx_first`): every frame is known
unicast between two stations that never move. The switch forwards between its two vhost-user
ports on CPU 1:

  testpmd   dpdk-testpmd, two net_vhost ports, io forwarding        (testpmd_switch.py)
  ovs-dpdk  OVS-DPDK, two dpdkvhostuserclient ports, in_port rules  (ovs_dpdk_switch.py)
  ovs-dpdk-normal  the same with the NORMAL action (MAC learning); optional
  vsw       vswitchd --workers 1 --cpus 1, one bridge, two vhost-user ports in client mode,
            MAC learning on                                          (vsw_switch.py)

Runs are interleaved (testpmd ovs-dpdk vsw testpmd ...) because shared-memory rates on a 2-vCPU
machine are bimodal (shared/specs/test-peers.md); the report gives median and range of the
frames per second the switch delivered (both directions together) and of the switch core's
cycles per frame as each switch reports them.

Prerequisites (Debian 12, root): packages dpdk (dpdk-testpmd) and openvswitch-switch-dpdk
(ovs-vswitchd-dpdk, ovsdb-server, ovs-vsctl); a built vsw for the vsw peer. The script raises
vm.nr_hugepages to --hugepages for the run and restores it afterwards. Nothing else may be
busy-polling on the two CPUs.

Usage: bench/vhost_user/run_bench.py [--build build] [--runs 5] [--seconds 8] [--sizes 64,1500]
       [--switches testpmd,ovs-dpdk,vsw] [--json results.json]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

from ovs_dpdk_switch import OvsDpdkLearningSwitch, OvsDpdkSwitch
from tester import Tester
from testpmd_switch import TestpmdSwitch
from vsw_switch import VswSwitch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
from tests.support.hugepages import reserved  # noqa: E402
SWITCHES = {"testpmd": TestpmdSwitch, "ovs-dpdk": OvsDpdkSwitch,
            "ovs-dpdk-normal": OvsDpdkLearningSwitch, "vsw": VswSwitch}


def wait_path(path, timeout=60):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError(f"{path} did not appear")
        time.sleep(0.05)


def run_one(kind, work, size, a):
    """One measurement: fresh switch and tester, seed, warm up, measure, tear down."""
    run = tempfile.mkdtemp(dir=work, prefix=f"{kind}-")
    socks = [os.path.join(run, "s0.sock"), os.path.join(run, "s1.sock")]
    sw = SWITCHES[kind](run, socks, a.switch_cpu, a.gen_cpu, **({"build": a.build}
                                                                 if kind == "vsw" else {}))
    tester = Tester(run, socks, size, core=a.gen_cpu, main_core=a.switch_cpu,
                    server=not sw.listens, burst_seeds=a.seeds)
    try:
        if sw.listens:
            sw.start()
            for s in socks:
                wait_path(s)
            tester.start()
        else:
            tester.start()
            wait_path(socks[0])
            sw.start()
        tester.wait_ready()
        sw.wait_running()
        tester.seed()
        tester.window()  # testpmd's first `show port stats` has no reference: Rx-pps 0
        time.sleep(a.warmup)  # a measuring window: the rate settles, nothing is awaited
        if tester.window() == 0:  # every seeded frame was lost: a failed start, not a rate
            raise RuntimeError("no traffic after seeding")
        sw.window_open()
        time.sleep(a.seconds)
        pps = tester.window()
        cycles = sw.window_close()
        checks = sw.check()
        return {"pps": pps, "cycles_per_packet": cycles, "load1": os.getloadavg()[0], **checks}
    except Exception:
        sys.stderr.write(f"--- {kind} run failed; tester log:\n{tester.pmd.log()}\n")
        raise
    finally:
        try:
            tester.stop()
        except Exception:  # no statistics on a failed run; the process is gone either way
            tester.kill()
        sw.stop()


def summarize(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("VSW_BUILD_DIR", os.path.join(REPO, "build")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--switches", default="testpmd,ovs-dpdk,vsw")
    ap.add_argument("--seeds", type=int, default=16, help="bursts per port for start tx_first")
    ap.add_argument("--switch-cpu", type=int, default=1)
    ap.add_argument("--gen-cpu", type=int, default=0)
    ap.add_argument("--hugepages", type=int, default=1536, help="2 MiB pages to reserve")
    ap.add_argument("--json", default=None, help="write all results here")
    a = ap.parse_args()
    kinds = a.switches.split(",")
    for k in kinds:
        if k not in SWITCHES:
            sys.exit(f"unknown switch {k!r}: choose from {', '.join(SWITCHES)}")
    if shutil.which("dpdk-testpmd") is None:
        sys.exit("dpdk-testpmd not found (Debian package dpdk)")
    work = tempfile.mkdtemp(prefix="vswvb-")
    results = {}
    try:
        with reserved(a.hugepages):
            for size in [int(s) for s in a.sizes.split(",")]:
                per = {k: [] for k in kinds}
                for i in range(a.runs):
                    line = []
                    for k in kinds:
                        try:
                            r = run_one(k, work, size, a)
                        except Exception as e:  # one retry: report, then measure again
                            sys.stderr.write(f"{k} {size} B run {i + 1} failed ({e}); retrying\n")
                            r = run_one(k, work, size, a)
                        per[k].append(r)
                        cpp = r["cycles_per_packet"]
                        line.append(f"{k} {r['pps'] / 1e6:.2f} Mpps "
                                    f"({cpp:.0f} c/p)" if cpp else f"{k} {r['pps'] / 1e6:.2f} Mpps")
                    print(f"{size} B run {i + 1}: " + "  ".join(line) +
                          f"  (load {os.getloadavg()[0]:.1f})", flush=True)
                results[size] = {k: {"pps": summarize([r["pps"] for r in v]),
                                     "cycles_per_packet": summarize(
                                         [r["cycles_per_packet"] for r in v]),
                                     "runs": v} for k, v in per.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(results, kinds)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


def print_table(results, kinds):
    def mpps(s):
        return f"{s['median'] / 1e6:.2f} ({s['min'] / 1e6:.2f}-{s['max'] / 1e6:.2f})"

    def cyc(s):
        return "-" if s is None else f"{s['median']:.0f} ({s['min']:.0f}-{s['max']:.0f})"

    print()
    head = "| frame | " + " | ".join(f"{k} Mpps median (range) | {k} cycles/frame" for k in kinds)
    ratios = [k for k in kinds if k != "vsw"] if "vsw" in kinds else []
    head += "".join(f" | vsw / {k}" for k in ratios)
    print(head + " |")
    print("|---" * (1 + 2 * len(kinds) + len(ratios)) + "|")
    for size, r in results.items():
        row = f"| {size} B | " + " | ".join(f"{mpps(r[k]['pps'])} | {cyc(r[k]['cycles_per_packet'])}"
                                          for k in kinds)
        for k in ratios:
            row += f" | {r['vsw']['pps']['median'] / max(1.0, r[k]['pps']['median']):.2f}"
        print(row + " |")


if __name__ == "__main__":
    main()
