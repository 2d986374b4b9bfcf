#!/usr/bin/python3
"""Builds the test guest (a kernel and an initramfs) from Debian's packages, cached outside the
clone.

    /usr/bin/python3 tests/vm/build_guest.py [--print] [--force]

prints the cache directory holding `kernel`, `initrd.cpio` and `manifest.json`. tests/vm/guest.py
calls ensure_image() itself, so tests never need to run this by hand.

`kernel` is the uncompressed vmlinux of the package's bzImage when the kernel has a PVH entry
(QEMU then boots it directly, skipping the self-decompressor), the bzImage otherwise;
`initrd.cpio` is left uncompressed. Both for boot time under TCG: see extract_vmlinux().

What goes into the initramfs (cpio "newc"):
  - the kernel modules of MODULES and everything modules.dep says they need, in load order, from
    the current `linux-image-<abi>-amd64` (the ABI resolved through `apt-cache depends
    linux-image-amd64`; `apt-get download` + `dpkg -x`, never installed on the host);
  - /bin/busybox from `busybox-static` with a link per applet (sh, ip, ping, mount, ...);
  - HOST_TOOLS (iperf3, ethtool, iproute2's ip, iputils ping, which checks the payload of every
    reply) copied from the host with the shared libraries ldd lists, plus an ld.so.cache for them.
    Debian's busybox shell runs its own applets before searching PATH, so /etc/vsw/profile
    (sourced by every console command) defines a function for each host tool that an applet
    would shadow (ping, ip); elsewhere (under `timeout`, say) use the full path;
  - tests/vm/guest_init.sh as /init.

Cache: $VSW_VM_CACHE (default /var/cache/vsw-vm)/<key>/, where <key> hashes this script, the
init script, the kernel and busybox package names and versions, and the bytes of every host file
copied in. A changed input gives a new key, hence a rebuild; an unchanged one reuses the
directory. Concurrent builds are safe: one flock (<cache>/.lock), the tree is built in a scratch
directory and renamed into place (rename is atomic), and a reader only trusts a directory that
has its manifest.json, which is written before the rename. Each use touches the manifest; a
build removes other cached guests unused for PRUNE_DAYS days.
"""
import argparse
import fcntl
import gzip
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

HERE = pathlib.Path(__file__).resolve().parent
INIT_SCRIPT = HERE / "guest_init.sh"
CACHE_ROOT = pathlib.Path(os.environ.get("VSW_VM_CACHE", "/var/cache/vsw-vm"))
PRUNE_DAYS = 7  # a cached guest unused for this long is removed by the next build

# (module, required). Dependencies come from modules.dep, so they need not be listed; a module
# that the kernel has built in is fine too. Optional ones are skipped when the kernel lacks them.
MODULES = [
    ("virtio", True), ("virtio_ring", True), ("virtio_pci", True), ("virtio_net", True),
    ("net_failover", True), ("failover", True),
    # later PCI-driver work: a user-space driver in the guest through uio or vfio
    ("uio", True), ("uio_pci_generic", True),
    ("irqbypass", True), ("vfio", True), ("vfio_iommu_type1", True), ("vfio_virqfd", False),
    ("vfio_pci_core", True), ("vfio_pci", True),
    # tests/vm/test_igb.py: the kernel's own 82576 driver drives QEMU's igb before vsw's
    # driver takes the device (the PCI layer unbinds it; del-port binds it again)
    ("igb", True),
    # tests/vm/test_vlan_kernel.py: the kernel's own VLAN interfaces, on veths in namespaces
    ("8021q", True), ("veth", True),
    # host directories shared into the guest (Guest(shares=...), -virtfs)
    ("9pnet_virtio", False), ("9p", False),
]

# binary on the host -> Debian package that provides it (installed with apt-get when missing)
HOST_TOOLS = {
    "/usr/bin/iperf3": "iperf3",
    "/usr/sbin/ethtool": "ethtool",
    "/usr/bin/ping": "iputils-ping",
    "/usr/sbin/ip": "iproute2",  # -s, -j, -d: more than busybox's ip
}
BUILD_TOOLS = {"cpio": "cpio", "depmod": "kmod", "ldconfig": "libc-bin"}


