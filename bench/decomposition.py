"""Extensive form against Benders decomposition on the resilience case, side by side.

    python bench/decomposition.py                       # k = 4, 20 and every event
    python bench/decomposition.py --sizes 4 --cap 300   # one size, 300 s per run
    python bench/decomposition.py --workers 1,2 --json out.json
    python bench/decomposition.py --sizes 4,all --seeded   # every event from the k = 4 plan
    python bench/decomposition.py --sizes all --workers none   # the extensive form only

For each scenario count k (k-means typical days of the history; `all` = every event,
`cluster none`) the study `method1` of models/ieee33_resilience.grid is compiled ONCE and
then solved by:

* the extensive form (the registry's default strategy for the model, one HiGHS thread),
* `decompose` on 1 and on 2 Dask workers (`runtime.strategies.decomposition`; 1 worker =
  the serial executor, no Dask),
* with `--seeded`, `decompose` again on each larger size, started from the plan the first
  size's decomposition found (`SolveSettings.start`: cuts at that plan first, its exact cost
  on the larger size as the first incumbent),

each with the study's 1 % gap and the same time cap (`--cap`, seconds). Reported per run:
status, wall time, the certified gap at the end, the lower bound and the incumbent (CNY),
and for the decomposition the time at which the certified gap first reached 1 % (from
its iteration history). Machine load (`os.getloadavg`) is printed before and after each
run: the numbers mean nothing without it. Every figure in docs/performance.md
("Decomposition") comes from this script.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from gridc.compiler import compile_model
from gridc.dsl import ir, load
from gridc.runtime.backend.warmstart import start_from
from gridc.runtime.executor import make_executor
from gridc.runtime.strategies import decomposition as D
from gridc.runtime.strategies.registry import SolveSettings, solve

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "ieee33_resilience.grid"
STUDY = "method1"
GAP = 0.01


def with_k(model: ir.Model, k: str) -> ir.Model:
    """The model with its history clustered into k typical days (`all`: every event)."""
    sets = []
    for s in model.scenario_sets:
        if s.name == "typhoons" and s.history is not None:
            h = s.history
            upd: dict[str, Any] = ({"method": "none", "k": len(h.events)} if k == "all"
                                   else {"k": int(k)})
            s = s.model_copy(update={"history": h.model_copy(update=upd)})
        sets.append(s)
    return model.model_copy(update={"scenario_sets": tuple(sets)})


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def run_extensive(compiled: Any, cap: float) -> dict[str, Any]:
    began, before = time.perf_counter(), load_avg()
    r = solve(compiled, {}, None, SolveSettings(gap=GAP, time_limit=cap, threads=1))
    return {"method": "extensive", "strategy": r.summary.get("strategy"),
            "status": r.status.value, "wall_s": time.perf_counter() - began,
            "gap": r.gap, "bound": r.bound, "incumbent": r.objective, "to_gap_s": None,
            "load_before": before, "load_after": load_avg()}


def run_decomposition(compiled: Any, cap: float, workers: int,
                      start: Any = None) -> dict[str, Any]:
    """`start`: a solution dataset (another size's plan) offered as the first plan."""
    began, before = time.perf_counter(), load_avg()
    values = None if start is None else start_from(compiled.model, start)
    with make_executor(workers) as ex:
        r = D.decompose(compiled, {}, SolveSettings(gap=GAP, time_limit=cap, seed=1,
                                                    start=values), executor=ex)
    cert = r.summary["decomposition"]
    to_gap = next((h["s"] for h in cert["history"] if h.get("incumbent") is not None
                   and h.get("lower_bound") is not None
                   and (h["incumbent"] - h["lower_bound"]) / abs(h["incumbent"]) <= GAP),
                  None)
    seeded = "" if start is None else ", from the k = 4 plan"
    return {"method": f"decompose ({workers} worker{'s' if workers > 1 else ''}{seeded})",
            "strategy": "decompose", "status": r.status.value,
            "wall_s": time.perf_counter() - began, "gap": r.gap, "bound": r.bound,
            "incumbent": r.objective, "to_gap_s": to_gap, "iterations": cert["iterations"],
            "cuts": cert["cuts"], "plan_gap": cert["plan_gap"],
            "rounds": [{"phase": "start" if h.get("start") else h.get("phase") or "integer",
                        **{k: h.get(k) for k in ("s", "lower_bound", "incumbent", "hot",
                                                 "lp_block_s", "mip_block_s")}}
                       for h in cert["history"]],
            "load_before": before, "load_after": load_avg(), "dataset": r.dataset}


def fmt(v: float | None, pattern: str) -> str:
    return "–" if v is None else pattern.format(v)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="4,20,all", help="k values, comma-separated")
    p.add_argument("--workers", default="1,2",
                   help="decomposition worker counts ('none': the extensive form only)")
    p.add_argument("--cap", type=float, default=900.0, help="seconds per run")
    p.add_argument("--no-extensive", action="store_true")
    p.add_argument("--seeded", action="store_true",
                   help="also start each larger size from the first size's decomposed plan")
    p.add_argument("--unseeded-off", action="store_true",
                   help="with --seeded: skip the runs without the start plan")
    p.add_argument("--json", help="write the rows here")
    args = p.parse_args(argv)
    base = load(MODEL)
    rows: list[dict[str, Any]] = []
    plan: Any = None
    for k in args.sizes.split(","):
        began = time.perf_counter()
        compiled = compile_model(with_k(base, k), study=STUDY)
        compile_s = time.perf_counter() - began
        n = compiled.index.coords["scenario"].size
        print(f"k = {k}: {n} scenarios, {compiled.model.nvars:,} columns, "
              f"compile {compile_s:.1f} s (load {load_avg()})", flush=True)
        runs: list[tuple[int, Any]] = [] if args.no_extensive else [(0, None)]  # 0: EF
        workers_list = ([] if args.workers == "none"
                        else [int(w) for w in args.workers.split(",")])
        if not (args.seeded and args.unseeded_off and plan is not None):
            runs += [(w, None) for w in workers_list]
        if args.seeded and plan is not None:
            runs += [(w, plan) for w in workers_list]
        for workers, start in runs:
            got = run_extensive(compiled, args.cap) if workers == 0 else \
                run_decomposition(compiled, args.cap, workers, start)
            dataset = got.pop("dataset", None)
            if plan is None and dataset is not None and got["incumbent"] is not None:
                plan = dataset  # the first size's plan: the start of the larger sizes
            row = {"k": k, "scenarios": n, "compile_s": compile_s, **got}
            rows.append(row)
            print(f"  {row['method']:<24} {row['status']:<20} {row['wall_s']:7.1f} s  "
                  f"gap {fmt(row['gap'], '{:.2%}')}  bound {fmt(row['bound'], '{:,.0f}')}  "
                  f"incumbent {fmt(row['incumbent'], '{:,.0f}')}  "
                  f"1 % at {fmt(row['to_gap_s'], '{:.0f} s')}  "
                  f"load {row['load_before']} -> {row['load_after']}", flush=True)
            for h in row.get("rounds", []):  # where the time went, round by round
                print(f"    {h['phase']:<8}{' hot' if h['hot'] else '    '} at {h['s']:6.1f} s  "
                      f"bound {fmt(h['lower_bound'], '{:,.0f}')}  "
                      f"incumbent {fmt(h['incumbent'], '{:,.0f}')}  "
                      f"block LPs {fmt(h['lp_block_s'], '{:.1f} s')}  "
                      f"block MIPs {fmt(h['mip_block_s'], '{:.1f} s')}", flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
