"""tests/deps.sh's bookworm-backports step (QEMU >= 8.0 for tests/vm/test_igb.py): the apt source
it derives from the machine's own, run on scratch copies of /etc/apt (VSW_APT_ETC), never on the
real one. The mirror names below are placeholders of the .invalid top-level domain (RFC 2606):
what matters is that the new entry repeats whatever the configured bookworm entry says."""
import pathlib
import subprocess

import pytest

DEPS = pathlib.Path(__file__).resolve().parents[1] / "deps.sh"
MIRROR = "http://mirror.invalid/debian"
SECURITY = "http://security.invalid/debian-security"


def run(apt_etc, script):
    """Runs `script` after sourcing tests/deps.sh with VSW_APT_ETC=apt_etc; returns the result."""
    return subprocess.run(["bash", "-c", f'source "{DEPS}"; {script}'], capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "VSW_APT_ETC": str(apt_etc)})


def add_source(apt_etc):
    return run(apt_etc, "vsw_backports_configured && echo configured || "
                        "{ vsw_add_backports_source && echo added; }")


@pytest.fixture
def apt_etc(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    return tmp_path


def test_deb822_entry_is_copied_with_only_the_suite_changed(apt_etc):
    (apt_etc / "sources.list.d" / "debian.sources").write_text(
        "Types: deb deb-src\n"
        "# a comment\n"
        f"URIs: {SECURITY}\nSuites: bookworm-security\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: http://disabled.invalid/debian\nSuites: bookworm\nComponents: main\n"
        "Enabled: no\n\n"
        f"Types: deb deb-src\nURIs: {MIRROR}\nSuites: bookworm bookworm-updates\n"
        "Components: main contrib\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    res = add_source(apt_etc)
    assert res.returncode == 0 and res.stdout.strip() == "added", res
    made = (apt_etc / "sources.list.d" / "vsw-bookworm-backports.sources").read_text()
    lines = [line for line in made.splitlines() if not line.startswith("#")]
    assert lines == ["Types: deb", f"URIs: {MIRROR}", "Suites: bookworm-backports",
                     "Components: main contrib",
                     "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"], made
    # idempotent: the entry it made counts as configured, nothing is written twice
    res = add_source(apt_etc)
    assert res.stdout.strip() == "configured", res
    assert len(list((apt_etc / "sources.list.d").iterdir())) == 2


def test_one_line_sources_list(apt_etc):
    (apt_etc / "sources.list").write_text(
        f"# deb {MIRROR} bullseye main\n"
        f"deb {SECURITY} bookworm-security main\n"
        f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {MIRROR} bookworm "
        "main non-free-firmware\n")
    res = add_source(apt_etc)
    assert res.returncode == 0 and res.stdout.strip() == "added", res
    made = (apt_etc / "sources.list.d" / "vsw-bookworm-backports.list").read_text()
    assert made.splitlines()[1:] == [
        f"deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] {MIRROR} "
        "bookworm-backports main non-free-firmware"], made
    assert add_source(apt_etc).stdout.strip() == "configured"


def test_an_existing_backports_entry_is_reused(apt_etc):
    (apt_etc / "sources.list.d" / "debian.sources").write_text(
        f"Types: deb\nURIs: {MIRROR}\nSuites: bookworm bookworm-backports\nComponents: main\n")
    res = add_source(apt_etc)
    assert res.stdout.strip() == "configured", res
    assert [p.name for p in (apt_etc / "sources.list.d").iterdir()] == ["debian.sources"]


def test_no_bookworm_source_is_an_error(apt_etc):
    (apt_etc / "sources.list").write_text(f"deb {MIRROR} trixie main\n")
    res = add_source(apt_etc)
    assert res.returncode != 0, res
    assert "no apt source for bookworm" in res.stderr, res
    assert list((apt_etc / "sources.list.d").iterdir()) == []