class BuildError(RuntimeError):
    pass


def _run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise BuildError(f"{' '.join(map(str, cmd))} failed ({res.returncode}):\n"
                         f"{res.stdout}{res.stderr}")
    return res.stdout


def _installed(pkg):
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                         text=True)
    return "install ok installed" in res.stdout


def install_host_packages():
    """apt-get installs the host packages the build copies from or runs, when missing."""
    wanted = set(HOST_TOOLS.values())
    wanted.update(pkg for tool, pkg in BUILD_TOOLS.items() if shutil.which(tool) is None)
    missing = sorted(p for p in wanted if not _installed(p))
    if not missing:
        return
    if os.geteuid() != 0:
        raise BuildError(f"missing host packages {missing} and not root to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    _run(["apt-get", "update", "-q"], env=env)
    _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)


def kernel_package():
    """The versioned kernel package linux-image-amd64 currently points at."""
    out = _run(["apt-cache", "depends", "linux-image-amd64"])
    m = re.search(r"Depends:\s*(linux-image-[0-9][^\s]*-amd64)\b", out)
    if not m:
        raise BuildError(f"no linux-image-*-amd64 dependency in:\n{out}")
    return m.group(1)


def candidate_versions(pkgs):
    """{package: the version apt-get download would fetch} (one apt-cache run: each costs 1 s)."""
    out = _run(["apt-cache", "policy", *pkgs])
    found = dict(re.findall(r"^(\S+):\n\s+Installed:.*\n\s+Candidate:\s*(\S+)", out, re.M))
    for p in pkgs:
        if found.get(p, "(none)") == "(none)":
            raise BuildError(f"apt has no candidate for {p} (apt-get update?):\n{out}")
    return {p: found[p] for p in pkgs}


def host_files():
    """Every host file copied into the guest: the tools and the libraries ldd resolves."""
    files = []
    for tool in HOST_TOOLS:
        if not os.path.exists(tool):
            raise BuildError(f"{tool} missing (package {HOST_TOOLS[tool]})")
        files.append(tool)
        for line in _run(["ldd", tool]).splitlines():
            m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
            if m and m.group(1) not in files:
                files.append(m.group(1))
    return files


def inputs():
    """What the cache key covers, as a dict (also written to manifest.json)."""
    kpkg = kernel_package()
    digest = lambda p: hashlib.sha256(pathlib.Path(p).read_bytes()).hexdigest()
    return {
        "build_guest.py": digest(__file__),
        "guest_init.sh": digest(INIT_SCRIPT),
        "packages": candidate_versions([kpkg, "busybox-static"]),
        "host_files": {f: digest(f) for f in host_files()},
    }


def cache_key(inp):
    return hashlib.sha256(json.dumps(inp, sort_keys=True).encode()).hexdigest()[:16]


def _module_index(moddir):
    """module name (dashes as underscores) -> (relative path, [relative dependency paths])."""
    index = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        path, _, deps = line.partition(":")
        name = re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", os.path.basename(path)).replace("-", "_")
        index[name] = (path, deps.split())
    return index


def _builtin(moddir):
    names = set()
    for line in (moddir / "modules.builtin").read_text().splitlines():
        names.add(re.sub(r"\.ko$", "", os.path.basename(line)).replace("-", "_"))
    return names


def module_load_order(moddir):
    """Paths (relative to moddir) in an order where every module follows its dependencies."""
    index = _module_index(moddir)
    by_path = {path: name for name, (path, _) in index.items()}
    builtin = _builtin(moddir)
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        path, deps = index[name]
        for dep in deps:
            visit(by_path[dep])
        order.append(path)

    for name, required in MODULES:
        if name in index:
            visit(name)
        elif name not in builtin and required:
            raise BuildError(f"kernel module {name} is neither a module nor built in")
    return order


def _copy_module(src, dst):
    """Copies one module, decompressing it: busybox insmod takes plain .ko files."""
    data = src.read_bytes()
    if src.suffix == ".xz":
        data = subprocess.run(["xz", "-dc", str(src)], capture_output=True, check=True).stdout
    elif src.suffix == ".zst":
        data = subprocess.run(["zstd", "-dc", str(src)], capture_output=True, check=True).stdout
    elif src.suffix == ".gz":
        data = gzip.decompress(data)
    dst.write_bytes(data)


