#!/usr/bin/env bash
# tests/deps.sh — installs what building and testing vsw needs on Debian 12 (apt-get), only
# when something is missing. Sourced by daemon/quickstart.sh and tests/run_all.sh.
set -euo pipefail

VSW_BUILD_PACKAGES="meson ninja-build g++ pkg-config libboost-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev"
VSW_TEST_PACKAGES="python3 python3-pytest iproute2 iputils-ping iperf3 ethtool procps
  dpdk dpdk-dev valgrind libbenchmark-dev socat"
# The VM tests (tests/vm/): QEMU, and what tests/vm/build_guest.py runs to pack the guest.
VSW_TEST_PACKAGES="$VSW_TEST_PACKAGES qemu-system-x86 cpio kmod"
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
