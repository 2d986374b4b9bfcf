"""A vswitchd from the host's build directory running inside a test guest, driven by vswctl
in the same guest (the guest-side twin of tests/support/vswitchd.py).

    hp = HostPrograms()
    with Guest("g", shares=hp.shares, ...) as g:
        g.wait_booted()
        d = GuestVswitchd(g, hp).start()
        d.vsctl("add-br", "br0")
        d.vsctl("port-show", "eth1", json_out=True)["details"]

Everything the daemon writes (control socket, state file, run directory, log) lives under
`workdir` in the guest's /tmp (a tmpfs): a fresh guest has a fresh daemon.

Two ways to talk to it. vsctl() runs vswctl in the guest: what a user types, with vswctl's own
messages, used for every change and every refusal a test checks. rpc() sends one JSON-RPC
request (docs/rpc.md) over a connection kept open for the daemon's lifetime, for the queries a
test repeats (port.show, stats.show, dp.show): under TCG, starting vswctl (or any dynamically
linked program) costs 1-3 s, a request on the open connection a console round trip (~0.2 s).
The connection is host socat (through HostPrograms) reading a FIFO that a sleeping writer
keeps open and appending the daemon's reply lines to a file; rpc() writes the request line into
the FIFO and waits, in the guest, for the reply line with its id.
"""
import itertools
import json
import shlex

from tests.support import paths
from tests.vm.guest import GuestError


class VswctlError(GuestError):
    """vswctl exited non-zero; .rc and .output (stdout and stderr merged) say why."""

    def __init__(self, args, rc, output):
        super().__init__(f"vswctl {' '.join(map(str, args))} -> {rc}\n{output}")
        self.rc, self.output = rc, output


