"""Who gets onto the control socket: the operator always (idle clients at the limit make room),
members of --socket-group without root, nobody else."""
import json
import os
import socket
import subprocess
import tempfile

import pytest

from tests.support import paths
from tests.support.vswitchd import Vswitchd, read_line

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def open_dir():
    """A work directory every user may traverse (pytest's tmp_path is root-only)."""
    d = tempfile.mkdtemp(prefix="vswt-sock-")
    os.chmod(d, 0o755)
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


def vswctl_as_nobody(d, *args):
    return subprocess.run(NOBODY + [str(paths.VSWCTL), "--socket", d.socket, *args],
                          capture_output=True, text=True, timeout=30)


def test_operator_gets_in_past_64_idle_clients(vswitchd):
    d = vswitchd
    idle = []
    try:
        for _ in range(64):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.socket)
            idle.append(s)
        # Every slot is taken by a client that says nothing; the operator is served anyway.
        res = d.vsctl("show", timeout=10)
        assert res.returncode == 0
        # The longest-idle client (the first) made room and was told why.
        idle[0].settimeout(10)
        reply = json.loads(read_line(idle[0]))
        assert reply["error"]["data"]["errc"] == "unavailable"
        assert "client limit (64)" in reply["error"]["message"]
        assert idle[0].recv(1) == b""
    finally:
        for s in idle:
            s.close()


def test_socket_group_lets_its_members_in(open_dir):
    d = Vswitchd(workdir=open_dir, extra_args=["--socket-group", "nogroup"])
    d.start()
    try:
        st = os.stat(d.socket)
        assert st.st_gid == 65534 and (st.st_mode & 0o777) == 0o660
        res = vswctl_as_nobody(d, "show")
        assert res.returncode == 0, res.stderr
    finally:
        d.stop()


def test_without_socket_group_other_users_are_refused(open_dir):
    d = Vswitchd(workdir=open_dir)
    d.start()
    try:
        res = vswctl_as_nobody(d, "show")
        assert res.returncode != 0
        assert "ermission denied" in res.stderr, res.stderr
    finally:
        d.stop()


def test_unknown_socket_group_is_a_clear_start_error(open_dir):
    d = Vswitchd(workdir=open_dir, extra_args=["--socket-group", "no-such-group-vsw"])
    d.start(expect_ready=False)
    assert d.proc.wait(timeout=20) != 0
    assert "--socket-group=no-such-group-vsw: no such group" in d.log()
    assert not os.path.exists(d.socket)
