"""Builds the vsw Debian package (debian/) once per source tree and caches it.

    from tests.support.deb_package import build_package
    deb = build_package()          # Path to /var/cache/vsw-deb/<key>/vsw_<version>_<arch>.deb

<key> hashes the path and bytes of every file git tracks in the repository (as they are in the
work tree, so an uncommitted edit counts), so a fresh clone of the same commit reuses the
package and any change builds it again (with ccache, a change outside the C++ sources costs
only the link and packaging steps). `$VSW_DEB_CACHE` overrides
/var/cache/vsw-deb.

The build runs `dpkg-buildpackage -b -us -uc` on a copy of the tracked files, always in the same
directory (<cache>/build/vsw), so that ccache (meson uses it when it is installed; its cache
directory is passed on explicitly, see _ccache_env()) finds the objects of the previous build:
only the files that changed are compiled again. The tests are
not run (DEB_BUILD_OPTIONS=nocheck; debian/rules also leaves dh_auto_test empty) and no -dbgsym
package is made (noddebs). Builds are serialised by one flock; the result is made in a scratch directory renamed into place, so a
half-built package is never found. Cached packages unused for 7 days are removed by the next
build. Also a command: `/usr/bin/python3 tests/support/deb_package.py` prints the .deb's path.
"""
import fcntl
import hashlib
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
CACHE = pathlib.Path(os.environ.get("VSW_DEB_CACHE", "/var/cache/vsw-deb"))
KEEP_DAYS = 7


class PackageBuildError(RuntimeError):
    """dpkg-buildpackage failed (the message has the end of its log) or produced no vsw .deb."""


def tracked_files(repo=REPO):
    """The repository's tracked files that exist in the work tree, sorted (relative paths). All
    of them: bench/ compiles against headers of tests/unit/, so none can be left out."""
    out = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], check=True,
                         capture_output=True).stdout
    names = sorted(n for n in out.decode().split("\0") if n)
    return [n for n in names if (repo / n).is_file()]


def source_key(repo=REPO):
    """16 hex digits of SHA-256 over every tracked file's path, mode bit x and bytes."""
    h = hashlib.sha256()
    for name in tracked_files(repo):
        p = repo / name
        h.update(name.encode() + b"\0" + (b"x" if os.access(p, os.X_OK) else b"-") + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _find_deb(d):
    debs = sorted(d.glob("vsw_*.deb"))
    return debs[0] if len(debs) == 1 else None


def _prune(now):
    for d in CACHE.iterdir():
        if d.name in ("build", ".lock") or d.name.startswith("."):
            continue
        try:
            if now - d.stat().st_mtime > KEEP_DAYS * 86400:
                shutil.rmtree(d, ignore_errors=True)
        except FileNotFoundError:
            pass


def _ccache_env():
    """debhelper (compat 13) runs the build with HOME pointing into debian/.debhelper, where
    ccache would find neither its configuration nor its cache: name the cache directory (and
    its size limit) of the caller's configuration explicitly. Empty without ccache."""
    if shutil.which("ccache") is None:
        return {}
    env = {}
    for key, var in (("cache_dir", "CCACHE_DIR"), ("max_size", "CCACHE_MAXSIZE")):
        res = subprocess.run(["ccache", "-k", key], capture_output=True, text=True)
        if res.returncode == 0 and res.stdout.strip():
            env[var] = os.environ.get(var, res.stdout.strip())
    return env


def build_package(log=print):
    """Path to the vsw .deb of the current source tree, building it first if it is not cached.
    PackageBuildError when the build fails. $VSW_DEB_PACKAGE names a .deb to use instead (a
    package built elsewhere, to be tested as it is)."""
    if os.environ.get("VSW_DEB_PACKAGE"):
        return pathlib.Path(os.environ["VSW_DEB_PACKAGE"]).resolve()
    key = source_key()
    done = CACHE / key
    deb = _find_deb(done) if done.is_dir() else None
    if deb:
        os.utime(done)  # recently used: not pruned
        return deb
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        deb = _find_deb(done) if done.is_dir() else None
        if deb:  # built by someone else while we waited for the lock
            return deb
        _prune(time.time())
        return _build(key, done, log)


def _build(key, done, log):
    work = CACHE / "build"
    src = work / "vsw"
    shutil.rmtree(work, ignore_errors=True)
    src.mkdir(parents=True)
    for name in tracked_files():
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck noddebs parallel=2", LC_ALL="C.UTF-8")
    env.pop("VSW_BUILD_DIR", None)
    env.update(_ccache_env())
    log_path = work / "build.log"
    log(f"[deb] building the package of source {key} in {src} (log: {log_path})")
    t0 = time.monotonic()
    with open(log_path, "w") as out:
        rc = subprocess.run(["dpkg-buildpackage", "-b", "-us", "-uc", "-j2"], cwd=src, env=env,
                            stdout=out, stderr=subprocess.STDOUT).returncode
    seconds = time.monotonic() - t0
    if rc != 0:
        tail = log_path.read_text(errors="replace").splitlines()[-60:]
        raise PackageBuildError(f"dpkg-buildpackage exited {rc} after {seconds:.0f} s; "
                                f"last lines of {log_path}:\n" + "\n".join(tail))
    scratch = pathlib.Path(tempfile.mkdtemp(prefix=f".{key}-", dir=CACHE))
    for f in work.iterdir():
        if f.is_file() and f.suffix in (".deb", ".buildinfo", ".changes", ".log"):
            shutil.move(str(f), scratch / f.name)
    if _find_deb(scratch) is None:
        shutil.rmtree(scratch, ignore_errors=True)
        raise PackageBuildError(f"dpkg-buildpackage made no single vsw_*.deb in {work}")
    (scratch / "build-seconds").write_text(f"{seconds:.0f}\n")
    os.chmod(scratch, 0o755)  # mkdtemp made it 0700
    shutil.rmtree(done, ignore_errors=True)
    os.rename(scratch, done)
    shutil.rmtree(src, ignore_errors=True)
    log(f"[deb] built {_find_deb(done).name} in {seconds:.0f} s")
    return _find_deb(done)


def runtime_depends(deb):
    """The real packages that satisfy the .deb's Depends (first alternative of each, versions
    dropped, virtual names such as libspdlog1.10-fmt9 replaced by their provider from this
    machine's apt cache), sorted: what a root file system needs to install it offline."""
    field = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True,
                           text=True, check=True).stdout
    names = set()
    for dep in field.split(","):
        m = re.match(r"\s*([a-z0-9][a-z0-9+.-]*)", dep.split("|")[0])
        if m:
            names.add(_real_package(m.group(1)))
    return sorted(names)


def _real_package(name):
    policy = subprocess.run(["apt-cache", "policy", name], capture_output=True, text=True).stdout
    if re.search(r"Candidate:\s*(?!\(none\))\S", policy):
        return name
    showpkg = subprocess.run(["apt-cache", "showpkg", name], capture_output=True,
                             text=True).stdout
    providers = re.search(r"^Reverse Provides:\s*\n(\S+)", showpkg, re.M)
    if not providers:
        raise PackageBuildError(f"no package provides {name} (apt-get update?)")
    return providers.group(1)


if __name__ == "__main__":
    try:
        print(build_package(log=lambda m: print(m, file=sys.stderr)))
    except PackageBuildError as e:
        sys.exit(str(e))
