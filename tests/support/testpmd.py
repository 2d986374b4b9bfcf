"""Drives one dpdk-testpmd process for a test or a benchmark.

EAL options follow shared/specs/test-peers.md: no PCI, `--single-file-segments` (required by
net_virtio_user, else "Failed to set memory table"), IOVA as VA. Memory: 2 MiB pages through
`--in-memory` with `hugepages=True` (vm.nr_hugepages must be raised: tests/support/hugepages.py),
else `--no-huge`, an unsealed memfd that DPDK's own net_vhost maps but vsw's vhost-user port
refuses (it wants a sealed memfd or a hugetlbfs file).

Two ways to run it:
* non-interactive: `--stats-period` keeps it forwarding; `stop()` sends SIGINT and parses the
  "Forward statistics" blocks testpmd prints on the way out;
* interactive (`interactive=True`): commands through stdin, `command()` waits for the next
  prompt and returns the output (`start tx_first`, `stop_forwarding()`, `nic_stats()`), so a
  test can stop forwarding while the ports stay connected and read counters at its own pace.
stdout goes through `stdbuf -oL` to <workdir>/<name>.log, so waits see each line as printed.
"""
import os
import re
import shutil
import signal
import subprocess
import time

TESTPMD = shutil.which("dpdk-testpmd")

_FWD_BLOCK = re.compile(
    r"Forward statistics for port (\d+)\s+-+\s*"
    r"RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+)\s+RX-total:\s*(\d+)\s*"
    r"TX-packets:\s*(\d+)\s+TX-dropped:\s*(\d+)\s+TX-total:\s*(\d+)")
_CYCLES = re.compile(r"CPU cycles/packet=([0-9.]+)")
_NIC_BLOCK = re.compile(
    r"NIC statistics for port (\d+)\s+#+\s*"
    r"RX-packets:\s*(\d+)\s+RX-missed:\s*(\d+)\s+RX-bytes:\s*(\d+)\s*"
    r"RX-errors:\s*(\d+)\s*RX-nombuf:\s*(\d+)\s*"
    r"TX-packets:\s*(\d+)\s+TX-errors:\s*(\d+)\s+TX-bytes:\s*(\d+)")


class TestpmdError(RuntimeError):
    pass


class PortCounts:
    """One port's forwarding counters (testpmd's "Forward statistics for port N")."""

    def __init__(self, rx, rx_dropped, tx, tx_dropped):
        self.rx = rx
        self.rx_dropped = rx_dropped
        self.tx = tx
        self.tx_dropped = tx_dropped

    def __repr__(self):
        return (f"PortCounts(rx={self.rx}, rx_dropped={self.rx_dropped}, tx={self.tx}, "
                f"tx_dropped={self.tx_dropped})")


def parse_forward_stats(text):
    """port -> PortCounts from the last "Forward statistics for port N" block of each port."""
    ports = {}
    for m in _FWD_BLOCK.finditer(text):
        port, rx, rxd, _, tx, txd, _ = (int(g) for g in m.groups())
        ports[port] = PortCounts(rx, rxd, tx, txd)
    return ports


def parse_nic_stats(text):
    """port -> dict of the last "NIC statistics for port N" block of each port (the PMD's own
    counters: rx_packets, rx_missed, rx_bytes, rx_errors, rx_nombuf, tx_packets, tx_errors,
    tx_bytes)."""
    keys = ("rx_packets", "rx_missed", "rx_bytes", "rx_errors", "rx_nombuf", "tx_packets",
            "tx_errors", "tx_bytes")
    ports = {}
    for m in _NIC_BLOCK.finditer(text):
        ports[int(m.group(1))] = dict(zip(keys, (int(g) for g in m.groups()[1:])))
    return ports


