"""QEMU test guests for vsw's tests: boot, run commands over the serial console, power off.

    from tests.vm.guest import Guest, VhostUserNic, boot_all

    with Guest("a", nics=[VhostUserNic("/tmp/x/a.sock")], ips=["10.0.0.1/24"]) as a:
        a.wait_booted()
        rc, out = a.run("ping -c 3 10.0.0.2")

The guest is tests/vm/build_guest.py's kernel and initramfs (built on first use, cached in
/var/cache/vsw-vm). QEMU always runs under TCG (`-accel tcg`: KVM hangs on these machines) with
its RAM in a shared memfd (`memory-backend-memfd,share=on` + `-numa node,memdev=`), which is
what lets a vhost-user back-end map the guest's memory. Every virtio-net device gets
`vectors=0` (INTx instead of MSI-X) unless its device options set `vectors=`: Debian 12's QEMU
7.2 segfaults under TCG when a guest sets DRIVER_OK on a vhost-user virtio-net with MSI-X
(../shared/specs/test-peers.md), and `romfile=`
(no iPXE option ROM: the kernel is booted directly, so none is needed or installed).

No VM outlives its Guest: __exit__ (and kill()) SIGKILLs QEMU and reaps it, whatever happened.
Every wait here is on an event (a console line, a socket file, a process exit) with a deadline.
"""
import base64
import itertools
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import zlib

from tests.vm import build_guest

QEMU = "qemu-system-x86_64"
BOOT_TIMEOUT = float(os.environ.get("VSW_VM_BOOT_TIMEOUT", "180"))

_MARK_BOOTED = "@@vsw-booted@@"
_MARK_CONSOLE = "@@vsw-console@@"
_MARK_ERROR = "@@vsw-error@@"
_image_lock = threading.Lock()
_image_dir = None


class GuestError(RuntimeError):
    """QEMU failed to start or exited, the guest reported a boot error, or a wait timed out."""


def image_dir():
    """The cached guest build (kernel + initramfs), built once per process when missing."""
    global _image_dir
    with _image_lock:
        if _image_dir is None:
            _image_dir = build_guest.ensure_image(log=lambda m: print(f"[vm] {m}", flush=True))
        return _image_dir


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Polls predicate() until it returns something truthy, which is returned; GuestError after
    `timeout` seconds. For conditions with no event to wait on (a file appearing, a counter)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise GuestError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _is_socket(path):
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def wait_for_socket(path, timeout=30.0):
    """Waits until `path` exists and is a Unix socket (e.g. a listening QEMU or back-end)."""
    wait_for(lambda: _is_socket(path), timeout, what=f"socket {path}")


def guest_mac(name, index):
    """A stable locally administered MAC for NIC `index` of guest `name`: 52:54:00:hh:hh:ii."""
    h = zlib.crc32(name.encode()) & 0xFFFF
    return f"52:54:00:{h >> 8:02x}:{h & 0xFF:02x}:{index & 0xFF:02x}"


class Nic:
    """A guest NIC: args(guest, index) returns its QEMU arguments. Guest NIC `index` is ethN in
    the guest when all NICs are virtio-net (PCI slots follow the order of the list)."""
    mac = None

    def args(self, guest, index):
        raise NotImplementedError

    def _device(self, netdev, mq=False):
        # vectors=0 unless the NIC's device_opts choose a number (a tap-backed NIC may have
        # MSI-X: the QEMU 7.2 crash is vhost-user's).
        own = any(o.startswith("vectors=") for o in self.device_opts)
        opts = [f"virtio-net-pci,netdev={netdev},mac={self.mac}{'' if own else ',vectors=0'},"
                "romfile="]
        if mq:
            opts.append("mq=on")
        return ",".join(opts + list(self.device_opts))


