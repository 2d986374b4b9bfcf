#!/usr/bin/env bash
# tests/run_all.sh — THE test command (README "Quick start"): installs what is missing, builds,
# and runs every test: unit (GoogleTest via meson), system gtests (root), integration and system
# tests (pytest, root). Ends with one line "N passed, N failed" summing every test case that ran.
# Usage: sudo tests/run_all.sh [pytest -k expression]
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=${VSW_BUILD_DIR:-$REPO/build}
export VSW_BUILD_DIR=$BUILD

if [ "$(id -u)" -ne 0 ]; then
  echo "run_all.sh needs root (apt-get, network namespaces): sudo $0" >&2
  exit 1
fi
source tests/deps.sh
vsw_install_packages $VSW_BUILD_PACKAGES $VSW_TEST_PACKAGES || exit 1

[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" || exit 1
ninja -C "$BUILD" || exit 1

results=$BUILD/test-results
rm -rf "$results" && mkdir -p "$results"

# GoogleTest cases: every gtest binary writes a JSON report we sum up below.
GTEST_OUTPUT="json:$results/" meson test -C "$BUILD" --suite unit --suite system \
  --print-errorlogs --num-processes 1 --timeout-multiplier 3
meson_rc=$?

selector=()
[ $# -gt 0 ] && selector=(-k "$1")
/usr/bin/python3 -m pytest -p no:cacheprovider -v --junitxml="$results/pytest.xml" \
  "${selector[@]}" tests/integration tests/system
pytest_rc=$?

/usr/bin/python3 - "$results" "$meson_rc" <<'PY'
import glob, json, os, sys, xml.etree.ElementTree as ET
results, meson_rc = sys.argv[1], int(sys.argv[2])
passed = failed = 0
reports = glob.glob(os.path.join(results, "*.json"))
for path in reports:
    with open(path) as f:
        r = json.load(f)
    failed += r.get("failures", 0) + r.get("errors", 0)
    passed += r.get("tests", 0) - r.get("failures", 0) - r.get("errors", 0) - r.get("disabled", 0)
if meson_rc != 0 and failed == 0:
    failed += 1  # a test binary crashed or timed out before writing its report
try:
    root = ET.parse(os.path.join(results, "pytest.xml")).getroot()
    for suite in root.iter("testsuite"):
        total = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        passed += total - bad - skipped
        failed += bad + skipped  # nothing may be skipped as root: a skip counts as a failure
except (OSError, ET.ParseError):
    failed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