class Testpmd:
    """One dpdk-testpmd with the given vdevs and testpmd (after `--`) arguments.

    lcores: (main, forwarding...) — the main lcore only prints statistics, the others poll.
    The log (stdout and stderr) goes to <workdir>/<name>.log.
    """
    __test__ = False  # not a pytest test class

    def __init__(self, workdir, name, vdevs, app_args, lcores=(0, 1), memory_mb=1024,
                 hugepages=False, stats_period=1, interactive=False):
        if TESTPMD is None:
            raise TestpmdError("dpdk-testpmd is not installed (Debian package dpdk)")
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.prefix = f"vsw{name}{os.getpid()}"
        eal = ["-l", ",".join(str(c) for c in lcores), f"--main-lcore={lcores[0]}", "--no-pci",
               "--single-file-segments", "--iova-mode=va", f"--file-prefix={self.prefix}",
               "-m", str(memory_mb)]
        if hugepages:
            eal.append("--in-memory")
        else:
            eal.append("--no-huge")
        eal += [f"--vdev={v}" for v in vdevs]
        # Line-buffered stdout (stdbuf), so that the log shows each line as testpmd prints it.
        mode = ["-i"] if interactive else [f"--stats-period={stats_period}"]
        self.cmd = ["stdbuf", "-oL", TESTPMD] + eal + ["--"] + mode + list(app_args)
        self.interactive = interactive
        self.proc = None
        self.ports = {}
        self.cycles_per_packet = None

    def start(self):
        self._log = open(self.log_path, "w")
        stdin = subprocess.PIPE if self.interactive else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=stdin, text=True)
        return self

    def command(self, line, timeout=30.0):
        """Interactive mode: sends one command line and waits for the next prompt."""
        with open(self.log_path, errors="replace") as f:
            prompts = f.read().count("testpmd> ")
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self.wait_for(r"testpmd> ", timeout, count=prompts + 1)
        with open(self.log_path, errors="replace") as f:
            return f.read().split("testpmd> ")[-2]

    def log(self, tail=4000):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-tail:]
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_for(self, pattern, timeout=30.0, count=1):
        """Waits until `pattern` (a regex) appears `count` times in the log; raises on exit or
        deadline. Examples: "Port 0: link state change event", "Checking link statuses"."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            with open(self.log_path, errors="replace") as f:
                if len(rx.findall(f.read())) >= count:
                    return
            if not self.alive():
                raise TestpmdError(f"testpmd {self.name} exited ({self.proc.returncode}) "
                                   f"before {pattern!r}:\n{self.log()}")
            if time.time() > deadline:
                raise TestpmdError(f"testpmd {self.name}: no {pattern!r} within {timeout}s:\n"
                                   f"{self.log()}")
            time.sleep(0.05)

    def nic_stats(self):
        """Interactive mode: the PMDs' counters now (`show port stats all`)."""
        return parse_nic_stats(self.command("show port stats all"))

    def stop_forwarding(self):
        """Interactive mode: `stop` (the ports stay up and connected); returns port ->
        PortCounts of the forwarding that just ended."""
        out = self.command("stop")
        ports = parse_forward_stats(out)
        if not ports:
            raise TestpmdError(f"testpmd {self.name}: no forward statistics after stop:\n{out}")
        return ports

    def wait_forwarding(self, timeout=30.0):
        """Returns once the ports are started and the forwarding lcores launched."""
        self.wait_for(r"Checking link statuses", timeout)

    def stop(self, timeout=30.0):
        """SIGINT, waits, and parses the final statistics into self.ports (port -> PortCounts)
        and self.cycles_per_packet (with --record-core-cycles). Returns self.ports."""
        if self.proc is None:
            return self.ports
        if self.proc.poll() is None:
            if self.interactive:
                self.proc.stdin.write("stop\nquit\n")
                self.proc.stdin.flush()
            else:
                self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)
        text = self.log(tail=10 ** 7)
        self.ports = parse_forward_stats(text)
        cycles = _CYCLES.findall(text)
        if cycles:
            self.cycles_per_packet = float(cycles[-1])
        if not self.ports:
            raise TestpmdError(f"testpmd {self.name} printed no forward statistics "
                               f"(exit {self.proc.returncode}):\n{self.log()}")
        return self.ports

    def kill(self):
        """Teardown on any path: no statistics, just make sure the process is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc is not None:
            shutil.rmtree(os.path.join("/var/run/dpdk", self.prefix), ignore_errors=True)


def virtio_user_vdev(index, path, mac, server=False, queues=1, extra=""):
    """A vhost-user front-end (net_virtio_user). server=True makes testpmd listen on `path`
    (for a back-end in client mode); testpmd then waits at probe for the back-end to connect."""
    v = f"net_virtio_user{index},path={path},queues={queues},mac={mac}"
    if server:
        v += ",server=1"
    return v + (f",{extra}" if extra else "")


def vhost_vdev(index, path, client=False, queues=1):
    """A vhost-user back-end (net_vhost), listening on `path` unless client=True."""
    v = f"net_vhost{index},iface={path},queues={queues}"
    return v + (",client=1" if client else "")


def jumbo_tx_args(frame_len):
    """testpmd arguments for sending `frame_len`-byte single-segment frames: --mbuf-size must
    precede --txpkts (testpmd checks the segment length against the mbuf size it knows so far)."""
    return ["--mbuf-size=10240", f"--txpkts={frame_len}", f"--max-pkt-len={frame_len + 18}"]


def jumbo_rx_args(frame_len):
    """testpmd arguments for receiving `frame_len`-byte frames into 2 KiB mbufs: scattered rx,
    which net_virtio_user provides through mergeable rx buffers (VIRTIO_NET_F_MRG_RXBUF)."""
    return [f"--max-pkt-len={frame_len + 18}", "--enable-scatter"]
