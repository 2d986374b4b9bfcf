"""Runs programs built on the host (vswitchd, vswctl, test helpers) inside a test guest.

    from tests.vm.host_programs import HostPrograms

    hp = HostPrograms()                                   # the build dir of tests/support/paths
    with Guest("g", shares=hp.shares, mem_mb=512) as g:
        g.wait_booted()
        g.check(hp.command(paths.VSWCTL, "--version"))    # -> "vswctl 0.1.0"

The guest has no compiler, no libstdc++ and no spdlog, and copying a 60 MB debug build into
every initramfs would make each rebuild of the tree a rebuild of the guest. Instead two host
directories are shared read-only over 9p (Guest(shares=...), mounted by /init at /mnt/<tag>):

  * the build directory, tag `vswbuild` (mounted at /mnt/vswbuild);
  * the host's /usr, tag `hostusr` (/mnt/hostusr): its dynamic loader and shared libraries
    (Debian 12 is merged-/usr, so /lib and /lib64 are links into it).

and a program runs through the host's own loader with the host's library directories:

    /mnt/hostusr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 \\
        --library-path /mnt/hostusr/lib/x86_64-linux-gnu /mnt/vswbuild/daemon/vswitchd ...

The loader is run as a program (ld.so(8), "the dynamic linker can be run directly"), so the
program's PT_INTERP (/lib64/ld-linux-x86-64.so.2, which in the guest would be the guest's copy)
is never consulted, and `--library-path` replaces LD_LIBRARY_PATH for this one process only.
The directories are those `ldd` resolves on the host for that program, so the guest loads the
very same libraries the program was linked and tested against. A build-tree library found
through a `$ORIGIN` run path resolves inside /mnt/vswbuild as well.

Only /usr and the build directory are exported: not the host's /, whose /proc, /sys and /dev
(other file systems, which QEMU's 9p server also warns about) a guest has no business seeing.
The program sees the guest's /proc, /sys, /dev, hugepages and PCI devices, and writes only to
the guest's tmpfs (/tmp, /run): the shares are read-only.
"""
import os
import re
import shlex
import subprocess

from tests.support import paths

BUILD_TAG = "vswbuild"
USR_TAG = "hostusr"
GUEST_MOUNTS = "/mnt"


class HostProgramError(RuntimeError):
    """A program or one of its libraries lies outside the shared directories, or ldd failed."""


class HostPrograms:
    """Maps host programs under the build directory or /usr to guest command lines.

    build_dir: the host build directory to share (default tests/support/paths.BUILD, i.e.
    $VSW_BUILD_DIR or <repo>/build). `shares` is the dict to pass to Guest(shares=...).
    Thread-safe after construction (command() only reads a cache guarded by the GIL)."""

    def __init__(self, build_dir=None):
        self.build_dir = os.path.realpath(str(build_dir or paths.BUILD))
        self.roots = {self.build_dir: f"{GUEST_MOUNTS}/{BUILD_TAG}",
                      "/usr": f"{GUEST_MOUNTS}/{USR_TAG}"}
        self._cache = {}

    @property
    def shares(self):
        """{tag: host directory} for Guest(shares=...)."""
        return {BUILD_TAG: self.build_dir, USR_TAG: "/usr"}

    def guest_path(self, host_path):
        """The guest path of a host file under the build directory or /usr (symbolic links
        resolved on the host). HostProgramError for anything else."""
        real = os.path.realpath(str(host_path))
        for root, mount in self.roots.items():
            if real == root or real.startswith(root + "/"):
                return mount + real[len(root):]
        raise HostProgramError(f"{host_path} ({real}) is neither under the build directory "
                               f"{self.build_dir} nor under /usr: the guest cannot see it")

    def _loader_and_libs(self, program):
        """(guest path of the loader, [guest library directories]) from the host's ldd."""
        real = os.path.realpath(str(program))
        if real in self._cache:
            return self._cache[real]
        self.guest_path(real)  # refuses a program the guest cannot see
        if not os.access(real, os.X_OK):
            raise HostProgramError(f"{program} is not an executable file (built?)")
        res = subprocess.run(["ldd", real], capture_output=True, text=True)
        if res.returncode != 0:  # a script or a static binary: not through the loader
            raise HostProgramError(f"ldd {real} failed (not a dynamic executable?):\n"
                                   f"{res.stdout}{res.stderr}")
        loader, dirs = None, []
        for line in res.stdout.splitlines():
            if "not found" in line:
                raise HostProgramError(f"{real}: a library is missing on the host: {line.strip()}")
            m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if not m:
                continue  # linux-vdso.so.1 (no file)
            lib = os.path.realpath(m.group(1))
            if "=>" not in line:  # the program's interpreter, "/lib64/ld-linux-x86-64.so.2 (0x..)"
                loader = self.guest_path(lib)
                continue
            d = os.path.dirname(self.guest_path(lib))
            if d not in dirs:
                dirs.append(d)
        if loader is None:
            raise HostProgramError(f"ldd names no dynamic loader for {real}:\n{res.stdout}")
        self._cache[real] = (loader, dirs)
        return loader, dirs

    def argv(self, program, *args):
        """The guest argv running host `program` with `args` (all converted with str())."""
        loader, dirs = self._loader_and_libs(program)
        argv = [loader]
        if dirs:
            argv += ["--library-path", ":".join(dirs)]
        return argv + [self.guest_path(program)] + [str(a) for a in args]

    def command(self, program, *args):
        """A shell command line for Guest.run() running host `program` with `args` (quoted)."""
        return shlex.join(self.argv(program, *args))


_default = None


def host_command(program, *args):
    """HostPrograms().command(...) with the default build directory (paths.BUILD)."""
    global _default
    if _default is None:
        _default = HostPrograms()
    return _default.command(program, *args)
