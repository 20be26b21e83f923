#!/bin/sh
# Set up (once) and run every check: lint, types, tests. Works on a fresh machine.
set -eu
cd "$(dirname "$0")/.."
VENV="${GRIDC_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e '.[test]'
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
"$VENV/bin/pytest" "$@"
