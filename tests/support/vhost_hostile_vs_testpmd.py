"""Runs every hostile action of tests/system/test_vhost_hostile.py against dpdk-testpmd's net_vhost
(one port, io forwarding) and prints what DPDK did with each: a reference for vsw's behaviour and
a check that the actions themselves run. Not a test: DPDK is lenient where vsw must not be.

    /usr/bin/python3 -m tests.support.vhost_hostile_vs_testpmd     (from the repository root)

The RX cases need a bridge flooding frames into the rings, so against testpmd they only set up.
"""
import os
import signal
import subprocess
import sys
import tempfile

from tests.support import vhost_user_messages as m
from tests.support.vhost_frontend import VhostFrontend
import tests.system.test_vhost_hostile as hostile


class NoBridge:
    def wait_state(self, *args, **kw):
        return True

    def flood_to(self, *args, **kw):
        pass


def start_testpmd(sock, log):
    if os.path.exists(sock):
        os.unlink(sock)
    return subprocess.Popen(
        ["dpdk-testpmd", "-l", "0,1", "--no-pci", "--no-huge", "-m", "256",
         f"--file-prefix=vhdry{os.getpid()}", f"--vdev=net_vhost0,iface={sock}", "--",
         "--forward-mode=io", "--auto-start", "--total-num-mbufs=2048"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.PIPE)


def main():
    work = tempfile.mkdtemp(prefix="vhdry-")
    sock = os.path.join(work, "h.sock")
    log = open(os.path.join(work, "testpmd.log"), "w")
    tp = start_testpmd(sock, log)
    tables = {"message": hostile.MESSAGE_CASES, "memory": hostile.MEMORY_CASES,
              "ring": hostile.RING_CASES, "running": hostile.RUNNING_CASES,
              "tx": hostile.TX_CASES, "rx": hostile.RX_CASES,
              "harmless": hostile.HARMLESS_CASES}
    try:
        for kind, table in tables.items():
            for name, action in table.items():
                fe = VhostFrontend.connect(sock, ring_size=hostile.N, timeout=20)
                try:
                    action(fe, NoBridge())
                    outcome = "closed" if fe.ch.wait_closed(1.0) else "kept open"
                except m.PeerClosed:
                    outcome = "closed while we sent"
                except Exception as e:  # noqa: BLE001 - report and go on
                    outcome = f"ACTION FAILED {type(e).__name__}: {e}"
                finally:
                    fe.close()
                if tp.poll() is not None:
                    outcome += f"; testpmd died ({tp.returncode})"
                    tp = start_testpmd(sock, log)
                print(f"{kind:9} {name:46} {outcome}", flush=True)
    finally:
        tp.stdin.close()
        tp.send_signal(signal.SIGINT)
        try:
            tp.wait(timeout=10)
        except subprocess.TimeoutExpired:
            tp.kill()
        print(f"testpmd log: {log.name}", file=sys.stderr)


if __name__ == "__main__":
    main()
