#!/usr/bin/env bash
# bench/tap_path_bench.sh — end-to-end TCP throughput between two network namespaces:
#   A) through vsw: nsA --tap-- vswitchd br0 --tap-- nsB
#   B) through a Linux bridge: nsC --veth-- bridge (in its own namespace) --veth-- nsD
# Runs interleaved (A B A B ...), ROUNDS times, SECONDS each, and prints median and range of
# each and the ratio of medians. Offloads stay at their defaults. Needs root; cleans up after
# itself. Usage: bench/tap_path_bench.sh [build-dir] [rounds] [seconds] [tap|afpacket]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-5}
SECS=${3:-10}
KIND=${4:-tap}
P=vtb$$
WORK=$(mktemp -d)
SOCK=$WORK/vsw.sock

cleanup() {
  set +e
  [ -n "${VSW_PID:-}" ] && kill "$VSW_PID" 2>/dev/null && wait "$VSW_PID" 2>/dev/null
  for n in A B C D BR; do ip netns del ${P}$n 2>/dev/null; done
  ip link del ${P}va 2>/dev/null; ip link del ${P}vb 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BUILD/daemon/vswitchd" --socket "$SOCK" --state-file "$WORK/state.json" --run-dir "$WORK/run" \
  --no-hugepages --workers 1 >"$WORK/vswitchd.log" 2>&1 &
VSW_PID=$!
for _ in $(seq 100); do "$BUILD/cli/vswctl" --socket "$SOCK" show >/dev/null 2>&1 && break; sleep 0.1; done
ctl() { "$BUILD/cli/vswctl" --socket "$SOCK" "$@"; }
ctl add-br br0
for x in A B; do ip netns add ${P}$x; ip -n ${P}$x link set lo up; done
i=1
for x in A B; do
  if [ "$KIND" = tap ]; then
    ctl add-port br0 t$x --type tap -o ifname=${P}t$x
    ip link set ${P}t$x netns ${P}$x
    dev=${P}t$x
  else
    ip link add ${P}v${x,,} type veth peer name eth0 netns ${P}$x
    ip link set ${P}v${x,,} up
    ctl add-port br0 v$x --type afpacket -o ifname=${P}v${x,,}
    dev=eth0
  fi
  ip -n ${P}$x addr add 10.88.0.$i/24 dev $dev
  ip -n ${P}$x link set $dev up
  i=$((i + 1))
done
# Linux bridge reference, entirely inside namespaces.
ip netns add ${P}BR
ip -n ${P}BR link add sw0 type bridge
ip -n ${P}BR link set sw0 up
i=1
for x in C D; do
  ip netns add ${P}$x
  ip -n ${P}$x link set lo up
  ip -n ${P}BR link add p$x type veth peer name eth0 netns ${P}$x
  ip -n ${P}BR link set p$x master sw0
  ip -n ${P}BR link set p$x up
  ip -n ${P}$x addr add 10.89.0.$i/24 dev eth0
  ip -n ${P}$x link set eth0 up
  i=$((i + 1))
done
ip netns exec ${P}A ping -c 2 -W 2 10.88.0.2 >/dev/null
ip netns exec ${P}C ping -c 2 -W 2 10.89.0.2 >/dev/null

run() {  # server-ns client-ns server-addr -> Gbit/s
  ip netns exec "$1" iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
  local srv=$!
  sleep 0.3
  ip netns exec "$2" iperf3 -c "$3" -p 5301 -t "$SECS" -J |
    /usr/bin/python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
  wait $srv || true
}
vsw=(); lnx=()
for r in $(seq "$ROUNDS"); do
  vsw+=("$(run ${P}B ${P}A 10.88.0.2)")
  lnx+=("$(run ${P}D ${P}C 10.89.0.2)")
  echo "round $r: vsw($KIND) ${vsw[-1]} Gbit/s, linux-bridge ${lnx[-1]} Gbit/s"
done
/usr/bin/python3 - "${vsw[*]}" "${lnx[*]}" "$KIND" <<'PY'
import statistics, sys
v = [float(x) for x in sys.argv[1].split()]
l = [float(x) for x in sys.argv[2].split()]
mv, ml = statistics.median(v), statistics.median(l)
print(f"vsw ({sys.argv[3]} ports): median {mv:.2f} Gbit/s (range {min(v):.2f}-{max(v):.2f})")
print(f"linux bridge (veth):      median {ml:.2f} Gbit/s (range {min(l):.2f}-{max(l):.2f})")
print(f"ratio vsw / linux bridge: {mv / ml:.2f}")
PY
"$BUILD/cli/vswctl" --socket "$SOCK" dp-show || true