class VhostUserNic(Nic):
    """A virtio-net NIC backed by a vhost-user back-end on a Unix socket.

    qemu_listens=True: QEMU creates and listens on `path` (`server=on,wait=off`), the back-end
    connects (vsw's default "client" mode; QEMU does not wait for it to boot the guest, and a
    back-end that reconnects finds the guest again). Guest.wait_listening() waits for the file.
    qemu_listens=False: QEMU connects to a back-end already listening on `path` (vsw's
    "server" mode); `reconnect` seconds > 0 makes QEMU reconnect when the back-end restarts.
    queues > 1 enables virtio-net multiqueue (`queues=N` on the netdev, `mq=on` on the device).
    device_opts: extra `-device virtio-net-pci` options, e.g. ["host_tso4=off"].
    """

    def __init__(self, path, qemu_listens=True, queues=1, mac=None, reconnect=0,
                 device_opts=()):
        if len(os.fsencode(path)) > 107:
            raise ValueError(f"socket path longer than sun_path (107 bytes): {path}")
        if queues < 1:
            raise ValueError("queues must be >= 1")
        self.path, self.qemu_listens, self.queues = path, qemu_listens, queues
        self.mac, self.reconnect, self.device_opts = mac, reconnect, tuple(device_opts)

    def args(self, guest, index):
        chardev = f"socket,id=vu{index},path={self.path}"
        if self.qemu_listens:
            chardev += ",server=on,wait=off"
        elif self.reconnect:
            chardev += f",reconnect={self.reconnect}"
        netdev = f"vhost-user,id=net{index},chardev=vu{index},queues={self.queues}"
        return ["-chardev", chardev, "-netdev", netdev,
                "-device", self._device(f"net{index}", mq=self.queues > 1)]


class TapNic(Nic):
    """A virtio-net NIC on a kernel tap interface `ifname` (QEMU creates it if it does not
    exist; an existing one, e.g. a vsw tap port, must have been made with IFF_VNET_HDR and, for
    queues > 1, IFF_MULTI_QUEUE). vhost=False keeps the data path in QEMU (no vhost-net)."""

    def __init__(self, ifname, queues=1, mac=None, vhost=False, device_opts=()):
        if len(ifname) > 15:
            raise ValueError(f"interface name longer than 15 characters: {ifname}")
        self.ifname, self.queues, self.mac = ifname, queues, mac
        self.vhost, self.device_opts = vhost, tuple(device_opts)

    def args(self, guest, index):
        netdev = (f"tap,id=net{index},ifname={self.ifname},script=no,downscript=no,"
                  f"vhost={'on' if self.vhost else 'off'}")
        if self.queues > 1:
            netdev += f",queues={self.queues}"
        return ["-netdev", netdev,
                "-device", self._device(f"net{index}", mq=self.queues > 1)]


class IgbTapNic(TapNic):
    """QEMU's igb (Intel 82576, 8086:10c9, QEMU >= 8.0) on a kernel tap `ifname`. Unlike
    virtio-net it has no `vectors` property: its MSI-X table (25 vectors) is always there and a
    driver chooses MSI-X or INTx itself. `romfile=` as for every NIC here (no option ROM).
    device_opts: extra `-device igb` options (`addr=0x10`)."""

    def __init__(self, ifname, mac=None, device_opts=()):
        super().__init__(ifname, mac=mac, device_opts=device_opts)

    def _device(self, netdev, mq=False):
        return ",".join([f"igb,netdev={netdev},mac={self.mac},romfile=",
                         *self.device_opts])


