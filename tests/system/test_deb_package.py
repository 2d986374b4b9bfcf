"""The Debian package (debian/): built by `dpkg-buildpackage -b -us -uc` from a copy of the
tracked source tree (tests/support/deb_package.py, cached in /var/cache/vsw-deb/<source hash>),
then checked from the outside: the files it installs, the unit's ExecStart path, the conffile,
the maintainer scripts debhelper generated for the unit, the runtime Depends, and lintian
(no error). tests/vm/test_systemd_unit.py installs the same .deb under a real systemd.
"""
import re
import shutil
import subprocess

import pytest

from tests.support import paths
from tests.support.deb_package import build_package


def _run(*cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(cmd)} exited {res.returncode}:\n{res.stderr}"
    return res.stdout


@pytest.fixture(scope="module")
def deb():
    return build_package()


@pytest.fixture(scope="module")
def contents(deb):
    """{path without the leading '.': the `dpkg-deb -c` line}."""
    files = {}
    for line in _run("dpkg-deb", "-c", str(deb)).splitlines():
        path = line.split()[5]
        files[path.lstrip(".").rstrip("/") or "/"] = line
    return files


def _field(deb, name):
    return _run("dpkg-deb", "-f", str(deb), name).strip()


def test_package_identity(deb):
    assert deb.name.startswith("vsw_") and deb.name.endswith(".deb")
    assert _field(deb, "Package") == "vsw"
    assert _field(deb, "Architecture") == "amd64"
    depends = _field(deb, "Depends")
    # shlibs found the shared libraries the binaries link; nothing from -dev packages
    for lib in ("libc6", "libstdc++6", "libspdlog1.10-fmt9", "libfmt9"):
        assert re.search(rf"\b{re.escape(lib)}\b", depends), depends
    assert "-dev" not in depends, depends


def test_installed_files(contents):
    for path, mode in [("/usr/sbin/vswitchd", "-rwxr-xr-x"), ("/usr/bin/vswctl", "-rwxr-xr-x"),
                       ("/usr/bin/vsw-pktgen", "-rwxr-xr-x"),
                       ("/lib/systemd/system/vswitchd.service", "-rw-r--r--"),
                       ("/etc/vsw/default.json", "-rw-r--r--"),
                       ("/usr/share/man/man8/vswitchd.8.gz", "-rw-r--r--"),
                       ("/usr/share/man/man8/vswctl.8.gz", "-rw-r--r--"),
                       ("/usr/share/man/man1/vsw-pktgen.1.gz", "-rw-r--r--"),
                       # *.md stay uncompressed: the unit's Documentation= links daemon.md
                       ("/usr/share/doc/vsw/README.md", "-rw-r--r--"),
                       ("/usr/share/doc/vsw/daemon.md", "-rw-r--r--"),
                       ("/usr/share/doc/vsw/ports/memif.md", "-rw-r--r--"),
                       ("/usr/share/doc/vsw/copyright", "-rw-r--r--")]:
        assert path in contents, f"{path} not in the package:\n" + "\n".join(sorted(contents))
        assert contents[path].startswith(mode), contents[path]
        assert " root/root " in contents[path], contents[path]
    # Test and benchmark programs stay out; nothing under /usr/local; no state shipped.
    for path in contents:
        assert not path.startswith(("/usr/local", "/var/lib")), path
        assert not re.search(r"_(test|bench|fuzz)$|pci_probe|memif_dump", path), path


def test_unit_points_at_the_packaged_daemon(deb, tmp_path):
    _run("dpkg-deb", "-x", str(deb), str(tmp_path))
    unit = (tmp_path / "lib/systemd/system/vswitchd.service").read_text()
    exec_start = re.search(r"^ExecStart=(\S+)", unit, re.M)
    assert exec_start and exec_start.group(1) == "/usr/sbin/vswitchd", unit
    settings = "\n".join(l for l in unit.splitlines() if not l.startswith("#"))
    assert "@" not in settings and "/usr/local" not in settings, settings
    assert re.search(r"^Type=notify$", unit, re.M)
    assert re.search(r"^WantedBy=multi-user.target$", unit, re.M)
    config = (tmp_path / "etc/vsw/default.json").read_text()
    assert '"br0"' in config and '"tap0"' in config


def test_conffiles_and_maintainer_scripts(deb, tmp_path):
    _run("dpkg-deb", "-e", str(deb), str(tmp_path))
    assert (tmp_path / "conffiles").read_text().split() == ["/etc/vsw/default.json"]
    postinst = (tmp_path / "postinst").read_text()
    # dh_installsystemd: enabled on install, started (restarted on upgrade) where systemd runs
    assert "deb-systemd-helper enable 'vswitchd.service'" in postinst, postinst
    assert re.search(r"deb-systemd-invoke \$_dh_action 'vswitchd.service'", postinst), postinst
    prerm = (tmp_path / "prerm").read_text()
    assert "deb-systemd-invoke stop" in prerm and "vswitchd.service" in prerm, prerm
    postrm = (tmp_path / "postrm").read_text()
    purge = postrm[postrm.index('"purge"'):]
    assert "rm -rf /var/lib/vsw" in purge, postrm
    assert "deb-systemd-helper purge" in postrm, postrm


def test_lintian_has_no_errors(deb):
    if shutil.which("lintian") is None:
        pytest.fail("lintian is not installed (tests/deps.sh installs it)")
    res = subprocess.run(["lintian", "--no-tag-display-limit", str(deb)], capture_output=True,
                         text=True)
    out = res.stdout + res.stderr
    print(f"lintian {deb.name}:\n{out}")  # shown when the test fails, or with -s
    errors = [l for l in out.splitlines() if l.startswith("E:")]
    assert not errors, "\n".join(errors)
    assert res.returncode in (0, 1), out  # 1 = tags found (warnings); 2 = lintian failed


def test_build_depends_cover_the_libraries_the_build_needs():
    """Every library package tests/deps.sh installs for building (what meson's dependency()
    calls find) is in debian/control's Build-Depends, except the test frameworks the package
    build leaves out (-Dtests=false): a clean machine's dpkg-buildpackage checks only that list."""
    deps = (paths.REPO / "tests" / "deps.sh").read_text()
    build = re.search(r'VSW_BUILD_PACKAGES="([^"]*)"', deps).group(1).split()
    control = (paths.REPO / "debian" / "control").read_text()
    field = re.search(r"^Build-Depends:(.*?)^\S", control, re.S | re.M).group(1)
    declared = {d.strip().split()[0] for d in field.split(",") if d.strip()}
    needed = {p for p in build if p.endswith("-dev") and p not in ("libgtest-dev", "libgmock-dev")}
    assert needed <= declared, f"missing from Build-Depends: {sorted(needed - declared)}"
