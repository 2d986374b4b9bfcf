"""vswitchd as a real process, driven through vswctl and raw JSON-RPC: every method, output and
exit codes, apply idempotence, persistence across restarts, corrupt state files."""
import json
import os
import subprocess

import pytest

from tests.support import paths


def loopback(d, bridge, name, *opts):
    args = ["add-port", bridge, name, "--type", "loopback"]
    for o in opts:
        args += ["-o", o]
    return d.vsctl(*args)


def test_every_method_answers(vswitchd):
    d = vswitchd
    methods = {m["method"] for m in d.result("daemon.methods")}
    expected = {"daemon.version", "daemon.methods", "bridge.add", "bridge.del", "bridge.set",
                "bridge.list", "port.add", "port.del", "port.list", "port.show", "fdb.show",
                "fdb.flush", "stats.show", "dp.show", "config.show", "config.apply",
                "log.set_level"}
    assert expected <= methods, expected - methods
    assert d.result("daemon.version")["version"]
    d.result("bridge.add", {"name": "br0", "aging_s": 60, "max_macs": 128})
    d.result("bridge.set", {"name": "br0", "aging_s": 90})
    assert d.result("bridge.list")[0]["aging_s"] == 90
    d.result("port.add", {"bridge": "br0", "name": "lo0", "type": "loopback",
                          "options": {"ring-size": "256"}})
    assert [p["name"] for p in d.result("port.list", {"bridge": "br0"})] == ["lo0"]
    shown = d.result("port.show", {"name": "lo0"})
    assert shown["type"] == "loopback" and shown["bridge"] == "br0"
    assert shown["options"] == {"ring-size": "256"}
    assert d.result("fdb.show", {"bridge": "br0"}) == []
    d.result("fdb.flush", {"bridge": "br0"})
    assert d.result("stats.show", {"port": "lo0"})[0]["rx_packets"] == 0
    dp = d.result("dp.show")
    assert len(dp["workers"]) == 1 and dp["workers"][0]["rx_queues"] == [{"port": "lo0", "queue": 0}]
    assert d.result("config.show")["bridges"][0]["ports"][0]["name"] == "lo0"
    d.result("log.set_level", {"spec": "info,dp=debug"})
    d.result("port.del", {"name": "lo0"})
    d.result("bridge.del", {"name": "br0"})
    assert d.result("bridge.list") == []


def test_errors_are_jsonrpc_errors(vswitchd):
    d = vswitchd
    assert d.rpc("no.such")["error"]["code"] == -32601
    assert d.rpc("bridge.add", {"name": "br0", "bogus": 1})["error"]["code"] == -32602
    assert d.rpc("bridge.add", {})["error"]["code"] == -32602
    err = d.rpc("bridge.del", {"name": "nope"})["error"]
    assert err["code"] == -32002 and err["data"]["errc"] == "not_found"
    d.result("bridge.add", {"name": "br0"})
    assert d.rpc("bridge.add", {"name": "br0", "aging_s": 77})["error"]["data"]["errc"] == "already_exists"
    err = d.rpc("port.add", {"bridge": "br0", "name": "x", "type": "warp-drive"})["error"]
    assert err["data"]["errc"] == "not_found" and "loopback" in err["message"]
    err = d.rpc("port.add", {"bridge": "br0", "name": "x", "type": "loopback",
                             "options": {"colour": "red"}})["error"]
    assert err["data"]["errc"] == "invalid_argument" and "colour" in err["message"]
    assert d.rpc("bridge.add", {"name": "br1", "aging_s": 1})["error"]["data"]["errc"] == "invalid_argument"
    # Nothing half-created by the failures.
    assert [b["name"] for b in d.result("bridge.list")] == ["br0"]
    assert d.result("port.list") == []


def test_vswctl_exit_codes_and_messages(vswitchd, tmp_path):
    d = vswitchd
    assert d.vsctl("add-br", "br0").returncode == 0
    res = d.vsctl("add-br", "br0", check=False)
    assert res.returncode == 2 and "br0" in res.stderr and "already" in res.stderr
    assert d.vsctl("add-br", "br0", "--may-exist").returncode == 0
    assert d.vsctl("del-br", "ghost", check=False).returncode == 2
    assert d.vsctl("del-br", "ghost", "--if-exists").returncode == 0
    assert d.vsctl("add-port", "br0", "p", "--type", "loopback", "-o", "novalue",
                   check=False).returncode == 1
    assert d.vsctl("frobnicate", check=False).returncode == 1
    missing = subprocess.run([str(paths.VSWCTL), "--socket", str(tmp_path / "none.sock"), "show"],
                             capture_output=True, text=True)
    assert missing.returncode == 3 and "none.sock" in missing.stderr


