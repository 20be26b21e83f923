#!/bin/sh
# Set up (once) and run the main job: solve the shipped model with the embedded HiGHS solver.
set -eu
cd "$(dirname "$0")/.."
VENV="${GRIDC_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e .
"$VENV/bin/gridc" solve models/ieee33_operation.grid --out out/ieee33_operation "$@"
