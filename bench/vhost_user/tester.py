"""The traffic source and sink: one dpdk-testpmd with two net_virtio_user ports on one core.

Port 0 is station A, port 1 station B (MACs from the `mac=` devarg). `--port-topology=loop`
sends what a port receives back out of the same port, and `macswap` swaps source and
destination: a frame arriving at B (src A, dst B) leaves B as src B, dst A, and one arriving at
A leaves A as src A, dst B. `start tx_first N` seeds the loop with N bursts per port from the
txonly engine, which writes the port's own MAC as source and `--eth-peer` as destination, so the
first frames follow the same rule. Every frame from port 0 carries src A/dst B and every frame
from port 1 src B/dst A: to a learning switch these are two stations that never move, sending
known unicast to each other, as a pair of VMs does. (testpmd's `flowgen` writes fixed MACs on
every port; a learning switch would see one station moving on every burst.)

The rate is what the two ports receive per second, i.e. what the switch delivered in both
directions together, over a window opened and closed with `show port stats all` (testpmd
computes Rx-pps since the previous show from its own TSC).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.support.testpmd import Testpmd, virtio_user_vdev  # noqa: E402

MAC_A = "02:00:00:00:0a:01"
MAC_B = "02:00:00:00:0b:01"
_RX_PPS = re.compile(r"Rx-pps:\s*(\d+)")


class Tester:
    """server=True: the tester listens on both sockets (for a switch in vhost-user client mode);
    testpmd then waits at probe until the switch connects."""

    def __init__(self, workdir, sockets, size, core, main_core, server, burst_seeds=16):
        self.size = size
        self.seeds = burst_seeds
        vdevs = [virtio_user_vdev(0, sockets[0], MAC_A, server=server),
                 virtio_user_vdev(1, sockets[1], MAC_B, server=server)]
        self.pmd = Testpmd(workdir, "tester", vdevs,
                           ["--forward-mode=macswap", "--port-topology=loop",
                            f"--eth-peer=0,{MAC_B}", f"--eth-peer=1,{MAC_A}",
                            f"--txpkts={size}", "--total-num-mbufs=32768"],
                           lcores=(main_core, core), hugepages=True, interactive=True)

    def start(self):
        self.pmd.start()
        return self

    def wait_ready(self, timeout=60):
        self.pmd.wait_for(r"testpmd> ", timeout)

    def seed(self):
        out = self.pmd.command(f"start tx_first {self.seeds}")
        if "Invalid" in out or "Bad arguments" in out:
            raise RuntimeError(f"tester refused start tx_first: {out}")

    def window(self):
        """Opens (or closes and reopens) a measuring window; returns the received frames per
        second of both ports since the previous call."""
        out = self.pmd.command("show port stats all")
        return sum(int(v) for v in _RX_PPS.findall(out))

    def stop(self):
        return self.pmd.stop()

    def kill(self):
        self.pmd.kill()
