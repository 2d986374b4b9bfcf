"""Median and range per configuration, and the ratios of medians vsw / Linux bridge and
vsw / OVS, as a text table (and the raw runs as JSON for docs/performance.md)."""
import statistics


def spread(values):
    """'median (min-max)' of a list of floats, two decimals."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def table(results, switches):
    """results: {(kind, switch): [run dicts]}. Returns a Markdown table, one row per path kind
    (pasted as is into docs/performance.md)."""
    kinds = sorted({k for k, _ in results}, key=["tap", "afpacket"].index)
    head = ["path"] + [f"{s} Gbit/s median (range)" for s in switches] + \
        ["vsw/linux-bridge", "vsw/ovs", "vsw cycles/packet median", "vsw bytes/packet median",
         "csum errors"]
    rows = [head]
    for kind in kinds:
        med = {}
        row = [kind]
        for s in switches:
            gbps = [r["gbps"] for r in results[(kind, s)]]
            med[s] = statistics.median(gbps)
            row.append(spread(gbps))
        for ref in ("linux-bridge", "ovs"):
            row.append(f"{med['vsw'] / med[ref]:.2f}" if med.get(ref) else "-")
        cpp = [r["vsw_cycles_per_packet"] for r in results[(kind, "vsw")]]
        row.append(f"{statistics.median(cpp):.0f}")
        bpp = [r["vsw_bytes_per_packet"] for r in results[(kind, "vsw")]]
        row.append(f"{statistics.median(bpp):.0f}")
        errors = sum(v for s in switches for r in results[(kind, s)]
                     for counters in r["csum_errors"].values() for v in counters.values())
        row.append(str(errors))
        rows.append(row)
    rows.insert(1, ["---"] * len(head))
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)
