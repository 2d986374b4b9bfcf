#!/usr/bin/env bash
# tests/deps.sh — installs what building and testing vsw needs on Debian 12 (apt-get), only
# when something is missing. Sourced by daemon/quickstart.sh and tests/run_all.sh.
set -euo pipefail

VSW_BUILD_PACKAGES="meson ninja-build g++ pkg-config libboost-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libpcap-dev"
VSW_TEST_PACKAGES="python3 python3-pytest iproute2 iputils-ping iperf3 ethtool procps
  dpdk dpdk-dev valgrind libbenchmark-dev socat"
# tcpdump reads back the capture files of tests/system/test_capture.py.
VSW_TEST_PACKAGES="$VSW_TEST_PACKAGES tcpdump"
# promtool (prometheus) checks the metrics endpoint; groff renders the man pages for their test.
VSW_TEST_PACKAGES="$VSW_TEST_PACKAGES prometheus groff-base"
# tests/system/test_vlan.py: scapy sends and captures tagged frames, tcpdump reads mirror output.
VSW_TEST_PACKAGES="$VSW_TEST_PACKAGES python3-scapy tcpdump"
# The VM tests (tests/vm/): QEMU, and what tests/vm/build_guest.py runs to pack the guest.
VSW_TEST_PACKAGES="$VSW_TEST_PACKAGES qemu-system-x86 cpio kmod"
# The Debian package and its tests: dpkg-buildpackage (dpkg-dev, debhelper), lintian;
# tests/vm/build_systemd_guest.py's root file system (debootstrap, mkfs.ext4 of e2fsprogs);
# systemd-analyze (systemd) verifies the unit on the host too.
VSW_TEST_PACKAGES="$VSW_TEST_PACKAGES dpkg-dev debhelper lintian debootstrap e2fsprogs systemd"
# The sanitizer and fuzz legs of tests/run_all.sh: clang 14 with its ASan/UBSan/libFuzzer
# runtimes (libclang-rt-14-dev), llvm-symbolizer (llvm) for readable reports.
VSW_SANITIZE_PACKAGES="clang libclang-rt-14-dev llvm"

vsw_install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# QEMU's igb device (the 82576 model, tests/vm/test_igb.py) arrived in QEMU 8.0; Debian 12's own
# QEMU is 7.2. Debian's bookworm-backports suite has QEMU 10. When `qemu-system-x86_64 -device
# help` lists no igb, this adds bookworm-backports to the machine's apt sources (a copy of the
# configured bookworm entry with only its suite changed: same mirror, components and keyring,
# so no mirror host is written here) and installs qemu-system-x86 and what it needs from there.
# Idempotent: nothing happens once QEMU has igb, and an existing backports entry is reused.
# VSW_APT_ETC (default /etc/apt) lets tests/system/test_deps_backports.py run the source
# handling on a scratch directory.
VSW_BACKPORTS=bookworm-backports

vsw_qemu_has_igb() {
  local devices  # captured first: grep -q ending the pipe early would fail it under pipefail
  command -v qemu-system-x86_64 >/dev/null || return 1
  devices=$(qemu-system-x86_64 -device help 2>/dev/null) || return 1
  grep -q '^name "igb"' <<< "$devices"
}

