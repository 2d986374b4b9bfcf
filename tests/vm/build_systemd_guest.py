#!/usr/bin/python3
"""Builds the systemd test guest: a Debian 12 root file system made by debootstrap, booted with
systemd as PID 1 (tests/vm/test_systemd_unit.py), cached outside the clone.

    /usr/bin/python3 tests/vm/build_systemd_guest.py [--print] [--force] [PACKAGE ...]

prints the cache directory holding `kernel`, `initrd.cpio`, `root.img` and `manifest.json`;
PACKAGEs are added to the root file system (the test passes the Depends of the vsw .deb, so
that `apt-get install ./vsw_*.deb` in the guest needs no network).

- `root.img`: an ext4 image made with `mkfs.ext4 -d` (no loop device, no mount) from a
  `debootstrap --variant=minbase` tree of bookworm with BASE_PACKAGES + the extra packages,
  from the mirror of the machine's own apt sources (read at run time from
  /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; no host is written here). QEMU
  opens it with snapshot=on, so a boot never changes the cached image.
- The kernel: the one tests/vm/build_guest.py boots (same `linux-image-<abi>-amd64`, same
  vmlinux extraction); the modules of ROOT_MODULES and their dependencies are copied into the
  root file system (depmod'ed there, so udev and modprobe load them as usual).
- `initrd.cpio`: busybox-static and the modules for the root disk (virtio_blk, ext4), an /init
  that loads them, mounts /dev/vda and switch_root's to /lib/systemd/systemd.
- In the root file system: vsw-console.service (tests/vm/systemd_console.sh, the command console
  guest.py talks to over ttyS0; the kernel console, hence systemd's /dev/console, is ttyS1, so
  PID 1 never resets or hangs up the command console), a fixed machine-id, man-db's index
  update off (its trigger costs seconds per dpkg run), and MASKED units: the gettys (the console
  owns ttyS0) and the units that only cost boot time under TCG (timers, first-boot updates).

Cache: $VSW_VM_CACHE (default /var/cache/vsw-vm)/systemd-<key>/; <key> hashes this script, the
console script, the package list and the kernel and busybox versions. The package versions of the
root file system are whatever the mirror has when it is built; a cached image is kept until its
inputs change or it has not been used for 7 days (build_guest.prune()). Same locking as
build_guest.py: one flock, a scratch directory renamed into place.
"""
import argparse
import fcntl
import glob
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))  # run as a script
from tests.vm import build_guest  # noqa: E402
from tests.vm.build_guest import BuildError, _run  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
CONSOLE_SCRIPT = HERE / "systemd_console.sh"
SUITE = "bookworm"

# systemd as PID 1 and what the unit test runs in the guest (ip for veth, kmod for modprobe,
# man for `systemd-analyze verify`'s check of the unit's Documentation=man:vswitchd(8)).
BASE_PACKAGES = ["systemd", "systemd-sysv", "udev", "iproute2", "kmod", "man-db"]
# Modules in the initramfs, loaded in this order's dependency closure: the root disk.
INITRD_MODULES = ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"]
# Modules in the root file system (udev/modprobe load them): tap, veth, 9p shares, the disk.
ROOT_MODULES = INITRD_MODULES + ["tun", "veth", "9pnet_virtio", "9p", "virtio_net"]
MASKED_UNITS = [
    "serial-getty@ttyS0.service", "getty@tty1.service", "getty.target", "console-getty.service",
    "systemd-firstboot.service", "systemd-logind.service",
    "ldconfig.service", "systemd-hwdb-update.service", "systemd-journal-catalog-update.service",
    "systemd-update-done.service", "systemd-update-utmp.service",
    "systemd-update-utmp-runlevel.service", "systemd-timesyncd.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer",
    "e2scrub_reap.service", "fstrim.timer", "systemd-tmpfiles-clean.timer",
    # measured at 2-9 s each under TCG (systemd-analyze blame) and of no use to the test
    "systemd-user-sessions.service", "systemd-sysusers.service", "systemd-random-seed.service",
    "systemd-journal-flush.service", "systemd-pstore.service", "systemd-binfmt.service",
    "modprobe@dm_mod.service", "modprobe@efi_pstore.service", "modprobe@fuse.service",
    "modprobe@loop.service", "modprobe@drm.service", "modprobe@configfs.service",
    "sys-kernel-debug.mount", "sys-kernel-tracing.mount", "sys-kernel-config.mount",
    "sys-fs-fuse-connections.mount", "dev-mqueue.mount",
]
CONSOLE_UNIT = """\
[Unit]
Description=vsw test console on ttyS0 (tests/vm/systemd_console.sh)
After=sysinit.target

[Service]
ExecStart=/usr/local/sbin/vsw-console
StandardInput=null
StandardOutput=null
Restart=always

[Install]
WantedBy=multi-user.target
"""
INITRD_INIT = """\
#!/bin/sh
# /init of the systemd test guest's initramfs: load the root disk's modules, mount it, hand over
# to systemd.
# Errors go to ttyS0 too, the command console guest.py reads (the kernel console is ttyS1).
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
error() { echo "@@vsw-error@@ $*"; echo "@@vsw-error@@ $*" > /dev/ttyS0; }
while read -r file; do insmod "/lib/modules/$file" || error "insmod $file"; done \\
  < /etc/modules.order
i=0
while [ ! -b /dev/vda ]; do
  i=$((i + 1)); [ $i -gt 200 ] && { error "no /dev/vda"; break; }
  sleep 0.05
done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || error "mount /dev/vda failed"
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /lib/systemd/systemd
"""


