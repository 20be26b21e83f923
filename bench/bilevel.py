"""Benchmark of the bi-level method (issue 5) against the extensive form, on the seed-000
resilience case (models/ieee33_resilience.grid, study method1 / method1_pso).

One invocation, on this machine:

1. the extensive form of `method1` (compile + HiGHS, one thread, the study's 1 % gap,
   a time limit): wall time, incumbent, bound;
2. PSO (`method1_pso`'s swarm or the one given) with the lower level on a local Dask
   cluster of 1 worker, then of 2 workers: wall time, best cost, MILPs solved,
   throughput (scenario MILPs per second, overall and after the first iteration,
   which carries each worker's one-off compile of the scenario problems). The two
   runs must find the same plan and cost (same seed): the bench checks it.

It prints PSO time / extensive time, PSO cost / extensive incumbent, the PSO cost's
gap to the extensive bound, and the 2-worker / 1-worker throughput ratio next to the
machine's own 2-process CPU scaling measured just before and after (`cpu_scaling`:
on a shared machine the ratio cannot exceed what the other jobs leave).

    python bench/bilevel.py --quick        # reduced case, ~9 min on 2 quiet cores
    python bench/bilevel.py                # the full case: hours (see docs/performance.md)
    python bench/bilevel.py --quick --json results.json
    python bench/bilevel.py --k 4 --particles 6 --iterations 5   # full data, small swarm

`--quick` (reduced configuration, written into a temporary copy of the model): method1's
scenarios clustered into k = 2 typical days instead of 4, the paper's swarm of 12
particles for 3 iterations instead of 15, extensive time limit 600 s. (The swarm size
sets the batch of each iteration, 2 MILPs a plan: with 6 particles the batches are too
small to keep two workers busy up to the iteration barrier; see docs/performance.md.)
`--mess-candidates "1, 31"` also cuts the MESS connection points (the lower level's
cost grows quickly with them).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
CASE = "ieee33_resilience.grid"


def prepare(directory: Path, k: int | None, mess_candidates: str | None) -> Path:
    """A copy of the case (and what it imports) with the reduced settings applied."""
    shutil.copy(MODELS / CASE, directory / CASE)
    shutil.copy(MODELS / "ieee33.grid", directory / "ieee33.grid")
    shutil.copytree(MODELS / "data", directory / "data")
    path = directory / CASE
    text = path.read_text(encoding="utf-8")
    if k is not None:
        text, n = re.subn(r"(scenarios typhoons from history [^\n]*kmeans\(k = )\d+",
                          rf"\g<1>{k}", text)
        assert n == 1, "cannot find the k-means clustering of method1's scenarios"
    if mess_candidates is not None:
        text, n = re.subn(r"(invest mess : mobile_storage \{.*?\n  candidates )\[[^\]]*\]",
                          rf"\g<1>[{mess_candidates}]", text, flags=re.S)
        assert n == 1, "cannot find the MESS candidates in the case"
    path.write_text(text, encoding="utf-8")
    return path


def _busy(seconds: float) -> int:
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(10_000):
            n += 1
    return n


def cpu_scaling(seconds: float = 5.0) -> float:
    """Work two busy processes get done together / what one gets done alone: the
    ceiling of the 2-worker throughput ratio on this machine *right now* (other jobs
    on a shared machine take their share)."""
    import multiprocessing as mp

    one = _busy(seconds)
    with mp.get_context("spawn").Pool(2) as pool:
        two = sum(pool.map(_busy, [seconds, seconds]))
    return two / one


def extensive(path: Path, time_limit: float) -> dict[str, Any]:
    import gridc
    from gridc.runtime.problem import Problem

    started = time.perf_counter()
    problem = Problem.from_ir(gridc.load(path), study="method1")
    result = problem.solve(time_limit=time_limit, threads=1)
    wall = time.perf_counter() - started
    m = problem.model
    return {"status": result.status.value, "objective": result.objective,
            "bound": result.bound, "gap": result.gap, "wall_s": wall,
            "compile_s": problem.compiled.compile_s, "vars": int(m.nvars),
            "cons": int(m.ncons)}


def pso(path: Path, workers: int, particles: int | None, iterations: int | None,
        seed: int | None) -> dict[str, Any]:
    import gridc
    from gridc.compiler.core.study import resolve_study
    from gridc.runtime.executor import DaskExecutor
    from gridc.runtime.strategies.bilevel import pso_settings, solve_pso

    model = gridc.load(path)
    settings = pso_settings(resolve_study(model, "method1_pso"), particles, iterations, seed)
    marks: list[tuple[float, int]] = []

    def mark(info: Any, ev: Any) -> None:
        marks.append((time.perf_counter(), ev.solves))
        print(f"    {workers}w iteration {info.iteration}/{info.iterations}: best "
              f"{info.best_score:,.0f} CNY, {ev.solves} MILPs, {ev.hits} cache hits",
              flush=True)

    started = time.perf_counter()
    with DaskExecutor(n_workers=workers) as ex:
        up = time.perf_counter()
        run = solve_pso(path, "method1_pso", ex, model=model, settings=settings,
                        on_iteration=mark)
    ev = run.evaluator
    steady = None
    if len(marks) > 1 and marks[-1][0] > marks[0][0]:
        steady = (marks[-1][1] - marks[0][1]) / (marks[-1][0] - marks[0][0])
    best = run.best
    return {"workers": workers, "particles": settings.particles,
            "iterations": settings.iterations, "seed": settings.seed,
            "cluster_start_s": up - started, "wall_s": run.wall_s,
            "objective": best.score if best is not None else None,
            "plan": repr(best.plan.key()) if best is not None else None,
            "plans": ev.plans_solved, "milps": ev.solves, "cache_hits": ev.hits,
            "compile_s": ev.compile_s, "solve_s": ev.solve_s,
            "milps_per_s": run.evaluations_per_s, "milps_per_s_after_first": steady,
            "history": run.result.history}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the reduced configuration")
    ap.add_argument("--k", type=int, help="typical days (quick: 2)")
    ap.add_argument("--mess-candidates", help="MESS connection points, e.g. '1, 31'")
    ap.add_argument("--particles", type=int, help="swarm size (quick: 12)")
    ap.add_argument("--iterations", type=int, help="PSO iterations (quick: 3)")
    ap.add_argument("--seed", type=int, help="PSO seed (default: the study's)")
    ap.add_argument("--time-limit", type=float, help="extensive form (quick: 600 s)")
    ap.add_argument("--skip-extensive", action="store_true")
    ap.add_argument("--json", help="also write the measurements to this file")
    args = ap.parse_args(argv)
    if args.quick:
        args.k = args.k or 2
        args.particles = args.particles or 12
        args.iterations = args.iterations or 3
        args.time_limit = args.time_limit or 600.0
    warnings.filterwarnings("ignore")
    out: dict[str, Any] = {"config": {k: v for k, v in vars(args).items() if k != "json"}}
    with tempfile.TemporaryDirectory(prefix="gridc-bilevel-") as tmp:
        path = prepare(Path(tmp), args.k, args.mess_candidates)
        if not args.skip_extensive:
            print("extensive form (method1) ...", flush=True)
            out["extensive"] = extensive(path, args.time_limit or 3600.0)
            print(f"  {out['extensive']}", flush=True)
        out["cpu_scaling_before"] = cpu_scaling()
        for w in (1, 2):
            print(f"PSO on a local cluster of {w} worker(s) ...", flush=True)
            out[f"pso_{w}w"] = pso(path, w, args.particles, args.iterations, args.seed)
        out["cpu_scaling_after"] = cpu_scaling()
    one, two = out["pso_1w"], out["pso_2w"]
    same = one["plan"] == two["plan"] and one["objective"] == two["objective"]
    rows = [("PSO, 1 worker", one["wall_s"], one["objective"]),
            ("PSO, 2 workers", two["wall_s"], two["objective"])]
    ext = out.get("extensive")
    if ext is not None:
        rows.insert(0, (f"extensive ({ext['status']}, bound {ext['bound'] or 0:,.0f})",
                        ext["wall_s"], ext["objective"]))
    print("\n| run | wall [s] | cost [CNY] |\n| --- | ---: | ---: |")
    for name, wall, cost in rows:
        print(f"| {name} | {wall:.1f} | {cost:,.0f} |" if cost is not None
              else f"| {name} | {wall:.1f} | - |")
    ratios: dict[str, float | None] = {
        "throughput_2w_over_1w": two["milps_per_s"] / one["milps_per_s"],
        "throughput_2w_over_1w_after_first": (
            two["milps_per_s_after_first"] / one["milps_per_s_after_first"]
            if one["milps_per_s_after_first"] and two["milps_per_s_after_first"] else None)}
    if ext is not None and ext["objective"]:
        ratios["pso_time_over_extensive"] = two["wall_s"] / ext["wall_s"]
        ratios["pso_cost_over_extensive"] = two["objective"] / ext["objective"]
        if ext["bound"]:
            ratios["pso_gap_to_bound"] = (two["objective"] - ext["bound"]) / two["objective"]
    out["ratios"] = ratios
    out["same_plan_1w_2w"] = same
    print(f"\nthroughput 1 worker {one['milps_per_s']:.3f} MILPs/s, 2 workers "
          f"{two['milps_per_s']:.3f} MILPs/s")
    for k, v in ratios.items():
        print(f"{k}: {'-' if v is None else f'{v:.3f}'}")
    print(f"same plan and cost with 1 and 2 workers: {same}")
    print(f"machine: two busy processes do {out['cpu_scaling_before']:.2f}x (before) / "
          f"{out['cpu_scaling_after']:.2f}x (after) the work of one: the ceiling of the "
          "throughput ratio while other jobs share the cores")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