class GuestVswitchd:
    """One vswitchd in `guest`, run through HostPrograms `programs`.

    workers, extra_args: daemon options (docs/daemon.md); hugepages=False adds --no-hugepages
    (ordinary memory for packet buffers). Not thread-safe (Guest.run serialises anyway)."""

    def __init__(self, guest, programs, workdir="/tmp/vsw", workers=1, hugepages=True,
                 extra_args=()):
        self.guest, self.programs, self.dir = guest, programs, workdir
        self.socket = f"{workdir}/vswitchd.sock"
        self.log_path = f"{workdir}/vswitchd.log"
        self.pid_path = f"{workdir}/vswitchd.pid"
        args = ["--socket", self.socket, "--state-file", f"{workdir}/state.json",
                "--run-dir", f"{workdir}/run", "--workers", str(workers)]
        if not hugepages:
            args.append("--no-hugepages")
        self.args = args + [str(a) for a in extra_args]

    def start(self, timeout=60):
        """Starts the daemon in the background (its own session: a console ^C does not reach
        it) and waits until its control socket answers `vswctl version`. GuestError with the
        daemon's log if it exits or does not answer in time."""
        cmd = self.programs.command(paths.VSWITCHD, *self.args)
        d = shlex.quote(self.dir)
        self.guest.check(f"mkdir -p {d}\n"
                         f"setsid {cmd} > {shlex.quote(self.log_path)} 2>&1 < /dev/null &\n"
                         f"echo $! > {shlex.quote(self.pid_path)}")
        # The socket answering is the event; the loop bounds the wait and notices a daemon
        # that exited (bad option, socket in use) instead of waiting out the deadline.
        script = (f"p=$(cat {shlex.quote(self.pid_path)}); i=0; "
                  f"until {self.vswctl_command('version')} >/dev/null 2>&1; do "
                  f"kill -0 $p 2>/dev/null || {{ echo 'vswitchd exited'; exit 2; }}; "
                  f"i=$((i+1)); [ $i -gt {int(timeout * 10)} ] && {{ echo timeout; exit 1; }}; "
                  f"sleep 0.1; done")
        rc, out = self.guest.run(script, timeout=timeout + 30)
        if rc != 0:
            raise GuestError(f"vswitchd in {self.guest.name} did not answer ({out}):\n"
                             f"--- log:\n{self.log()}")
        self._open_rpc()
        return self

    def _open_rpc(self):
        d = shlex.quote(self.dir)
        socat = self.programs.command("/usr/bin/socat", "-t", "30", "-",
                                      f"UNIX-CONNECT:{self.socket}")
        # The writer opens the FIFO first (blocking, in the background) and never writes:
        # socat sees no end of input until stop() kills the writer.
        self.guest.check(f"rm -f {d}/rpc.in {d}/rpc.out; mkfifo {d}/rpc.in; : > {d}/rpc.out\n"
                         f"setsid sleep 100000 > {d}/rpc.in &\n"
                         f"echo $! > {d}/rpc.writer\n"
                         f"setsid {socat} < {d}/rpc.in >> {d}/rpc.out 2> {d}/rpc.err &\n"
                         f"echo $! > {d}/rpc.socat")
        self._rpc_ids = itertools.count(1000001)

    def rpc(self, method, params=None, timeout=60):
        """One JSON-RPC request on the open connection; returns its "result". VswctlError (rc
        None) on an "error" reply, GuestError when no reply comes (the connection is gone)."""
        rid = next(self._rpc_ids)
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        d = shlex.quote(self.dir)
        key = shlex.quote(f'"id":{rid},"jsonrpc"')  # nlohmann/json writes keys sorted
        script = (f"printf '%s\\n' {shlex.quote(json.dumps(req, separators=(',', ':')))} "
                  f"> {d}/rpc.in\n"
                  # one request at a time: the reply is complete once the file ends in \n
                  f"i=0; until grep -qF {key} {d}/rpc.out && "
                  f"[ \"$(tail -c 1 {d}/rpc.out | od -An -tx1 | tr -d ' ')\" = 0a ]; do "
                  f"kill -0 $(cat {d}/rpc.socat) 2>/dev/null || "
                  f"{{ echo 'rpc connection closed:'; cat {d}/rpc.err; exit 3; }}; "
                  f"i=$((i+1)); [ $i -gt {int(timeout * 20)} ] && exit 1; sleep 0.05; done\n"
                  f"grep -F {key} {d}/rpc.out")
        rc, out = self.guest.run(script, timeout=timeout + 30)
        if rc != 0:
            raise GuestError(f"rpc {method} in {self.guest.name}: no reply ({rc}): {out}")
        reply = json.loads(out.splitlines()[-1])
        if "error" in reply:
            raise VswctlError((method,), None, json.dumps(reply["error"]))
        return reply["result"]

    def alive(self):
        rc, _ = self.guest.run(f"kill -0 $(cat {shlex.quote(self.pid_path)})")
        return rc == 0

    def stop(self, timeout=30):
        """SIGTERM, then waits (in the guest) until the process is gone; returns its log."""
        pid = f"$(cat {shlex.quote(self.pid_path)})"
        d = shlex.quote(self.dir)
        self.guest.run(f"kill $(cat {d}/rpc.writer) $(cat {d}/rpc.socat) 2>/dev/null; "
                       f"p={pid}; kill -TERM $p; i=0; while kill -0 $p 2>/dev/null; do "
                       f"i=$((i+1)); [ $i -gt {int(timeout * 10)} ] && exit 1; sleep 0.1; done",
                       timeout=timeout + 10)
        return self.log()

    def log(self):
        _, out = self.guest.run(f"tail -c 6000 {shlex.quote(self.log_path)}")
        return out

    def vswctl_command(self, *args, json_out=False):
        """The guest command line of `vswctl --socket SOCK [--json] args...`."""
        pre = ["--socket", self.socket] + (["--json"] if json_out else [])
        return self.programs.command(paths.VSWCTL, *pre, *args)

    def vsctl(self, *args, check=True, json_out=False, timeout=60):
        """Runs vswctl in the guest. Returns (exit status, output) or, with json_out, the parsed
        reply. check=True raises VswctlError on a non-zero status (its output is stderr's
        `vswctl: <message>`, docs/cli.md)."""
        rc, out = self.guest.run(self.vswctl_command(*args, json_out=json_out), timeout=timeout)
        if check and rc != 0:
            raise VswctlError(args, rc, out)
        if json_out and rc == 0:
            return json.loads(out)
        return rc, out
