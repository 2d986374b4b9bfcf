"""Sends Ethernet frames of test stations (source 02:00:00:00:00:xx) on some interfaces and records what arrives on others, with scapy
(python3-scapy), for the VLAN system tests. Run inside the namespace holding the interfaces:

    ip netns exec NS /usr/bin/python3 -m tests.support.vlan_frames SPEC.json

SPEC: {"listen": [ifname, ...], "send": [[ifname, hex_frame], ...], "expect": N, "timeout": S}.
Starts a sniffer on every listened interface (scapy restores 802.1Q tags the kernel moved into
packet auxdata), sends the frames once every sniffer runs, stops when N frames arrived in total
or after S seconds, and prints {ifname: [hex_frame, ...]} as JSON (without the frames the
interface sent itself)."""
import json
import sys
import threading
import time

from scapy.all import AsyncSniffer, conf, sendp  # noqa: E402


def main(path):
    spec = json.load(open(path))
    got = {i: [] for i in spec["listen"]}
    # A sniffer sees its own interface's transmissions too: they count, and are removed below.
    expect = spec["expect"] + sum(1 for i, _ in spec["send"] if i in got)
    total = [0]
    done = threading.Event()
    lock = threading.Lock()

    def keep(ifname):
        def cb(pkt):
            raw = bytes(pkt).hex()
            if raw[12:22] != "0200000000":  # not a test station (e.g. the kernel's IPv6 MLD)
                return
            with lock:
                got[ifname].append(raw)
                total[0] += 1  # own transmissions count too: callers expect them
                if total[0] >= expect:
                    done.set()
        return cb

    bound = [threading.Event() for _ in spec["listen"]]
    sniffers = [AsyncSniffer(iface=i, prn=keep(i), store=False, started_callback=e.set)
                for i, e in zip(spec["listen"], bound)]
    for s in sniffers:
        s.start()
    for e in bound:  # started_callback: the capture socket is open
        if not e.wait(10):
            raise SystemExit("sniffers did not start")
    for ifname, frame in spec["send"]:
        sendp(bytes.fromhex(frame), iface=ifname, verbose=False)
    done.wait(spec["timeout"])
    # Isolation checks need a window in which a frame that should not arrive would: 0.3 s more.
    time.sleep(0.3)
    for s in sniffers:
        s.stop()
    # A sniffer also sees what its own interface sent: take those out (once per send).
    for ifname, frame in spec["send"]:
        if ifname in got and frame in got[ifname]:
            got[ifname].remove(frame)
    print(json.dumps(got))


if __name__ == "__main__":
    conf.verb = 0
    main(sys.argv[1])
