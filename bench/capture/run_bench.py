#!/usr/bin/env python3
"""memif forwarding rate with and without a live capture running (docs/performance.md, "Live
capture").

Same set-up as bench/memif/run_bench.py's vsw side: one vsw-pktgen in txrx mode (memif A ->
vswitchd br0 -> memif B), vswitchd with one busy worker. Each run uses one of three cases, and
the cases alternate run by run (none, no-match, all, none, ...) because shared-memory rates on
a 2-vCPU machine drift:
  none      no capture
  no-match  `vswctl capture a --direction rx -w /dev/null udp port 9`: pktgen's frames are UDP
            to port 5001, so the filter runs its whole program and rejects every frame
  all       `vswctl capture a --direction rx -w /dev/null` (every frame copied, 65535 snaplen)
  idle      a control: `vswctl capture c -w /dev/null` on a third memif port without a client,
            so the capture client, its stream and the control thread's draining run while the
            forwarded frames never meet a capture
Reports the sink's received Mpps: median and range per case, and the capture's drops.

Usage (root): bench/capture/run_bench.py [--build build] [--runs 5] [--seconds 5] [--size 64]
              [--order none,no-match,all]
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "bench", "memif"))
from run_bench import pktgen_txrx, vsw_memif_pair  # noqa: E402

CASES = {"none": None, "no-match": ["udp", "port", "9"], "all": [], "idle": []}


def run(build, work, case, size, seconds, switch_cpu, gen_cpu):
    with vsw_memif_pair(build, work, switch_cpu) as (vsctl, mem, _):
        captured = "a"
        if case == "idle":
            captured = "c"
            subprocess.run(vsctl + ["add-port", "br0", "c", "--type", "memif", "-o", "id=3", "-o",
                                    f"socket={mem}"], check=True, capture_output=True, timeout=30)
        cap = None
        try:
            if CASES[case] is not None:
                cap = subprocess.Popen(vsctl + ["capture", captured, "--direction", "rx", "-w",
                                                "/dev/null"] + CASES[case],
                                       stderr=subprocess.PIPE)
                line = cap.stderr.readline()  # "capturing on ...": the capture runs
                assert b"capturing on" in line, line
            r = pktgen_txrx(build, mem, 1, mem, 2, size, seconds, gen_cpu)
            if cap is not None:
                caps = json.loads(subprocess.run(vsctl + ["--json", "list-captures"],
                                                 capture_output=True, text=True,
                                                 timeout=30).stdout)
                r["capture"] = caps[0]
            return r
        finally:
            if cap is not None:
                cap.send_signal(signal.SIGINT)
                cap.wait(timeout=20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("VSW_BUILD_DIR", os.path.join(REPO, "build")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--switch-cpu", type=int, default=1)
    ap.add_argument("--gen-cpu", type=int, default=0)
    ap.add_argument("--order", default="none,no-match,all",
                    help="the cases of one round, in this order")
    a = ap.parse_args()
    order = a.order.split(",")
    assert set(order) <= set(CASES), order
    work = tempfile.mkdtemp(prefix="vswcap-")
    pps = {c: [] for c in CASES}
    drops = {c: [] for c in CASES}
    for i in range(a.runs):
        for case in order:
            r = run(a.build, work, case, a.size, a.seconds, a.switch_cpu, a.gen_cpu)
            assert r["rx"]["corrupt"] == 0, r
            pps[case].append(r["rx"]["pps"])
            c = r.get("capture")
            drops[case].append(c["dropped"] / max(1, c["matched"]) if c else 0.0)
            print(f"run {i + 1} {case}: {pps[case][-1] / 1e6:.3f} Mpps"
                  + (f", capture matched {c['matched']} dropped {c['dropped']}" if c else ""),
                  flush=True)
    print()
    print("| capture | Mpps median (min-max) | capture drops (share of matched, median) |")
    print("|---|---|---|")
    for case in order:
        v = pps[case]
        print(f"| {case} | {statistics.median(v) / 1e6:.2f} ({min(v) / 1e6:.2f}-"
              f"{max(v) / 1e6:.2f}) | {statistics.median(drops[case]) * 100:.0f} % |")


if __name__ == "__main__":
    main()
