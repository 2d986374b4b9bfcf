#!/usr/bin/env bash
# tests/hw/intel_nic_check.sh — runs traffic through vsw's Intel driver on a real NIC, then gives
# the NIC back to its kernel driver. For a machine that has an 82599 (or an 82576); CI has none,
# so it only runs this against vsw's 82599 model (tests/system/test_hw_check_script.py).
#
#   ns vswhw-a: PEER (a kernel interface cabled to the NIC port, e.g. the other port of a
#               dual-port X520 with a loopback cable), 10.77.0.1/24
#        |  wire
#   nic0: --type ixgbe|igb -o pci=PCI (vsw's driver)  ==br0==  tap hwtap  --  ns vswhw-b: 10.77.0.2/24
#
# Checks: ping with a payload pattern both ways, iperf3 TCP both ways, 8 UDP flows (RSS over
# rx-queues=2: both queues must receive), and that the driver's counters saw the traffic. At exit,
# always: del-port (vsw restores the driver the NIC had), vswitchd stopped, PEER back in the
# host's namespace, the namespaces removed; then it checks the NIC is bound to its driver again.
#
# Usage: sudo tests/hw/intel_nic_check.sh PCI PEER [ixgbe|igb]
#   env: VSW_BUILD (default build), VSW_DRIVER=vfio|uio (default vfio; uio needs hugepages, which
#        the script reserves), VSW_RX_QUEUES (default 2).
#   Against the model instead of a NIC: VSW_MODEL=1 tests/hw/intel_nic_check.sh - vswhwwire
#   (PCI is ignored; PEER is the name given to the model's wire tap, vswitchd-model runs).
# Exit status 0 only when every check passed.
set -euo pipefail

PCI=${1:?usage: intel_nic_check.sh PCI PEER [ixgbe|igb]}
PEER=${2:?usage: intel_nic_check.sh PCI PEER [ixgbe|igb]}
TYPE=${3:-ixgbe}
BUILD=${VSW_BUILD:-build}
DRIVER=${VSW_DRIVER:-vfio}
QUEUES=${VSW_RX_QUEUES:-2}
MODEL=${VSW_MODEL:-0}
NS_A=vswhw-a
NS_B=vswhw-b
TAP=vswhwtap
RUN=$(mktemp -d /tmp/vswhw-XXXXXX)
VSWITCHD=$BUILD/daemon/vswitchd
[ "$MODEL" = 1 ] && VSWITCHD=$BUILD/tests/models/vswitchd-model
VSWCTL=("$BUILD/cli/vswctl" --socket "$RUN/vswitchd.sock")
PID=
FAILED=0

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; FAILED=1; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "run as root (binding a PCI device and namespaces need it)"
[ -x "$VSWITCHD" ] || die "$VSWITCHD not built (meson setup $BUILD && ninja -C $BUILD)"
case $TYPE in ixgbe | igb) ;; *) die "type must be ixgbe or igb, not $TYPE" ;; esac
for tool in ip ping iperf3; do command -v $tool > /dev/null || die "$tool is missing"; done
ORIG_DRIVER=
if [ "$MODEL" != 1 ]; then
  [ -e "/sys/bus/pci/devices/$PCI" ] || die "no PCI device $PCI (see lspci -D)"
  ip link show "$PEER" > /dev/null 2>&1 || die "no interface $PEER"
  [ -e "/sys/bus/pci/devices/$PCI/driver" ] &&
    ORIG_DRIVER=$(basename "$(readlink "/sys/bus/pci/devices/$PCI/driver")")
fi

cleanup() {
  set +e
  if [ -n "$PID" ]; then
    "${VSWCTL[@]}" del-port nic0 > /dev/null 2>&1
    kill "$PID" 2> /dev/null
    wait "$PID" 2> /dev/null
  fi
  if [ "$MODEL" != 1 ] && ip netns pids $NS_A > /dev/null 2>&1; then
    ip -n $NS_A link set "$PEER" netns 1 2> /dev/null
  fi
  ip netns del $NS_A 2> /dev/null
  ip netns del $NS_B 2> /dev/null
  if [ "$MODEL" != 1 ]; then
    now=
    [ -e "/sys/bus/pci/devices/$PCI/driver" ] &&
      now=$(basename "$(readlink "/sys/bus/pci/devices/$PCI/driver")")
    if [ "$now" = "$ORIG_DRIVER" ]; then
      say "$PCI is bound to '${now:-no driver}' again"
    else
      fail "$PCI is bound to '${now:-no driver}', it had '${ORIG_DRIVER:-no driver}'"
    fi
  fi
  rm -rf "$RUN"
  if [ $FAILED = 0 ]; then say "all checks passed"; else say "some checks FAILED"; fi
  exit $((FAILED == 0 ? 0 : 1))
}
trap cleanup EXIT