def apt_mirror():
    """The Debian mirror of this machine's apt sources that serves SUITE (first URIs: line of
    a deb822 stanza whose Suites has it, else the first matching sources.list line)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        for stanza in re.split(r"\n\s*\n", pathlib.Path(path).read_text()):
            fields = {}
            for line in stanza.splitlines():
                m = re.match(r"^([A-Za-z-]+):\s*(.*)$", line)
                if m:
                    fields[m.group(1).lower()] = m.group(2).split()
            if ("deb" in fields.get("types", []) and SUITE in fields.get("suites", [])
                    and fields.get("uris")):
                return fields["uris"][0]
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            text = pathlib.Path(path).read_text()
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            m = re.match(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
            if m and m.group(2) == SUITE:
                return m.group(1)
    raise BuildError(f"no apt source for {SUITE} in /etc/apt (sources.list.d/*.sources or "
                     "sources.list)")


def inputs(extra_packages):
    kpkg = build_guest.kernel_package()
    digest = lambda p: hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest()
    return {
        "build_systemd_guest.py": digest(__file__),
        "systemd_console.sh": digest(CONSOLE_SCRIPT),
        "root_packages": sorted(set(BASE_PACKAGES) | set(extra_packages)),
        "packages": build_guest.candidate_versions([kpkg, "busybox-static"]),
    }


def _closure(moddir, names):
    """Module paths (relative to moddir) of `names` and their dependencies, dependencies first;
    names the kernel has built in are skipped, unknown ones raise BuildError."""
    index = build_guest._module_index(moddir)
    by_path = {path: name for name, (path, _) in index.items()}
    builtin = build_guest._builtin(moddir)
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        path, deps = index[name]
        for dep in deps:
            visit(by_path[dep])
        order.append(path)

    for name in names:
        if name in index:
            visit(name)
        elif name not in builtin:
            raise BuildError(f"kernel module {name} is neither a module nor built in")
    return order


def _debootstrap(root, packages, log):
    mirror = apt_mirror()
    log(f"debootstrap {SUITE} from {mirror}: {' '.join(packages)}")
    _run(["debootstrap", "--variant=minbase", f"--include={','.join(packages)}",
          "--components=main", SUITE, str(root), mirror])


def _configure_root(root, kver, moddir):
    for rel in _closure(moddir, ROOT_MODULES):
        dst = root / "lib" / "modules" / kver / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(moddir / rel, dst)
    for f in ("modules.builtin", "modules.builtin.modinfo", "modules.order"):
        shutil.copy2(moddir / f, root / "lib" / "modules" / kver / f)
    _run(["depmod", "-b", str(root), kver])

    (root / "etc" / "hostname").write_text("vsw-systemd\n")
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n127.0.1.1 vsw-systemd\n")
    (root / "etc" / "machine-id").write_text(hashlib.md5(kver.encode()).hexdigest() + "\n")
    (root / "etc" / "fstab").write_text("# root: /dev/vda, mounted by the initramfs\n")
    shutil.copy2(CONSOLE_SCRIPT, root / "usr" / "local" / "sbin" / "vsw-console")
    os.chmod(root / "usr" / "local" / "sbin" / "vsw-console", 0o755)
    units = root / "etc" / "systemd" / "system"
    (units / "vsw-console.service").write_text(CONSOLE_UNIT)
    wants = units / "multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "vsw-console.service").symlink_to("/etc/systemd/system/vsw-console.service")
    for unit in MASKED_UNITS:
        link = units / unit
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to("/dev/null")
    # The journal in memory only: nothing to flush to /var/log under TCG.
    conf = root / "etc" / "systemd" / "journald.conf.d"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "vsw-test.conf").write_text("[Journal]\nStorage=volatile\n")
    # man-db's dpkg trigger rebuilds its index after every install and removal (5-30 s under
    # TCG); man finds pages without it.
    (root / "var" / "lib" / "man-db" / "auto-update").unlink(missing_ok=True)
    shutil.rmtree(root / "var" / "cache" / "apt" / "archives", ignore_errors=True)
    (root / "var" / "cache" / "apt" / "archives" / "partial").mkdir(parents=True)


def _initrd(ext, moddir, kver, out):
    root = out.parent / "initrd-root"
    for d in ("bin", "proc", "sys", "dev", "etc", "newroot", f"lib/modules/{kver}"):
        (root / d).mkdir(parents=True, exist_ok=True)
    lines = []
    for rel in _closure(moddir, INITRD_MODULES):
        name = os.path.basename(rel)
        build_guest._copy_module(moddir / rel, root / "lib" / "modules" / kver / name)
        lines.append(f"{kver}/{name}")
    (root / "etc" / "modules.order").write_text("\n".join(lines) + "\n")
    busybox = next(p for p in (ext / "bin" / "busybox", ext / "usr" / "bin" / "busybox")
                   if p.exists())
    shutil.copy2(busybox, root / "bin" / "busybox")
    for applet in ("sh", "mount", "umount", "insmod", "mkdir", "sleep", "switch_root", "echo"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "init").write_text(INITRD_INIT)
    os.chmod(root / "init", 0o755)
    os.mknod(root / "dev" / "console", 0o600 | 0o020000, os.makedev(5, 1))
    names = subprocess.run("find . -print0 | LC_ALL=C sort -z", shell=True, cwd=root,
                           capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--null", "-o", "-H", "newc", "--quiet"], cwd=root,
                          input=names, capture_output=True)
    if cpio.returncode != 0:
        raise BuildError(f"cpio failed: {cpio.stderr.decode()}")
    out.write_bytes(cpio.stdout)


def build(inp, out_dir, scratch, log):
    kpkg = next(p for p in inp["packages"] if p.startswith("linux-image-"))
    kver = kpkg[len("linux-image-"):]
    debs = scratch / "debs"
    debs.mkdir()
    _run(["apt-get", "download", "-q", *[f"{p}={v}" for p, v in inp["packages"].items()]],
         cwd=debs)
    ext = scratch / "ext"
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg", "-x", str(deb), str(ext)])
    _run(["depmod", "-b", str(ext), kver])
    moddir = ext / "lib" / "modules" / kver

    root = scratch / "root"
    t0 = time.monotonic()
    _debootstrap(root, inp["root_packages"], log)
    log(f"debootstrap took {time.monotonic() - t0:.0f} s")
    _configure_root(root, kver, moddir)

    used = int(_run(["du", "-sb", str(root)]).split()[0])
    size_mb = used // 2**20 + 384  # room for the .deb, apt's work, logs and state
    img = out_dir / "root.img"
    _run(["mkfs.ext4", "-q", "-F", "-L", "vswroot", "-d", str(root), str(img), f"{size_mb}M"])
    _initrd(ext, moddir, kver, out_dir / "initrd.cpio")
    config = (ext / "boot" / f"config-{kver}").read_text()
    vmlinux = build_guest.extract_vmlinux(ext / "boot" / f"vmlinuz-{kver}", config)
    if vmlinux is not None:
        (out_dir / "kernel").write_bytes(vmlinux)
    else:
        shutil.copy2(ext / "boot" / f"vmlinuz-{kver}", out_dir / "kernel")
    manifest = dict(inp, kernel_release=kver, image_mb=size_mb,
                    built=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def ensure_image(extra_packages=(), force=False, log=None):
    """The cache directory of a systemd guest with BASE_PACKAGES + extra_packages, built first
    when there is none (a few minutes: debootstrap). BuildError on failure."""
    log = log or (lambda m: None)
    build_guest.install_host_packages()
    if shutil.which("debootstrap") is None:
        raise BuildError("debootstrap is not installed (Debian package debootstrap)")
    inp = inputs(extra_packages)
    key = build_guest.cache_key(inp)
    root = build_guest.CACHE_ROOT
    final = root / f"systemd-{key}"
    if not force and (final / "manifest.json").exists():
        os.utime(final / "manifest.json")
        return final
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and (final / "manifest.json").exists():
            return final
        t0 = time.monotonic()
        log(f"building the systemd test guest into {final} ...")
        with tempfile.TemporaryDirectory(dir=root, prefix=f".scratch-systemd-{key}-") as scratch:
            scratch = pathlib.Path(scratch)
            out = scratch / "out"
            out.mkdir()
            build(inp, out, scratch, log)
            if final.exists():
                shutil.rmtree(final)
            os.rename(out, final)
        log(f"built the systemd test guest in {time.monotonic() - t0:.0f} s")
    build_guest.prune(keep=final)
    return final


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--print", action="store_true", help="print the cache key inputs and exit")
    ap.add_argument("packages", nargs="*", help="extra packages for the root file system")
    args = ap.parse_args()
    try:
        if args.print:
            inp = inputs(args.packages)
            print(json.dumps(dict(inp, key=build_guest.cache_key(inp)), indent=2))
            return 0
        print(ensure_image(args.packages, force=args.force,
                           log=lambda m: print(m, file=sys.stderr)))
        return 0
    except BuildError as e:
        print(f"build_systemd_guest: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
