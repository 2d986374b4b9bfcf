"""Shared pytest fixtures for integration and system tests."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.support import paths  # noqa: E402
from tests.support.netns import Netns  # noqa: E402
from tests.support.vswitchd import Vswitchd  # noqa: E402


def _require_binaries():
    for b in (paths.VSWITCHD, paths.VSWCTL):
        if not b.exists():
            pytest.fail(f"{b} is not built: run meson setup build && ninja -C build")


@pytest.fixture
def vswitchd(tmp_path):
    """A started daemon (one worker) with an empty configuration; stopped at the end."""
    _require_binaries()
    d = Vswitchd(workdir=str(tmp_path))
    d.start()
    yield d
    d.stop()


@pytest.fixture
def daemon_factory(tmp_path):
    """Makes daemons with custom options; all are stopped at the end."""
    _require_binaries()
    made = []

    def make(**kw):
        kw.setdefault("workdir", str(tmp_path))
        d = Vswitchd(**kw)
        made.append(d)
        return d

    yield make
    for d in made:
        try:
            d.stop()
        except Exception:
            if d.proc and d.proc.poll() is None:
                d.proc.kill()


@pytest.fixture
def net():
    """Namespaces and links of one test; all removed at the end."""
    if os.geteuid() != 0:
        pytest.fail("system tests need root (network namespaces)")
    n = Netns()
    yield n
    n.cleanup()