class Guest:
    """One QEMU VM with the vsw test guest. A context manager: __enter__ boots (without waiting,
    so that several guests boot at once; call wait_booted()), __exit__ kills.

    name: short label (hostname, MACs, log names). nics: Nic objects, in guest order (eth0...).
    ips: one CIDR address per NIC, or None to leave it unconfigured (or a dict {"eth1": ...}).
    mtus: dict {"eth0": 9000}. mem_mb, smp: guest RAM (a shared memfd) and vCPUs.
    extra_args: raw QEMU arguments appended last (igb, legacy virtio, -machine q35 ...).
    early_args: raw QEMU arguments placed before the shares and NICs, for what QEMU wants
    created before other PCI devices (`-machine q35 -device intel-iommu`).
    append: extra kernel command line words. shares: {tag: host_dir} read-only 9p mounts at
    /mnt/<tag> in the guest. workdir: where the console log and QMP socket go (a fresh temp
    dir by default, removed by close()).
    Not thread-safe except where noted; run() serialises its callers.
    """

    def __init__(self, name, nics=(), mem_mb=256, smp=1, extra_args=(), ips=None, mtus=None,
                 append=(), shares=None, workdir=None, cpu="max", early_args=()):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,30}", name):
            raise ValueError(f"bad guest name {name!r} (letters, digits, '-')")
        self.name, self.nics, self.mem_mb, self.smp = name, list(nics), mem_mb, smp
        self.extra_args, self.append, self.cpu = list(extra_args), list(append), cpu
        self.early_args = list(early_args)
        self.shares = dict(shares or {})
        for i, nic in enumerate(self.nics):
            if nic.mac is None:
                nic.mac = guest_mac(name, i)
        if ips is None:
            self.ips = {}
        elif isinstance(ips, dict):
            self.ips = dict(ips)
        else:
            self.ips = {f"eth{i}": ip for i, ip in enumerate(ips) if ip}
        self.mtus = dict(mtus or {})
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix=f"vsw-vm-{name}-")
        self.proc = None
        self.boots = 0
        self._text = ""            # console output so far, "\r" removed
        self._boot_offset = 0      # where the current boot's console output starts
        self._cond = threading.Condition()
        self._reader = None
        self._run_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._log = None
        self._started = None

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def macs(self):
        return [n.mac for n in self.nics]

    @property
    def console_log(self):
        return os.path.join(self.workdir, f"console-{self.name}.log")

    @property
    def qmp_path(self):
        return os.path.join(self.workdir, "qmp.sock")

    def command_line(self):
        """The full QEMU command line of this guest."""
        img = image_dir()
        cmdline = ["console=ttyS0", "panic=-1", "quiet", f"vsw.hostname={self.name}"]
        if self.ips:
            cmdline.append("vsw.ip=" + ",".join(f"{d}:{a}" for d, a in self.ips.items()))
        if self.mtus:
            cmdline.append("vsw.mtu=" + ",".join(f"{d}:{m}" for d, m in self.mtus.items()))
        if self.shares:
            cmdline.append("vsw.shares=" + ",".join(self.shares))
        cmdline += self.append
        args = [QEMU, "-name", self.name, "-accel", "tcg", "-cpu", self.cpu,
                "-smp", str(self.smp), "-m", f"{self.mem_mb}M",
                "-object", f"memory-backend-memfd,id=mem,size={self.mem_mb}M,share=on",
                "-numa", "node,memdev=mem",
                "-kernel", str(img / "kernel"), "-initrd", str(img / "initrd.cpio"),
                "-append", " ".join(cmdline),
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-serial", "stdio", "-qmp", f"unix:{self.qmp_path},server=on,wait=off"]
        args += self.early_args
        for tag, path in self.shares.items():
            args += ["-virtfs", f"local,path={path},mount_tag={tag},security_model=none,"
                                f"readonly=on,id=fs-{tag}"]
        for i, nic in enumerate(self.nics):
            args += nic.args(self, i)
        return args + self.extra_args

    def start(self):
        """Starts QEMU; the guest then boots in the background. QEMU's own errors (bad
        arguments, no back-end listening on a qemu_listens=False socket) make QEMU exit, and
        wait_booted() / wait_listening() then raise GuestError with its message."""
        if self.proc is not None and self.proc.poll() is None:
            raise GuestError(f"{self.name} is already running")
        if shutil.which(QEMU) is None:
            raise GuestError(f"{QEMU} not found (Debian package qemu-system-x86)")
        args = self.command_line()
        with self._cond:
            self._boot_offset = len(self._text)
        self._log = open(self.console_log, "a", buffering=1, errors="replace")
        self._log.write(f"=== boot {self.boots + 1}: {' '.join(args)}\n")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.boots += 1
        self._started = time.monotonic()
        self._reader = threading.Thread(target=self._read_console, args=(self.proc,),
                                        name=f"console-{self.name}", daemon=True)
        self._reader.start()
        return self

    def _read_console(self, proc):
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            text = chunk.decode("utf-8", errors="replace").replace("\r", "")
            with self._cond:
                self._text += text
                self._cond.notify_all()
            if self._log:
                self._log.write(text)
        proc.wait()
        with self._cond:
            self._cond.notify_all()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_booted(self, timeout=BOOT_TIMEOUT):
        """Waits for /init's "booted" marker and the console prompt of the current boot.
        GuestError (with the console's tail) if QEMU exits, /init reports an error, or the
        deadline passes."""
        start = self._boot_offset
        self.wait_console(re.escape(_MARK_BOOTED), timeout, start=start)
        self.wait_console(re.escape(_MARK_CONSOLE), timeout, start=start)
        print(f"[vm {self.name}] booted (boot {self.boots}) in "
              f"{time.monotonic() - self._started:.1f} s")
        with self._cond:
            errors = [l for l in self._text[start:].splitlines() if l.startswith(_MARK_ERROR)]
        if errors:
            raise GuestError(f"{self.name}: boot errors:\n" + "\n".join(errors))
        return self

    def wait_console(self, pattern, timeout, start=None):
        """Waits until the console output (from offset `start`, default the current boot)
        matches the regex `pattern`; returns the match. GuestError on timeout or QEMU exit."""
        rx = re.compile(pattern, re.S)
        start = self._boot_offset if start is None else start
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._text, start)
                if m:
                    return m
                if self.proc is None or self.proc.poll() is not None:
                    raise GuestError(f"{self.name}: QEMU exited "
                                     f"({None if self.proc is None else self.proc.returncode}) "
                                     f"while waiting for {pattern!r}\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise GuestError(f"{self.name}: timed out after {timeout:.0f} s waiting "
                                     f"for {pattern!r}\n{self.tail()}")
                self._cond.wait(min(left, 1.0))  # 1 s cap: notices a QEMU that died silently

    def tail(self, lines=40):
        """The last console lines (for error messages)."""
        return "\n".join(self.console_text().splitlines()[-lines:])

    def console_text(self, all_boots=False):
        with self._cond:
            return self._text if all_boots else self._text[self._boot_offset:]

    def wait_listening(self, timeout=30.0):
        """Waits until every socket QEMU listens on (vhost-user NICs with qemu_listens, QMP)
        exists, so that a back-end in client mode can connect. GuestError if QEMU exits."""
        paths = [n.path for n in self.nics if isinstance(n, VhostUserNic) and n.qemu_listens]
        for p in paths + [self.qmp_path]:
            wait_for(lambda: self._check_alive() and _is_socket(p), timeout,
                     what=f"{self.name}: QEMU listening on {p}")
        return self

    def _check_alive(self):
        if not self.running():
            raise GuestError(f"{self.name}: QEMU exited "
                             f"({None if self.proc is None else self.proc.returncode})\n"
                             f"{self.tail()}")
        return True

    # --- commands ---------------------------------------------------------------------------
    def run(self, cmd, timeout=60.0, check=False):
        """Runs shell script `cmd` in the guest; returns (exit status, output with stdout and
        stderr merged, without its final newline). Thread-safe (one command at a time). On
        timeout the console is interrupted (^C: the command and its console shell die, /init
        starts a new one) and GuestError is raised. check=True raises GuestError on a non-zero
        status too. Background jobs (`iperf3 -s -D`, `cmd &`) outlive the command."""
        with self._run_lock:
            t0 = time.monotonic()
            cid = f"c{next(self._ids)}x{os.getpid()}"
            line = f"{cid} {base64.b64encode(cmd.encode()).decode()}\n"
            if len(line) > 4000:  # the tty's canonical-mode line limit is 4095 bytes
                raise ValueError(f"command too long for the console ({len(line)} bytes)")
            with self._cond:
                offset = len(self._text)
            self._write(line.encode())
            pattern = rf"\n@@{cid}@@B\n(.*?)\n@@{cid}@@E(\d+)\n"
            try:
                m = self.wait_console(pattern, timeout, start=offset)
            except GuestError:
                print(f"[vm {self.name}] {time.monotonic() - t0:5.1f} s  timed out: {cmd}")
                if self.running():
                    self._interrupt(offset)
                raise
            rc, out = int(m.group(2)), m.group(1)
            # pytest shows this for a failing test: what ran in which guest, and how long
            print(f"[vm {self.name}] {time.monotonic() - t0:5.1f} s  exit {rc}: {cmd}")
            if out.endswith("\n"):
                out = out[:-1]  # the last line's own newline
        if check and rc != 0:
            raise GuestError(f"{self.name}: `{cmd}` exited {rc}:\n{out}")
        return rc, out

    def check(self, cmd, timeout=60.0):
        """run() that raises on a non-zero status; returns the output."""
        return self.run(cmd, timeout, check=True)[1]

    def wait_until(self, cmd, timeout, interval=0.2):
        """Runs `cmd` until it exits 0 (e.g. "ping -c 1 -W 1 10.0.0.2"); returns its output.
        GuestError with the last output once `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            rc, out = self.run(cmd, timeout=max(left, 1.0) + 5)
            if rc == 0:
                return out
            if time.monotonic() >= deadline:
                raise GuestError(f"{self.name}: `{cmd}` still exits {rc} after {timeout:.0f} s:"
                                 f"\n{out}")
            time.sleep(interval)

    def _write(self, data):
        self._check_alive()
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _interrupt(self, offset):
        """^C on the console, then waits for the fresh console /init starts."""
        try:
            self._write(b"\x03")
            self.wait_console(re.escape(_MARK_CONSOLE), 30, start=offset)
        except (GuestError, OSError):
            pass

    def qmp(self, command, **arguments):
        """Runs one QMP command (e.g. "set_link", name="net0", up=False); returns its "return"
        value, GuestError on an "error" reply."""
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(30)
            s.connect(self.qmp_path)
            f = s.makefile("rw")
            json.loads(f.readline())  # greeting
            for cmd in ({"execute": "qmp_capabilities"},
                        {"execute": command, "arguments": arguments}):
                f.write(json.dumps(cmd) + "\n")
                f.flush()
                while True:
                    reply = json.loads(f.readline())
                    if "return" in reply or "error" in reply:
                        break  # anything else is an asynchronous event
                if "error" in reply:
                    raise GuestError(f"{self.name}: QMP {cmd['execute']}: {reply['error']}")
            return reply["return"]

    # --- shutdown ---------------------------------------------------------------------------
    def poweroff(self, timeout=60.0):
        """Powers the guest off (`poweroff -f`, ACPI) and waits for QEMU to exit; kills it if it
        has not exited by the deadline. Returns QEMU's exit status (None if it had to be
        killed)."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        try:
            self._write(f"p{os.getpid()} {base64.b64encode(b'poweroff -f').decode()}\n".encode())
            return self.proc.wait(timeout)
        except (subprocess.TimeoutExpired, GuestError, OSError):
            self.kill()
            return None
        finally:
            self._finish()

    def restart(self, timeout=BOOT_TIMEOUT):
        """Powers off and boots again with the same NICs, sockets and MACs; waits for the new
        boot. Client-mode sockets (qemu_listens) are created again by the new QEMU."""
        self.poweroff()
        self.start()
        return self.wait_booted(timeout)

    def kill(self):
        """SIGKILLs QEMU (its whole process group) and reaps it. Idempotent."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self._finish()

    def _finish(self):
        if self._reader is not None:
            self._reader.join(10)
            self._reader = None
        if self.proc is not None and self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self._log:
            self._log.close()
            self._log = None

    def close(self):
        """kill(), then removes the work directory when it was made here (keeps it when
        VSW_VM_KEEP=1, for a look at console logs)."""
        self.kill()
        if self.boots:  # pytest shows it when the test failed
            print(f"[vm {self.name}] console, last lines:\n{self.tail(15)}")
        if self._own_workdir and os.environ.get("VSW_VM_KEEP") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()
        return False


def boot_all(guests, timeout=BOOT_TIMEOUT):
    """Waits for several started guests; they boot concurrently, so this takes about as long as
    the slowest one."""
    for g in guests:
        g.wait_booted(timeout)
    return guests