def _copy_host_file(path, root):
    dst = root / path.lstrip("/")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(os.path.realpath(path), dst)  # the file's content under the name ldd printed


def extract_vmlinux(bzimage, config):
    """The uncompressed ELF kernel inside a bzImage, or None when it cannot be booted directly.

    QEMU boots an ELF vmlinux with a PVH entry note (CONFIG_PVH) without running the kernel's
    self-decompressor, which under TCG costs more than the rest of the boot: measured here
    16.6 s to /init's marker from the bzImage, 7.9 s from the vmlinux. The payload is located
    through the boot protocol's setup header (Documentation/arch/x86/boot.rst, protocol 2.08+:
    setup_sects at 0x1f1, payload_offset at 0x248 and payload_length at 0x24c, both relative to
    the protected-mode code that starts after the (setup_sects + 1) * 512 byte setup).
    """
    if "CONFIG_PVH=y" not in config.splitlines():
        return None
    data = bzimage.read_bytes()
    if data[0x202:0x206] != b"HdrS" or int.from_bytes(data[0x206:0x208], "little") < 0x208:
        return None
    setup_sects = data[0x1f1] or 4
    offset = int.from_bytes(data[0x248:0x24c], "little") + (setup_sects + 1) * 512
    length = int.from_bytes(data[0x24c:0x250], "little")
    payload = data[offset:offset + length]
    if payload.startswith(b"\xfd7zXZ\x00"):
        import lzma
        elf = lzma.LZMADecompressor().decompress(payload)
    elif payload.startswith(b"\x1f\x8b"):
        elf = gzip.decompress(payload)
    else:
        return None  # lz4, zstd, ...: boot the bzImage
    return elf if elf.startswith(b"\x7fELF") else None