# Does any enabled apt source (one-line or deb822) already serve the backports suite?
vsw_backports_configured() {
  local f apt=${VSW_APT_ETC:-/etc/apt}
  for f in "$apt"/sources.list "$apt"/sources.list.d/*.list; do
    [ -f "$f" ] && grep -qE "^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+[[:space:]]+$VSW_BACKPORTS[[:space:]]" "$f" && return 0
  done
  for f in "$apt"/sources.list.d/*.sources; do
    [ -f "$f" ] && awk -v want="$VSW_BACKPORTS" '
      BEGIN { RS = ""; found = 0 }
      {
        suites = 0; off = 0; n = split($0, lines, "\n")
        for (i = 1; i <= n; i++) {
          if (lines[i] ~ /^[Ee]nabled:[[:space:]]*no/) off = 1
          if (lines[i] ~ /^[Ss]uites:/) {
            k = split(substr(lines[i], 8), s, /[[:space:]]+/)
            for (j = 1; j <= k; j++) if (s[j] == want) suites = 1
          }
        }
        if (suites && !off) found = 1
      }
      END { exit found ? 0 : 1 }' "$f" && return 0
  done
  return 1
}

# Writes the backports entry: the first enabled deb822 stanza whose Suites has bookworm (comments
# dropped, Suites replaced), else the first one-line `deb ... bookworm ...` entry with its suite
# replaced. Fails when neither exists.
vsw_add_backports_source() {
  local f stanza="" line="" apt=${VSW_APT_ETC:-/etc/apt}
  for f in "$apt"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    stanza=$(awk -v base=bookworm -v want="$VSW_BACKPORTS" '
      BEGIN { RS = "" }
      {
        hit = 0; off = 0; deb = 0; n = split($0, lines, "\n"); out = ""
        for (i = 1; i <= n; i++) {
          l = lines[i]
          if (l ~ /^#/) continue
          if (l ~ /^[Ee]nabled:[[:space:]]*no/) off = 1
          if (l ~ /^[Tt]ypes:.*(^|[[:space:]])deb([[:space:]]|$)/) deb = 1
          if (l ~ /^[Ss]uites:/) {
            k = split(substr(l, 8), s, /[[:space:]]+/)
            for (j = 1; j <= k; j++) if (s[j] == base) hit = 1
            l = "Suites: " want
          }
          if (l ~ /^[Tt]ypes:/) l = "Types: deb"
          out = out l "\n"
        }
        if (hit && deb && !off) { printf "%s", out; exit }
      }' "$f")
    [ -n "$stanza" ] && break
  done
  if [ -n "$stanza" ]; then
    printf '# Added by vsw tests/deps.sh: QEMU >= 8.0 (igb) for tests/vm.\n%s\n' "$stanza" \
      > "$apt/sources.list.d/vsw-$VSW_BACKPORTS.sources"
    return 0
  fi
  for f in "$apt"/sources.list "$apt"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    line=$(sed -nE "s/^[[:space:]]*(deb[[:space:]]+(\[[^]]*\][[:space:]]+)?[^[:space:]]+[[:space:]]+)bookworm([[:space:]].*)$/\1$VSW_BACKPORTS\3/p" "$f" | head -n 1)
    [ -n "$line" ] && break
  done
  if [ -n "$line" ]; then
    printf '# Added by vsw tests/deps.sh: QEMU >= 8.0 (igb) for tests/vm.\n%s\n' "$line" \
      > "$apt/sources.list.d/vsw-$VSW_BACKPORTS.list"
    return 0
  fi
  echo "tests/deps.sh: no apt source for bookworm in $apt (sources.list or" \
       "sources.list.d/*.sources) to derive $VSW_BACKPORTS from" >&2
  return 1
}

vsw_install_qemu_with_igb() {
  vsw_qemu_has_igb && return 0
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" != bookworm ]; then
    echo "tests/deps.sh: QEMU without the igb device on '$codename': install QEMU >= 8.0" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  vsw_backports_configured || vsw_add_backports_source || return 1
  echo "installing qemu-system-x86 from $VSW_BACKPORTS (QEMU >= 8.0 for -device igb)"
  apt-get update -q || return 1
  # -t: backports packages have priority 100, so apt takes them only when asked to; what
  # qemu-system-x86 needs in newer versions (qemu-system-common, -data, libraries) comes along.
  apt-get install -y -q --no-install-recommends -t "$VSW_BACKPORTS" qemu-system-x86 || return 1
  if ! vsw_qemu_has_igb; then
    echo "tests/deps.sh: qemu-system-x86 from $VSW_BACKPORTS still has no igb device" >&2
    return 1
  fi
}
