#!/usr/bin/env bash
# daemon/quickstart.sh — THE run command (README "Quick start"): installs what is missing
# (apt-get), builds, installs vswitchd/vswctl under /usr/local and starts the daemon with the
# default topology (configs/default.json: bridge br0 with tap port tap0 = interface vsw-tap0).
# Under systemd it installs and starts vswitchd.service (the unit meson generates from
# configs/vswitchd.service.in, ExecStart=/usr/local/sbin/vswitchd for the default prefix);
# elsewhere (containers) it starts the daemon in the background with the same paths. Afterwards
# `vswctl show` answers. The Debian package (debian/, README) is the other way to install.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart.sh needs root (apt-get, tap interfaces): sudo $0" >&2
  exit 1
fi
source tests/deps.sh
vsw_install_packages $VSW_BUILD_PACKAGES iproute2

BUILD=${VSW_BUILD_DIR:-build}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD"
ninja -C "$BUILD" daemon/vswitchd cli/vswctl
install -D -m 0755 "$BUILD/daemon/vswitchd" /usr/local/sbin/vswitchd
install -D -m 0755 "$BUILD/cli/vswctl" /usr/local/bin/vswctl
install -D -m 0644 configs/default.json /etc/vsw/default.json

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  install -D -m 0644 "$BUILD/vswitchd.service" /etc/systemd/system/vswitchd.service
  systemctl daemon-reload
  systemctl enable --now vswitchd.service
  systemctl restart vswitchd.service
else
  pkill -x vswitchd && sleep 1 || true
  mkdir -p /run/vsw /var/lib/vsw /var/log
  setsid /usr/local/sbin/vswitchd --config /etc/vsw/default.json \
    --socket /run/vsw/vswitchd.sock --run-dir /run/vsw --state-file /var/lib/vsw/state.json \
    >>/var/log/vswitchd.log 2>&1 < /dev/null &
  echo "vswitchd started without systemd (pid $!), log: /var/log/vswitchd.log"
fi
for _ in $(seq 100); do
  if /usr/local/bin/vswctl show >/dev/null 2>&1; then
    /usr/local/bin/vswctl show
    exit 0
  fi
  sleep 0.1
done
echo "vswitchd did not answer on /run/vsw/vswitchd.sock; see the log above" >&2
exit 1