def build(inp, out_dir, scratch):
    """Builds vmlinuz, initrd.gz and manifest.json into out_dir, using scratch for the rest."""
    kpkg = next(p for p in inp["packages"] if p.startswith("linux-image-"))
    debs = scratch / "debs"
    debs.mkdir()
    specs = [f"{p}={v}" for p, v in inp["packages"].items()]
    _run(["apt-get", "download", "-q", *specs], cwd=debs)
    ext = scratch / "ext"
    for deb in sorted(debs.glob("*.deb")):
        _run(["dpkg", "-x", str(deb), str(ext)])

    kver = kpkg[len("linux-image-"):]
    if not (ext / "lib" / "modules" / kver).is_dir():
        raise BuildError(f"{kpkg} has no lib/modules/{kver}")
    _run(["depmod", "-b", str(ext), kver])  # the package's postinst would have done this
    moddir = ext / "lib" / "modules" / kver

    root = scratch / "root"
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc/vsw", "proc", "sys", "dev", "tmp", "run",
              "mnt", "root", f"lib/modules/{kver}"):
        (root / d).mkdir(parents=True, exist_ok=True)

    # modules, flattened into lib/modules/<kver>/, and their load order for /init
    order = module_load_order(moddir)
    lines = []
    for rel in order:
        name = re.sub(r"\.ko(\.xz|\.zst|\.gz)?$", "", os.path.basename(rel))
        _copy_module(moddir / rel, root / "lib" / "modules" / kver / f"{name}.ko")
        lines.append(f"{name.replace('-', '_')} {kver}/{name}.ko")
    (root / "etc" / "vsw" / "modules").write_text("\n".join(lines) + "\n")

    # host tools and their libraries, then an ld.so.cache so the loader finds the libraries
    for f in inp["host_files"]:
        _copy_host_file(f, root)
    (root / "etc" / "ld.so.conf").write_text("/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n")
    _run(["ldconfig", "-r", str(root)])

    # busybox and one link per applet that no host tool already provides
    busybox = next(p for p in (ext / "bin" / "busybox", ext / "usr" / "bin" / "busybox")
                   if p.exists())
    shutil.copy2(busybox, root / "bin" / "busybox")
    applets = _run([str(busybox), "--list-full"]).split()
    shadowed = [t for t in HOST_TOOLS if any(os.path.basename(a) == os.path.basename(t)
                                             for a in applets)]
    (root / "etc" / "vsw" / "profile").write_text("".join(
        f'{os.path.basename(t)}() {{ {t} "$@"; }}\n' for t in shadowed))
    for applet in applets:
        link = root / applet
        name = os.path.basename(applet)
        if name == "busybox" or any(os.path.basename(t) == name for t in HOST_TOOLS):
            continue
        if not link.exists() and not link.is_symlink():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to("/bin/busybox")

    shutil.copy2(INIT_SCRIPT, root / "init")
    os.chmod(root / "init", 0o755)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    (root / "etc" / "hosts").write_text("127.0.0.1 localhost\n")
    # The kernel opens /dev/console for /init before /init can mount devtmpfs.
    os.mknod(root / "dev" / "console", 0o600 | 0o020000, os.makedev(5, 1))

    names = subprocess.run("find . -print0 | LC_ALL=C sort -z", shell=True, cwd=root,
                           capture_output=True, check=True).stdout
    cpio = subprocess.run(["cpio", "--null", "-o", "-H", "newc", "--quiet"], cwd=root,
                          input=names, capture_output=True)
    if cpio.returncode != 0:
        raise BuildError(f"cpio failed: {cpio.stderr.decode()}")
    # Not compressed: the kernel would spend about a second of TCG time inflating it.
    (out_dir / "initrd.cpio").write_bytes(cpio.stdout)
    config = (ext / "boot" / f"config-{kver}").read_text()
    vmlinux = extract_vmlinux(ext / "boot" / f"vmlinuz-{kver}", config)
    if vmlinux is not None:
        (out_dir / "kernel").write_bytes(vmlinux)
    else:
        shutil.copy2(ext / "boot" / f"vmlinuz-{kver}", out_dir / "kernel")
    manifest = dict(inp, kernel_release=kver, modules=[l.split()[0] for l in lines],
                    kernel_format="vmlinux (PVH)" if vmlinux is not None else "bzImage",
                    built=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def ensure_image(force=False, log=None):
    """Returns the cache directory of a guest built from the current inputs, building it first
    when there is none. Safe to call from several processes at once (flock + atomic rename).
    Raises BuildError with the failing command's output on failure."""
    install_host_packages()
    inp = inputs()
    key = cache_key(inp)
    final = CACHE_ROOT / key
    if not force and (final / "manifest.json").exists():
        os.utime(final / "manifest.json")  # last use, for prune()
        return final
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent builder finishes first
        if not force and (final / "manifest.json").exists():
            return final
        t0 = time.monotonic()
        if log:
            log(f"building the test guest into {final} ...")
        with tempfile.TemporaryDirectory(dir=CACHE_ROOT, prefix=f".scratch-{key}-") as scratch:
            scratch = pathlib.Path(scratch)
            out = scratch / "out"
            out.mkdir()
            build(inp, out, scratch)
            if final.exists():  # --force, or a directory left without a manifest
                shutil.rmtree(final)
            os.rename(out, final)
        if log:
            log(f"built the test guest in {time.monotonic() - t0:.1f} s")
    prune(keep=final)
    return final


def prune(keep, max_age_days=PRUNE_DAYS):
    """Removes cached guests not used for max_age_days (another clone or branch may still use a
    recent one) and scratch directories of builds that died, except `keep`."""
    now = time.time()
    for entry in CACHE_ROOT.iterdir():
        if entry == keep or not entry.is_dir():
            continue
        manifest = entry / "manifest.json"
        try:
            age = now - (manifest if manifest.exists() else entry).stat().st_mtime
        except FileNotFoundError:
            continue
        if age > max_age_days * 86400:
            shutil.rmtree(entry, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--force", action="store_true", help="rebuild even when cached")
    ap.add_argument("--print", action="store_true", help="print the cache key inputs and exit")
    args = ap.parse_args()
    try:
        if args.print:
            inp = inputs()
            print(json.dumps(dict(inp, key=cache_key(inp)), indent=2))
            return 0
        print(ensure_image(force=args.force, log=lambda m: print(m, file=sys.stderr)))
        return 0
    except BuildError as e:
        print(f"build_guest: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
