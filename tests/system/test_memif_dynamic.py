"""VALE-like dynamic memif ports: with the bridge setting memif_dynamic, a client whose id has no
port gets one on the fly (named after its interface name), frames flow between two such clients,
and the port disappears when its client leaves. Dynamic ports are never saved."""
import json

from tests.system.test_memif import GEN_MAC, SINK_MAC, menv, result, wait_for  # noqa: F401


def port_names(d):
    return {p["name"]: p for p in d.vsctl("list-ports", "br0", json_out=True)}


def test_dynamic_ports_come_and_go_with_their_clients(daemon_factory, menv):  # noqa: F811
    d = daemon_factory(workdir=menv.dir).start()
    # Off by default: an unknown id is refused.
    d.vsctl("add-br", "br0")
    refused = menv.pktgen("--id", 7, "--mode", "rx", "--duration", 1, "--connect-timeout", 0)
    refused.communicate(timeout=30)
    assert refused.returncode != 0
    assert port_names(d) == {}

    d.vsctl("set-br", "br0", "--memif-dynamic", menv.sock)
    assert d.result("config.show")["bridges"][0]["memif_dynamic"] == menv.sock
    sink = menv.pktgen("--id", 12, "--if-name", "sink-app", "--mode", "rx", "--mac", SINK_MAC,
                       "--interrupt", "--ring-size", "16384", "--count", 5000, "--duration", 60)
    assert wait_for(lambda: "sink-app" in port_names(d)), d.log()
    row = port_names(d)["sink-app"]
    assert row["dynamic"] is True and row["type"] == "memif"
    shown = d.vsctl("port-show", "sink-app", json_out=True)
    assert shown["options"] == {"socket": menv.sock, "id": "12"}
    assert "Port sink-app" in d.vsctl("show").stdout and "dynamic: true" in d.vsctl("show").stdout
    assert wait_for(lambda: d.vsctl("port-show", "sink-app", json_out=True)["stats"]["rx_packets"] >= 1)

    gen = menv.pktgen("--id", 11, "--if-name", "gen-app", "--mode", "tx", "--mac", GEN_MAC,
                      "--dst-mac", SINK_MAC, "--count", 5000, "--rate", 10000)
    g = result(gen)
    s = result(sink)
    assert g["tx"]["frames"] == 5000
    assert s["rx"]["ok"] == 5000 and s["rx"]["corrupt"] == 0 and s["rx"]["lost"] == 0, s

    # Both clients have left: their ports go, and nothing dynamic was ever saved.
    assert wait_for(lambda: port_names(d) == {}, timeout=10), port_names(d)
    with open(d.state_file) as f:
        saved = f.read()
    assert "gen-app" not in saved and "sink-app" not in saved
    assert json.loads(saved)["bridges"][0]["memif_dynamic"] == menv.sock

    # Turning it off refuses unknown ids again; the setting survives a restart.
    assert d.stop() == 0
    d.start()
    assert d.result("bridge.list")[0]["memif_dynamic"] == menv.sock
    d.vsctl("set-br", "br0", "--memif-dynamic", "")
    late = menv.pktgen("--id", 13, "--mode", "rx", "--duration", 1, "--connect-timeout", 0)
    late.communicate(timeout=30)
    assert late.returncode != 0 and port_names(d) == {}
