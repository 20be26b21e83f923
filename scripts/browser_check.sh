#!/bin/sh
# Render the HTML report of `gridc report` in a real browser (headless Chromium) and check
# it: no console message, every embedded picture decoded, a page that is not blank, every
# section present (tests/test_report.py, the test_browser_* tests). Meant for CI where
# chromium is installed (`apt-get install -y chromium`); fails when it is not, instead of
# skipping as the plain test run does.
set -eu
cd "$(dirname "$0")/.."
VENV="${GRIDC_VENV:-.venv}"
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 \
    && ! command -v google-chrome >/dev/null 2>&1; then
  echo "browser_check: no chromium on PATH (apt-get install -y chromium)" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
"$VENV/bin/python" -m pip install --quiet -e '.[test]'
GRIDC_REQUIRE_BROWSER=1 "$VENV/bin/pytest" tests/test_report.py -k browser "$@"