def test_show_tree_and_lists(vswitchd):
    d = vswitchd
    d.vsctl("add-br", "br0")
    d.vsctl("add-br", "br1", "--aging", "60")
    loopback(d, "br0", "a")
    loopback(d, "br1", "b", "mtu=9000")
    out = d.vsctl("show").stdout
    assert "Bridge br0" in out and "Bridge br1" in out
    assert out.index("Port a") < out.index("Bridge br1") < out.index("Port b")
    assert "loopback" in out
    assert d.vsctl("list-br").stdout.split() == ["br0", "br1"]
    assert d.vsctl("list-ports", "br1").stdout.split() == ["b"]
    assert "9000" in d.vsctl("port-show", "b").stdout
    stats = d.vsctl("stats", json_out=True)
    assert {s["port"] for s in stats} == {"a", "b"}


TOPO = {"bridges": [
    {"name": "br0", "aging_s": 120, "ports": [
        {"name": "l1", "type": "loopback"},
        {"name": "l2", "type": "loopback", "options": {"ring-size": "512"}}]},
    {"name": "br1", "max_macs": 1024, "ports": [{"name": "l3", "type": "loopback"}]},
]}


def test_apply_is_declarative_and_idempotent(vswitchd, tmp_path):
    d = vswitchd
    d.vsctl("add-br", "old")
    loopback(d, "old", "gone")
    f = tmp_path / "topo.json"
    f.write_text(json.dumps(TOPO))
    first = d.vsctl("apply", f).stdout
    assert "add-br br0" in first and "del-br old" in first
    cfg = d.result("config.show")
    assert [b["name"] for b in cfg["bridges"]] == ["br0", "br1"]
    assert d.vsctl("apply", f).stdout.strip() == "no changes"
    # Change one option and one bridge setting: only those change.
    TOPO2 = json.loads(json.dumps(TOPO))
    TOPO2["bridges"][0]["ports"][1]["options"]["ring-size"] = "1024"
    TOPO2["bridges"][1]["max_macs"] = 2048
    f.write_text(json.dumps(TOPO2))
    dry = d.vsctl("apply", f, "--dry-run").stdout
    assert "l2" in dry and "l1" not in dry
    assert d.result("port.show", {"name": "l2"})["options"]["ring-size"] == "512"
    d.vsctl("apply", f)
    assert d.result("port.show", {"name": "l2"})["options"]["ring-size"] == "1024"
    assert d.vsctl("apply", f).stdout.strip() == "no changes"
    # Round trip through config-show.
    (tmp_path / "back.json").write_text(d.vsctl("config-show").stdout)
    assert d.vsctl("apply", tmp_path / "back.json").stdout.strip() == "no changes"
    # An invalid file changes nothing.
    f.write_text(json.dumps({"bridges": [{"name": "br0", "ports": [{"name": "x", "type": "nope"}]}]}))
    assert d.vsctl("apply", f, check=False).returncode == 2
    assert d.result("config.show") == json.loads((tmp_path / "back.json").read_text())


def test_configuration_survives_restart(daemon_factory):
    d = daemon_factory().start()
    f = os.path.join(d.dir, "topo.json")
    with open(f, "w") as fh:
        json.dump(TOPO, fh)
    d.vsctl("apply", f)
    d.vsctl("set-br", "br1", "--aging", "45")
    before = d.result("config.show")
    with open(d.state_file) as fh:  # saved after every change, including the last one
        saved = fh.read()
    assert '"l3"' in saved and "45" in saved
    assert d.stop() == 0
    d.start()
    assert d.result("config.show") == before
    assert d.result("port.list") and len(d.result("port.list")) == 3


def test_corrupt_state_file_is_reported_and_kept(daemon_factory):
    d = daemon_factory()
    os.makedirs(d.dir, exist_ok=True)
    garbage = '{"bridges": [ {"name": "br0", '
    with open(d.state_file, "w") as fh:
        fh.write(garbage)
    d.start(expect_ready=False)
    rc = d.proc.wait(timeout=20)
    assert rc != 0
    assert "state" in d.log().lower() and d.state_file in d.log()
    with open(d.state_file) as fh:
        assert fh.read() == garbage, "corrupt state file was overwritten"


def test_config_file_applies_when_no_state(daemon_factory, tmp_path):
    topo = tmp_path / "start.json"
    topo.write_text(json.dumps(TOPO))
    d = daemon_factory(extra_args=["--config", str(topo)]).start()
    assert [b["name"] for b in d.result("bridge.list")] == ["br0", "br1"]
    assert d.stop() == 0
    # With a state file present, the state file wins over --config.
    d.start()
    d.vsctl("del-br", "br1")
    assert d.stop() == 0
    d.start()
    assert [b["name"] for b in d.result("bridge.list")] == ["br0"]


def test_default_topology_serves(daemon_factory):
    if os.geteuid() != 0:
        pytest.fail("needs root to create the default tap port")
    d = daemon_factory(extra_args=["--config", str(paths.CONFIGS / "default.json")])
    # The default tap interface name is global: make sure no other daemon holds it.
    d.start()
    out = d.vsctl("show").stdout
    assert "br0" in out and "tap0" in out
    assert d.stop() == 0