# Waits up to $1 seconds for the command that follows to succeed.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@" > /dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}
# A field of `vswctl --json port-show nic0`, top level or in its details.
port_field() {
  "${VSWCTL[@]}" --json port-show nic0 | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d.get(sys.argv[1], d.get("details", {}).get(sys.argv[1], "")))' "$1"
}

if [ "$DRIVER" = uio ] && [ "$(cat /proc/sys/vm/nr_hugepages)" -lt 64 ]; then
  echo 64 > /proc/sys/vm/nr_hugepages
fi
say "vswitchd ($VSWITCHD) in $RUN"
"$VSWITCHD" --run-dir "$RUN" --state-file "$RUN/state.json" --ignore-state \
  > "$RUN/vswitchd.log" 2>&1 &
PID=$!
wait_for 20 test -S "$RUN/vswitchd.sock" || die "vswitchd did not start: $(cat "$RUN/vswitchd.log")"
"${VSWCTL[@]}" add-br br0 > /dev/null

if [ "$MODEL" = 1 ]; then
  "${VSWCTL[@]}" add-port br0 nic0 --type ixgbe-model -o "wire=$PEER" -o "rx-queues=$QUEUES"
else
  for dev in /sys/bus/pci/devices/"$PCI"/net/*; do  # vsw refuses a NIC whose interface is up
    [ -e "$dev" ] && ip link set "$(basename "$dev")" down
  done
  "${VSWCTL[@]}" add-port br0 nic0 --type "$TYPE" -o "pci=$PCI" -o "driver=$DRIVER" \
    -o "rx-queues=$QUEUES"
fi
"${VSWCTL[@]}" add-port br0 hwtap --type tap -o "ifname=$TAP" > /dev/null
ip netns add $NS_A
ip netns add $NS_B
ip link set "$PEER" netns $NS_A
ip link set $TAP netns $NS_B
ip -n $NS_A addr add 10.77.0.1/24 dev "$PEER"
ip -n $NS_B addr add 10.77.0.2/24 dev $TAP
ip -n $NS_A link set "$PEER" up
ip -n $NS_B link set $TAP up
ip -n $NS_A link set lo up
ip -n $NS_B link set lo up

say "link"
link_up() { [ "$(port_field link)" = up ]; }
wait_for 15 link_up || fail "nic0 link did not come up"
"${VSWCTL[@]}" port-show nic0

say "ping with payload pattern a5, both ways"
ip netns exec $NS_A ping -c 10 -i 0.2 -w 15 -p a5 10.77.0.2 || fail "ping a -> b"
ip netns exec $NS_B ping -c 10 -i 0.2 -w 15 -p 5a 10.77.0.1 || fail "ping b -> a"

say "iperf3 TCP, both ways"
ip netns exec $NS_B iperf3 -s -D -1 --logfile "$RUN/iperf3-s1.log"
wait_for 5 ip netns exec $NS_B sh -c "ss -ltn | grep -q :5201"
ip netns exec $NS_A iperf3 -c 10.77.0.2 -t 5 || fail "iperf3 a -> b"
ip netns exec $NS_B iperf3 -s -D -1 --logfile "$RUN/iperf3-s2.log"
wait_for 5 ip netns exec $NS_B sh -c "ss -ltn | grep -q :5201"
ip netns exec $NS_A iperf3 -c 10.77.0.2 -t 5 -R || fail "iperf3 b -> a"

say "8 UDP flows a -> b (RSS)"
ip netns exec $NS_B iperf3 -s -D -1 --logfile "$RUN/iperf3-s3.log"
wait_for 5 ip netns exec $NS_B sh -c "ss -ltn | grep -q :5201"
ip netns exec $NS_A iperf3 -c 10.77.0.2 -u -b 20M -P 8 -t 3 || fail "iperf3 UDP flows"
per_queue=$(port_field rx_packets_per_queue)
say "rx packets per queue: $per_queue"
if [ "$QUEUES" -ge 2 ]; then
  busy=$(printf '%s' "$per_queue" | tr -c '0-9' ' ' | awk '{ n = 0; for (i = 1; i <= NF; ++i) if ($i > 0) ++n; print n }')
  [ "${busy:-0}" -ge 2 ] || fail "RSS: fewer than 2 rx queues received ($per_queue)"
fi
"${VSWCTL[@]}" port-show nic0
"${VSWCTL[@]}" stats
