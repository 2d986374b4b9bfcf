#!/usr/bin/env python3
"""memif throughput: generator -> switch -> sink, with vsw and with dpdk-testpmd as the switch.

One vsw-pktgen process in txrx mode is both the generator (memif interface A) and the sink
(interface B), pinned to one CPU; the switch forwards A -> B on the other CPU:

  vsw:      vswitchd, one worker, bridge br0 with two memif ports (MAC learning on; the sink
            announces its MAC, so frames are forwarded as known unicast)
  testpmd:  dpdk-testpmd as memif *server* with two net_memif ports (one socket each, see
            shared/specs/test-peers.md) forwarding port 0 -> port 1 in io mode

Runs alternate (vsw, testpmd, vsw, ...) because shared-memory rates on a 2-vCPU machine are
bimodal; the report gives median and range of the sink's received frames per second.

Usage (root): bench/memif/run_bench.py [--build build] [--runs 5] [--seconds 10]
              [--sizes 64,1500] [--json results.json]
"""
import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def pktgen_txrx(build, sock_a, id_a, sock_b, id_b, size, seconds, cpu):
    cmd = [os.path.join(build, "bench/pktgen/vsw-pktgen"), "--mode", "txrx", "--socket", sock_a,
           "--id", str(id_a), "--rx-socket", sock_b, "--rx-id", str(id_b), "--size", str(size),
           "--duration", str(seconds), "--cpu", str(cpu), "--json", "--quiet",
           "--connect-timeout", "20", "--dst-mac", "02:00:00:00:00:02",
           "--mac", "02:00:00:00:00:01"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"pktgen exit {out.returncode}: {out.stderr} {out.stdout}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def wait_socket(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{path} did not appear")


@contextlib.contextmanager
def vsw_memif_pair(build, work, switch_cpu):
    """vswitchd with one busy worker on `switch_cpu` and bridge br0 of memif ports a (id 1) and
    b (id 2) on one socket; yields (vswctl command prefix, memif socket, run directory). Prints
    the end of vswitchd's log when the body fails; stops vswitchd whatever happens."""
    run = tempfile.mkdtemp(dir=work)
    ctl = os.path.join(run, "ctl.sock")
    mem = os.path.join(run, "memif.sock")
    log = open(os.path.join(run, "vswitchd.log"), "w")
    d = subprocess.Popen([os.path.join(build, "daemon/vswitchd"), "--socket", ctl, "--run-dir",
                          run, "--state-file", os.path.join(run, "state.json"), "--workers",
                          "1", "--cpus", str(switch_cpu), "--no-hugepages", "--poll-mode",
                          "busy", "--log-level", "warn"], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_socket(ctl)
        vsctl = [os.path.join(build, "cli/vswctl"), "--socket", ctl]
        for args in (["add-br", "br0"],
                     ["add-port", "br0", "a", "--type", "memif", "-o", "id=1", "-o",
                      f"socket={mem}", "-o", "mtu=9000"],
                     ["add-port", "br0", "b", "--type", "memif", "-o", "id=2", "-o",
                      f"socket={mem}", "-o", "mtu=9000"]):
            subprocess.run(vsctl + args, check=True, capture_output=True, timeout=30)
        yield vsctl, mem, run
    except Exception:
        log.flush()
        with open(os.path.join(run, "vswitchd.log")) as f:
            sys.stderr.write("vswitchd log:\n" + f.read()[-4000:])
        raise
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(timeout=20)
        except subprocess.TimeoutExpired:
            d.kill()
        log.close()


def run_vsw(build, work, size, seconds, switch_cpu, gen_cpu):
    with vsw_memif_pair(build, work, switch_cpu) as (vsctl, mem, _):
        r = pktgen_txrx(build, mem, 1, mem, 2, size, seconds, gen_cpu)
        dp = json.loads(subprocess.run(vsctl + ["--json", "dp-show"], capture_output=True,
                                       text=True, timeout=30).stdout)
        r["switch_cycles_per_packet"] = dp["workers"][0].get("cycles_per_packet")
        return r


def run_testpmd(work, size, seconds, switch_cpu, gen_cpu, build):
    run = tempfile.mkdtemp(dir=work)
    s0, s1 = os.path.join(run, "tp0.sock"), os.path.join(run, "tp1.sock")
    log = open(os.path.join(run, "testpmd.log"), "w")
    main_cpu = gen_cpu  # the main lcore only prints statistics
    tp = subprocess.Popen(
        ["dpdk-testpmd", "-l", f"{main_cpu},{switch_cpu}", "--main-lcore", str(main_cpu),
         "--no-pci", "--no-huge", "-m", "1024", f"--file-prefix=vswb{os.getpid()}",
         f"--vdev=net_memif0,role=server,id=0,socket={s0},socket-abstract=no",
         f"--vdev=net_memif1,role=server,id=0,socket={s1},socket-abstract=no",
         "--", "--forward-mode=io", "--nb-cores=1", "--rxq=1", "--txq=1",
         "--stats-period=100"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_socket(s0)
        wait_socket(s1)
        # The sockets exist from probe time; the interfaces answer once the ports started.
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(os.path.join(run, "testpmd.log")) as f:
                if "Checking link statuses" in f.read():
                    break
            time.sleep(0.1)
        time.sleep(0.5)
        return pktgen_txrx(build, s0, 0, s1, 0, size, seconds, gen_cpu)
    finally:
        tp.send_signal(signal.SIGINT)
        try:
            tp.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tp.kill()
        log.close()


def summarize(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("VSW_BUILD_DIR", os.path.join(REPO, "build")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--switch-cpu", type=int, default=1)
    ap.add_argument("--gen-cpu", type=int, default=0)
    ap.add_argument("--json", default=None, help="write all results here")
    a = ap.parse_args()
    if shutil.which("dpdk-testpmd") is None:
        sys.exit("dpdk-testpmd not found (Debian package dpdk-dev)")
    work = tempfile.mkdtemp(prefix="vswb-")
    results = {}
    try:
        for size in [int(s) for s in a.sizes.split(",")]:
            vsw, tpmd, vsw_cpp = [], [], []
            for i in range(a.runs):
                r = run_vsw(a.build, work, size, a.seconds, a.switch_cpu, a.gen_cpu)
                vsw.append(r["rx"]["pps"])
                vsw_cpp.append(r.get("switch_cycles_per_packet") or 0)
                assert r["rx"]["corrupt"] == 0, r
                t = run_testpmd(work, size, a.seconds, a.switch_cpu, a.gen_cpu, a.build)
                tpmd.append(t["rx"]["pps"])
                print(f"size {size} run {i + 1}: vsw {vsw[-1] / 1e6:.3f} Mpps  "
                      f"testpmd {tpmd[-1] / 1e6:.3f} Mpps", flush=True)
            results[size] = {"vsw": summarize(vsw), "testpmd": summarize(tpmd),
                             "vsw_cycles_per_packet": summarize(vsw_cpp),
                             "ratio_of_medians": statistics.median(vsw) /
                             max(1.0, statistics.median(tpmd))}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| frame | vsw Mpps median (min-max) | testpmd io Mpps median (min-max) | vsw/testpmd |")
    print("|---|---|---|---|")
    for size, r in results.items():
        v, t = r["vsw"], r["testpmd"]
        print(f"| {size} B | {v['median'] / 1e6:.2f} ({v['min'] / 1e6:.2f}-{v['max'] / 1e6:.2f}) "
              f"| {t['median'] / 1e6:.2f} ({t['min'] / 1e6:.2f}-{t['max'] / 1e6:.2f}) "
              f"| {r['ratio_of_medians']:.2f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
