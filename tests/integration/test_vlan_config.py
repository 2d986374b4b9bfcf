"""VLAN settings and mirrors through vswctl: clear errors for bad input (nothing changes), shown
in port-show / show / list-mirrors, saved and restored across a restart, part of config-show and
apply (a VLAN change is one set-port action, a second apply changes nothing)."""
import json


def ports(d, *names):
    d.vsctl("add-br", "br0")
    for n in names:
        d.vsctl("add-port", "br0", n, "--type", "loopback")


def test_bad_vlan_input_is_refused_and_changes_nothing(vswitchd):
    d = vswitchd
    ports(d, "l1", "l2", "l3")
    d.vsctl("set-port", "l1", "--tag", "10")
    before = d.result("config.show")
    for args, words in [(["--tag", "4095"], "4095"), (["--tag", "0x10"], "--tag"),
                        (["--trunks", "10,20"], "access port"),
                        (["--vlan-mode", "hybrid"], "hybrid"),
                        (["--vlan-mode", "trunk", "--tag", "5"], "trunk port has no tag"),
                        (["--trunks", "10,,20"], "--trunks")]:
        r = d.vsctl("set-port", "l1", *args, check=False)
        assert r.returncode in (1, 2) and words in r.stderr, (args, r.stderr)
    r = d.vsctl("add-port", "br0", "l4", "--type", "loopback", "--vlan-mode", "native-tagged",
                check=False)
    assert r.returncode == 2 and "needs a tag" in r.stderr
    assert d.vsctl("set-port", "l1", check=False).returncode == 1
    assert d.result("config.show") == before
    for args, words in [(["--select-src-port", "l2", "--output-port", "l2"], "cannot also"),
                        (["--select-src-port", "nope", "--output-port", "l3"], "nope"),
                        (["--output-port", "l3"], "selects nothing"),
                        (["--select-vlan", "5000", "--output-port", "l3"], "5000")]:
        r = d.vsctl("add-mirror", "br0", "m", *args, check=False)
        assert r.returncode == 2 and words in r.stderr, (args, r.stderr)
    d.vsctl("add-mirror", "br0", "m", "--select-src-port", "l1", "--output-port", "l3")
    r = d.vsctl("add-mirror", "br0", "m", "--select-src-port", "l2", "--output-port", "l3",
                check=False)
    assert r.returncode == 2 and "already has a mirror" in r.stderr
    r = d.vsctl("add-mirror", "nobr", "m", "--select-src-port", "l2", "--output-port", "l3",
                check=False)
    assert r.returncode == 2 and "nobr" in r.stderr


def test_vlan_settings_and_mirrors_are_shown_saved_and_applied(daemon_factory, tmp_path):
    d = daemon_factory()
    d.start()
    ports(d, "l1", "l2", "l3", "mon")
    d.vsctl("set-port", "l1", "--tag", "10")
    d.vsctl("set-port", "l2", "--trunks", "10,20")
    d.vsctl("set-port", "l3", "--vlan-mode", "native-untagged", "--tag", "20")
    d.vsctl("add-mirror", "br0", "m0", "--select-src-port", "l1", "l2", "--select-vlan", "10,20",
            "--output-port", "mon")
    assert "vlan: access tag=10" in d.vsctl("port-show", "l1").stdout
    assert "vlan: trunk trunks=10,20" in d.vsctl("show").stdout
    assert "select_src_port: l1,l2" in d.vsctl("list-mirrors").stdout
    cfg = d.result("config.show")
    d.stop()
    d.start()  # restored from the state file
    assert d.result("config.show") == cfg
    assert d.result("mirror.list", {"bridge": "br0"})[0]["select_vlan"] == [10, 20]
    # apply: the running configuration round-trips; a VLAN change is one set-port.
    f = tmp_path / "topo.json"
    f.write_text(d.vsctl("config-show").stdout)
    assert d.vsctl("apply", f).stdout.strip() == "no changes"
    topo = json.loads(f.read_text())
    topo["bridges"][0]["ports"][0]["tag"] = 30
    topo["bridges"][0]["mirrors"][0]["select_vlan"] = [30]
    f.write_text(json.dumps(topo))
    out = d.vsctl("apply", f).stdout
    assert "set-port l1 vlan_mode=access tag=30" in out and "add-port" not in out, out
    assert "add-mirror br0 m0" in out
    assert d.vsctl("apply", f).stdout.strip() == "no changes"
    # Deleting the output port deletes the mirror; clearing the tag clears the settings.
    d.vsctl("del-port", "mon")
    assert d.result("mirror.list", {}) == []
    d.vsctl("set-port", "l1", "--tag", "none")
    assert d.result("port.show", {"name": "l1"})["vlan_mode"] == "none"
    assert "mirrors" not in d.result("config.show")["bridges"][0]
