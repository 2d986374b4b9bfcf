"""Peer (c): vsw. vswitchd with one worker pinned to the switch core (`--cpus`), never napping
(`--poll-mode busy`), a bridge with two vhost-user ports in client mode (vsw connects to the
tester's sockets and retries every second), MAC learning on.

Cycles per packet: `vswctl dp-show`, the worker's busy cycles (passes that moved a frame)
divided by the frames it forwarded, over the window (differences of busy_tsc and packets).
check(): the bridge learned A on port a and B on port b and nothing else (no station moved).
"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from tester import MAC_A, MAC_B  # noqa: E402


class VswSwitch:
    name = "vsw"
    listens = False

    def __init__(self, workdir, sockets, core, main_core, build):
        self.dir = os.path.join(workdir, "vsw")
        os.makedirs(self.dir, exist_ok=True)
        self.build = build
        self.sockets = sockets
        self.core = core
        self.ctl = os.path.join(self.dir, "ctl.sock")
        self.proc = None
        self.window_start = None

    def vsctl(self, *args, json_out=False):
        cmd = [os.path.join(self.build, "cli/vswctl"), "--socket", self.ctl]
        if json_out:
            cmd.append("--json")
        r = subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"vswctl {' '.join(args)} -> {r.returncode}: {r.stderr}\n"
                               f"{self.log()}")
        return json.loads(r.stdout) if json_out else r.stdout

    def log(self):
        try:
            with open(os.path.join(self.dir, "vswitchd.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def start(self):
        log = open(os.path.join(self.dir, "vswitchd.log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(self.build, "daemon/vswitchd"), "--socket", self.ctl, "--run-dir",
             self.dir, "--state-file", os.path.join(self.dir, "state.json"), "--workers", "1",
             "--cpus", str(self.core), "--poll-mode", "busy", "--log-level", "warn"],
            stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: os.path.exists(self.ctl), 30, "vswitchd's control socket", self)
        self.vsctl("add-br", "br0")
        for name, sock in zip(("a", "b"), self.sockets):
            self.vsctl("add-port", "br0", name, "--type", "vhost-user", "-o", f"path={sock}",
                       "-o", "mode=client")

    def wait_running(self):
        for name in ("a", "b"):
            _wait(lambda: self.vsctl("port-show", name, json_out=True)
                  .get("details", {}).get("state") == "running", 60,
                  f"port {name} to be running", self)

    def _worker(self):
        return self.vsctl("dp-show", json_out=True)["workers"][0]

    def window_open(self):
        self.window_start = self._worker()

    def window_close(self):
        w, s = self._worker(), self.window_start
        packets = w["packets"] - s["packets"]
        return (w["busy_tsc"] - s["busy_tsc"]) / packets if packets else None

    def check(self):
        """The bridge's MAC table: A on a, B on b, no other station."""
        fdb = {row["mac"]: row["port"] for row in self.vsctl("fdb-show", "br0", json_out=True)}
        if fdb != {MAC_A: "a", MAC_B: "b"}:
            raise RuntimeError(f"unexpected MAC table {fdb}")
        return {"fdb_ok": True}

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    kill = stop


def _wait(pred, timeout, what, sw):
    deadline = time.time() + timeout
    while not pred():
        if sw.proc.poll() is not None:
            raise RuntimeError(f"vswitchd exited ({sw.proc.returncode}):\n{sw.log()}")
        if time.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}:\n{sw.log()}")
        time.sleep(0.1)
