"""Benchmark of the AC check (`gridc.runtime.ac_check`): time per (scenario, step) snapshot.

One invocation:

1. solves `models/ieee33_operation.grid` (study operation: 3 scenarios × 24 h, 33 buses,
   islands in two scenarios) with the check switched off, then times
   `ac_check(compiled, dataset)` on its result — the whole check as `gridc solve` runs
   it: reading the injections off the solved balance, the power flow, the dataset
   variables, the violations table and the summary;
2. times the power flow alone (`power_flow`) on the same snapshots stacked k times
   (k = 1, 10, 100: 72 to 7,200 snapshots solved at once), radial (backward/forward
   sweep), and with the five tie lines of the feeder closed (meshed: Newton-Raphson),
   to show how the vectorised solvers scale with the number of snapshots.

Every time is the best of `--repeat` runs. It prints milliseconds per call and
microseconds per snapshot.

    python bench/ac_check.py
    python bench/ac_check.py --repeat 3 --stack 1 10
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "ieee33_operation.grid"


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall time of `repeat` calls [s] and the last call's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - started)
    return best, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stack", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args(argv)

    import gridc
    from gridc.runtime.ac_check import ac_check, flow_inputs, power_flow

    problem = gridc.compile(gridc.load(MODEL), study="operation")
    started = time.perf_counter()
    result = problem.solve(ac_check=False)
    solve_s = time.perf_counter() - started
    if not result.ok:
        print(f"the solve ended {result.status.value}", file=sys.stderr)
        return 1
    ds = result.dataset
    snapshots = ds.sizes["scenario"] * ds.sizes["time"]
    print(f"{MODEL.name}: {ds.sizes['scenario']} scenarios x {ds.sizes['time']} steps = "
          f"{snapshots} snapshots, {ds.sizes['bus']} buses, {ds.sizes['line']} lines "
          f"(solved in {solve_s:.1f} s)")
    seconds, check = best_of(args.repeat, lambda: ac_check(problem.compiled, ds))
    s = check.summary
    print(f"whole check       {1e3 * seconds:8.1f} ms  {1e6 * seconds / snapshots:8.1f} us/snapshot"
          f"  (sweep {s['methods']['sweep']}, newton {s['methods']['newton']}, "
          f"verdict {s['verdict']})")

    net, inputs = flow_inputs(problem.compiled, ds)
    ties = np.array([ln.normally_open for ln in problem.index.network.lines])
    meshed = dict(inputs, on=inputs["on"] | ties)  # every tie closed, outages kept
    print(f"{'power flow':<12} {'snapshots':>9} {'ms/call':>9} {'us/snapshot':>12} "
          f"{'iterations':>10}")
    for label, base in (("radial", inputs), ("meshed", meshed)):
        for k in args.stack:
            stacked = {key: np.tile(value, (k, 1)) for key, value in base.items()}
            seconds, flow = best_of(args.repeat, partial(power_flow, net, **stacked))
            n = snapshots * k
            steps = flow.iterations["newton" if label == "meshed" else "sweep"]
            failed = int((flow.method == -1).sum())
            print(f"{label:<12} {n:>9} {1e3 * seconds:>9.1f} {1e6 * seconds / n:>12.1f} "
                  f"{steps:>10}" + (f"  ({failed} not converged)" if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
