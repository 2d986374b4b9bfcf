"""Runs a real vswitchd process for a test and talks to it through vswctl and raw JSON-RPC."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import time

from . import paths


def read_line(sock):
    """Bytes up to and including the next newline (or up to EOF)."""
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


class Vswitchd:
    """One daemon with its own socket, state file and run directory under a temp dir."""

    def __init__(self, workdir=None, workers=1, extra_args=(), binary=None, prefix=()):
        self.dir = workdir or tempfile.mkdtemp(prefix="vswt-")
        self.socket = os.path.join(self.dir, "vswitchd.sock")
        self.state_file = os.path.join(self.dir, "state.json")
        self.run_dir = os.path.join(self.dir, "run")
        self.log_path = os.path.join(self.dir, "vswitchd.log")
        self.workers = workers
        self.extra_args = list(extra_args)
        self.proc = None
        # Another build of the daemon (tests/models/vswitchd-model: vswitchd + the 82599 model).
        self.binary = binary or paths.VSWITCHD
        # A command the daemon runs under, which must exec it (so that the pid stays the
        # daemon's), e.g. unshare(1) with a mount of its own.
        self.prefix = list(prefix)

    def start(self, timeout=20.0, expect_ready=True):
        log = open(self.log_path, "a")
        args = self.prefix + [str(self.binary), "--socket", self.socket, "--state-file", self.state_file,
                "--run-dir", self.run_dir, "--workers", str(self.workers),
                "--no-hugepages"] + self.extra_args
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        if not expect_ready:
            return self
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vswitchd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                self.rpc("daemon.version")
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"vswitchd did not answer within {timeout}s:\n{self.log()}")

    def stop(self, timeout=20.0):
        """SIGTERM and wait; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"vswitchd did not stop on SIGTERM:\n{self.log()}")

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()[-6000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def vsctl(self, *args, check=True, json_out=False, timeout=60):
        """Runs vswctl against this daemon. json_out adds --json and parses stdout."""
        cmd = [str(paths.VSWCTL), "--socket", self.socket]
        if json_out:
            cmd.append("--json")
        cmd += [str(a) for a in args]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"vswctl {' '.join(map(str, args))} -> {res.returncode}\n"
                               f"{res.stdout}\n{res.stderr}")
        if json_out and res.returncode == 0:
            return json.loads(res.stdout)
        return res

    def rpc(self, method, params=None, timeout=10.0):
        """One JSON-RPC call over a fresh connection; returns the whole reply object."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(self.socket)
            req = {"jsonrpc": "2.0", "id": 1, "method": method}
            if params is not None:
                req["params"] = params
            s.sendall((json.dumps(req) + "\n").encode())
            return json.loads(read_line(s))

    def result(self, method, params=None):
        reply = self.rpc(method, params)
        assert "result" in reply, reply
        return reply["result"]
