"""One measurement: iperf3 from the client namespace to the server namespace of a path, with the
receiving kernels' checksum error counters read before and after.

Checksum errors: `nstat -asz TcpInCsumErrors UdpInCsumErrors` (absolute values, history file
untouched) in both namespaces; a run is only valid when neither counter moved (a switch that
forwards frames with bad checksums would show here when the receiver verifies them).
"""
import json
import subprocess

from shell import sh, wait_until

PORT = 5301
CSUM_COUNTERS = ("TcpInCsumErrors", "UdpInCsumErrors")


def csum_errors(ns):
    """{counter: absolute value} in namespace `ns`."""
    out = sh(f"ip netns exec {ns} nstat -asz {' '.join(CSUM_COUNTERS)}").stdout
    values = {c: 0 for c in CSUM_COUNTERS}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] in values:
            values[fields[0]] = int(fields[1])
    return values


def _listening(ns):
    return str(PORT) in sh(f"ip netns exec {ns} ss -Hltn sport = :{PORT}").stdout


def iperf3(ep, seconds, udp=False):
    """Runs one iperf3 test over Endpoints `ep`. Returns {"gbps", "retransmits" (TCP) or
    "lost_percent" (UDP), "csum_errors": {ns: {counter: delta}}}."""
    before = {ns: csum_errors(ns) for ns in (ep.server_ns, ep.client_ns)}
    server = f"ip netns exec {ep.server_ns} iperf3 -s -1 -p {PORT}"
    srv = subprocess.Popen(server, shell=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _listening(ep.server_ns), 10, "the iperf3 server to listen")
        mode = "-u -b 0 -l 1448" if udp else ""
        res = sh(f"ip netns exec {ep.client_ns} iperf3 -c {ep.server_addr} -p {PORT} "
                 f"-t {seconds} {mode} -J", check=False, timeout=seconds + 60)
        report = json.loads(res.stdout) if res.stdout.strip() else {}
        if res.returncode != 0 or "error" in report:
            raise RuntimeError(f"iperf3 failed: {report.get('error', res.stderr)}")
        srv.wait(timeout=20)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
    end = report["end"]
    out = {}
    if udp:
        received = end.get("sum_received", end["sum"])  # receiver side, lost datagrams excluded
        out["gbps"] = received["bits_per_second"] / 1e9
        out["lost_percent"] = end["sum"]["lost_percent"]
    else:
        out["gbps"] = end["sum_received"]["bits_per_second"] / 1e9
        out["retransmits"] = end["sum_sent"].get("retransmits", 0)
    after = {ns: csum_errors(ns) for ns in before}
    out["csum_errors"] = {ns: {c: after[ns][c] - before[ns][c] for c in CSUM_COUNTERS}
                          for ns in before}
    return out
