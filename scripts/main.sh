#!/bin/sh
# Set up (once) and run the main job: solve the shipped resilience model with HiGHS.
set -eu
cd "$(dirname "$0")/.."
VENV="${GRIDC_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e .
# Resilience planning (seed 000): a quick Method 1 study; pass
# --studies method1,method2,method3,method4,paper_plan for the paper's Methods 1-4 and plan
# side by side (written to out/ieee33_resilience/<study>/; --all-studies: every study).
rc=0
"$VENV/bin/gridc" solve models/ieee33_resilience.grid --study quick --out out/ieee33_resilience "$@" || rc=$?
# The README's other commands call `gridc`: it lives in the virtual environment.
echo "gridc is installed in $VENV: run '. $VENV/bin/activate' to use the README's gridc commands" >&2
exit "$rc"
