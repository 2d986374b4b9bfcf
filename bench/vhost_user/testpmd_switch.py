"""Peer (a): dpdk-testpmd as the switch, two net_vhost back-ends forwarded port 0 <-> port 1 in
io mode (no MAC processing) on one forwarding lcore. Its sockets listen (net_vhost server), so
the tester connects to them (virtio_user server=0).

Cycles per packet: `--record-core-cycles`; testpmd 22.11 divides every cycle of the forwarding
lcore (busy or idle) by the frames forwarded, over the window between `clear fwd stats all` and
`show fwd stats all`.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tests.support.testpmd import Testpmd, vhost_vdev  # noqa: E402

_CYCLES = re.compile(r"CPU cycles/packet=([0-9.]+)")


class TestpmdSwitch:
    name = "testpmd"
    listens = True

    def __init__(self, workdir, sockets, core, main_core):
        self.sockets = sockets
        self.pmd = Testpmd(workdir, "switch", [vhost_vdev(0, sockets[0]),
                                               vhost_vdev(1, sockets[1])],
                           ["--forward-mode=io", "--record-core-cycles",
                            "--total-num-mbufs=32768", "--auto-start"],
                           lcores=(main_core, core), hugepages=True, interactive=True)

    def start(self):
        self.pmd.start()
        self.pmd.wait_for(r"testpmd> ", 60)

    def wait_running(self):
        """Both vhost devices are ready once net_vhost reported a link change on each."""
        self.pmd.wait_for(r"Port [01]: link state change event", 60, count=2)

    def window_open(self):
        self.pmd.command("clear fwd stats all")

    def window_close(self):
        """Switch-core cycles per forwarded frame over the window."""
        out = self.pmd.command("show fwd stats all")
        m = _CYCLES.findall(out)
        return float(m[-1]) if m else None

    def check(self):
        """No learning in io mode: nothing to check."""
        return {}

    def stop(self):
        self.pmd.stop()

    def kill(self):
        self.pmd.kill()
