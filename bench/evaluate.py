"""Benchmark of the out-of-sample evaluation (issue 16) on the resilience case: the
method1 plan (docs/case-resilience.md, or `--plan OUT` of a solved study) scored on the
events of the typhoon history, one run, on this machine.

1. compile the study over the events and split it into one problem per event (timed);
   with `--per-event N`, N of those events (spread over the history) solved in this
   process with HiGHS' defaults and with the fixed-plan MIP options
   (`solver.FIXED_PLAN_MIP`), CPU seconds best of `--repeat`, and both costs checked to
   be within the gap of the better of the two bounds;
2. solve the first `--sample` event problems on a local Dask cluster of 1 worker, then
   of 2 workers, `--repeat` times each (best of N): throughput in events per second
   and the 2-worker / 1-worker ratio, next to the machine's own 2-process CPU scaling
   measured just before (`bench/bilevel.py: cpu_scaling`; other jobs on a shared
   machine take their share). Both runs must give the same numbers: checked.
3. with `--full`, every event on 2 workers, end to end (`evaluate`: compile, split,
   solve, statistics), as `gridc evaluate --workers 2` runs it;
4. with `--floor N`, what bounds that time on N events (`floor`): CPU of each MIP, of
   its LP relaxation, and of the MIP started from its own optimum.

The load average (`os.getloadavg`) is printed before and after each part.

    python bench/evaluate.py --sample 16 --repeat 1           # throughput only
    python bench/evaluate.py --sample 16 --repeat 2 --full    # and all 120 events
    python bench/evaluate.py --plan out/method1 --json bench_eval.json
    python bench/evaluate.py --study paper_plan --per-event 8 --repeat 3 --sample 0
    python bench/evaluate.py --study paper_plan --floor 120 --sample 0   # what bounds it
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "models" / "ieee33_resilience.grid"
sys.path.insert(0, str(Path(__file__).resolve().parent))


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def method1_plan(folder: str | None) -> Any:
    """The plan to score: a solved study's, else method1's of docs/case-resilience.md
    (measured 2026-11-22: 19-20 and 27-28 reinforced, two MESS #3, one RB1 at bus 31)."""
    from gridc.compiler.core.plan import Plan

    if folder:
        from gridc.cli.evaluate import read_plan

        return read_plan(folder)[0]
    return Plan(reinforced=("19-20", "27-28"), mess={"MESS1": 0, "MESS2": 0, "MESS3": 2},
                packs={("RB1", "31"): 1})


def per_event(model: Any, study: str, plan: Any, scenarios: list[Any], n: int,
              repeat: int) -> dict[str, Any]:
    """CPU seconds (best of `repeat`) of `n` events spread over the history, solved in
    this process with HiGHS' defaults and with `FIXED_PLAN_MIP`; both costs must be
    within the gap of the better of the two (valid) bounds."""
    from gridc.compiler.core.study import resolve_study
    from gridc.runtime.backend.split import solve_subproblem
    from gridc.runtime.evaluate import compile_events, split_events

    gap = resolve_study(model, study).solve.gap
    picked = [scenarios[int(i)] for i in np.linspace(0, len(scenarios) - 1, n).round()]
    problems = split_events(compile_events(model, study, picked), plan)
    rows = []
    for sp in problems:
        row: dict[str, Any] = {"event": sp.name}
        for fast in (False, True):
            best = None
            for _ in range(repeat):
                began = time.process_time()
                res, _ = solve_subproblem(sp, gap=gap, threads=1, fast=fast)
                cpu = time.process_time() - began
                best = cpu if best is None else min(best, cpu)
            key = "fast" if fast else "default"
            row[key] = {"cpu_s": best, "status": res.status.value, "cost": res.objective,
                        "bound": res.bound}
        d, f = row["default"], row["fast"]
        ok = None not in (d["cost"], f["cost"], d["bound"], f["bound"])
        best = max(d["bound"], f["bound"]) if ok else 0.0  # both bounds are valid
        row["agree"] = bool(ok and f["cost"] - best <= gap * abs(f["cost"]) + 1e-6
                            and d["cost"] - best <= gap * abs(d["cost"]) + 1e-6)
        print(f"{sp.name}: default {d['cpu_s']:.2f} s CPU ({d['status']}, {d['cost']:.2f}), "
              f"fixed-plan options {f['cpu_s']:.2f} s ({f['status']}, {f['cost']:.2f}); "
              f"agree {row['agree']}; {load()}", flush=True)
        rows.append(row)
    total = {k: sum(r[k]["cpu_s"] for r in rows) for k in ("default", "fast")}
    print(f"{n} events: {total['default']:.1f} s CPU with defaults, {total['fast']:.1f} s "
          f"with the fixed-plan options ({total['default'] / total['fast']:.2f}x)", flush=True)
    return {"events": rows, "total_cpu_s": total, "repeat": repeat}


def floor(model: Any, study: str, plan: Any, scenarios: list[Any], n: int) -> dict[str, Any]:
    """What bounds the evaluation's time, on `n` events spread over the history (all of
    them when n ≥ their number), in this process, one HiGHS thread, CPU seconds: each
    event's MIP as `gridc evaluate` solves it, its LP relaxation alone (presolve + dual
    simplex: no MIP-based evaluation costs less), and the MIP again with its own optimum
    as a start (what a perfect primal heuristic would leave)."""
    from dataclasses import replace

    import highspy

    from gridc.compiler.core.study import resolve_study
    from gridc.runtime.backend.solver import FIXED_PLAN_MIP, highs_options
    from gridc.runtime.backend.split import subproblem_highs
    from gridc.runtime.evaluate import compile_events, split_events

    opts = {**highs_options(None, resolve_study(model, study).solve.gap, 1, None, False),
            **FIXED_PLAN_MIP}
    picked = scenarios if n >= len(scenarios) else \
        [scenarios[int(i)] for i in np.linspace(0, len(scenarios) - 1, n).round()]
    rows = []
    for sp in split_events(compile_events(model, study, picked), plan):
        cpu: dict[str, float] = {}
        lp = subproblem_highs(replace(sp, integrality=np.zeros_like(sp.integrality)), opts)
        began = time.process_time()
        lp.run()
        cpu["lp"] = time.process_time() - began
        mip = subproblem_highs(sp, opts)
        began = time.process_time()
        mip.run()
        cpu["mip"] = time.process_time() - began
        best = highspy.HighsSolution()
        best.col_value = list(mip.getSolution().col_value)
        best.value_valid = True
        again = subproblem_highs(sp, opts)
        again.setSolution(best)
        began = time.process_time()
        again.run()
        cpu["mip_from_optimum"] = time.process_time() - began
        rows.append({"event": sp.name, **cpu})
        print(f"{sp.name}: MIP {cpu['mip']:.2f} s CPU, LP relaxation {cpu['lp']:.2f} s, "
              f"MIP from its optimum {cpu['mip_from_optimum']:.2f} s; {load()}", flush=True)
    total = {k: sum(r[k] for r in rows) for k in ("mip", "lp", "mip_from_optimum")}
    print(f"{len(rows)} events: MIPs {total['mip']:.1f} s CPU, LP relaxations "
          f"{total['lp']:.1f} s, MIPs from their optimum {total['mip_from_optimum']:.1f} s",
          flush=True)
    return {"events": rows, "total_cpu_s": total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", help="a solved study's output folder (default: method1's plan)")
    ap.add_argument("--study", default="method1")
    ap.add_argument("--sample", type=int, default=16, help="events for the throughput runs")
    ap.add_argument("--repeat", type=int, default=1, help="best of N for the throughput runs")
    ap.add_argument("--full", action="store_true", help="also every event on 2 workers")
    ap.add_argument("--per-event", type=int, default=0,
                    help="CPU per event, default vs fixed-plan options, on N events")
    ap.add_argument("--floor", type=int, default=0,
                    help="on N events (120: all), CPU of the MIP, of its LP relaxation and "
                         "of the MIP from its own optimum")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args()

    from bilevel import cpu_scaling

    import gridc
    from gridc.runtime.evaluate import (
        compile_events,
        event_scenarios,
        history_of,
        solve_events,
        split_events,
    )
    from gridc.runtime.evaluate_report import evaluate
    from gridc.runtime.executor import DaskExecutor, make_executor

    out: dict[str, Any] = {"load_start": load()}
    print(out["load_start"], flush=True)
    model = gridc.load(CASE)
    plan = method1_plan(args.plan) if args.study != "paper_plan" or args.plan else None
    if plan is None:
        from gridc.runtime.evaluate import study_plan

        plan = study_plan(model, args.study)
    scenarios = event_scenarios(model, history_of(model, args.study), args.study)
    if args.per_event:
        out["per_event"] = per_event(model, args.study, plan, scenarios, args.per_event,
                                     args.repeat)
    if args.floor:
        out["floor"] = floor(model, args.study, plan, scenarios, args.floor)
    if not args.sample:
        out["load_end"] = load()
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
        return
    sample = scenarios[:args.sample]
    from gridc.compiler.core.study import resolve_study

    # the study's gap, as `gridc evaluate` solves each event (HiGHS' own 0.01 % doubles
    # the CPU: the sixth session's 1 / 2-worker figures were measured so by mistake)
    gap = resolve_study(model, args.study).solve.gap
    out["gap"] = gap
    started = time.perf_counter()
    compiled = compile_events(model, args.study, sample)
    out["compile_sample_s"] = time.perf_counter() - started
    started = time.perf_counter()
    problems = split_events(compiled, plan)
    out["split_sample_s"] = time.perf_counter() - started
    del compiled
    print(f"{len(sample)} events compiled in {out['compile_sample_s']:.1f} s, split in "
          f"{out['split_sample_s']:.2f} s; each solved to the study's gap ({gap}); {load()}",
          flush=True)
    out["cpu_scaling"] = cpu_scaling()
    print(f"2-process CPU scaling now: {out['cpu_scaling']:.2f}; {load()}", flush=True)
    numbers: dict[int, list[Any]] = {}
    for workers in (1, 2):
        best = None
        for _ in range(args.repeat):
            # a local cluster of 1 and of 2 worker processes: the same path both times
            with DaskExecutor(n_workers=workers) as ex:
                run = solve_events(problems, ex, gap=gap)
            numbers[workers] = [(o.event, o.status, o.daily) for o in run.outcomes]
            best = run.solve_wall_s if best is None else min(best, run.solve_wall_s)
        assert best is not None
        out[f"solve_{workers}w_s"] = best
        out[f"events_per_s_{workers}w"] = len(problems) / best
        print(f"{workers} worker(s): {len(problems)} events in {best:.1f} s (best of "
              f"{args.repeat}), {len(problems) / best:.3f} events/s; {load()}", flush=True)
    out["same_numbers"] = numbers[1] == numbers[2]
    out["speedup_2w"] = out["events_per_s_2w"] / out["events_per_s_1w"]
    print(f"2 workers / 1 worker throughput: {out['speedup_2w']:.2f} (same numbers: "
          f"{out['same_numbers']})", flush=True)
    if args.full:
        started = time.perf_counter()
        with make_executor(workers=2) as ex:
            ev = evaluate(model, args.study, plan, ex)
        out["full_wall_s"] = time.perf_counter() - started
        s = ev.summary()
        out["full"] = {"events": s["history"]["events"], "timings": s["timings"],
                       "statuses": s["statuses"],
                       "annual_operation": s["out_of_sample"]["annual_operation"]}
        print(f"all {s['history']['events']} events on 2 workers: {out['full_wall_s']:.1f} s "
              f"(compile {s['timings']['compile_s']:.1f}, solve {s['timings']['solve_wall_s']:.1f})"
              f"; statuses {s['statuses']}; {load()}", flush=True)
    out["load_end"] = load()
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
