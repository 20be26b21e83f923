"""Benchmark of the seed-001 planning model: forecast, compile, solve; cone size vs accuracy.

    python bench/css_adn.py                     # cone table + reconfiguration + case1/case2
    python bench/css_adn.py --quick             # cone table + reconfiguration + one
                                                # sub-case of each case
    python bench/css_adn.py --cone-only

Parts:

1. the polyhedral cone (`compiler.formulations.cone`): per number of levels ν, the rows and
columns one
   rotated cone costs, the guaranteed dilation (1/cos(π/2^ν))² − 1, the dilation measured on
   10,000 random directions (`planar_polygon_norm`, both stages), and what the dilation
   means for DistFlow: the largest undershoot of ℓ (≈ dilation/4 p.u. at v ≈ 1) and the
   measured loss error on the 33-bus reconfiguration at that ν;
2. the Baran–Wu reconfiguration (`models/ieee33_reconfig.grid`): compile and solve time;
3. the seed-001 cases (`models/css_adn.grid`): forecast time (once, shared by every
   sub-case), then per sub-case compile, plan-stage and full-model times, the annual cost,
   and the cone report. Each case is `gridc solve --study caseN`, timed by parts.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def cone_table(levels: list[int]) -> list[dict[str, Any]]:
    from gridc.compiler.formulations.cone import planar_polygon_norm, rotated_accuracy, rotated_rows

    rng = np.random.default_rng(0)
    ang = rng.uniform(0, 2 * np.pi, 10_000)
    rows = []
    for nu in levels:
        ratio = 1.0 / planar_polygon_norm(np.cos(ang), np.sin(ang), nu)  # ‖x‖ / t_min
        rows.append({"nu": nu, "rows": rotated_rows(nu), "columns": 4 * nu + 1,
                     "dilation": rotated_accuracy(nu),
                     "measured": float(ratio.max() ** 2 - 1.0),
                     "ell_undershoot_pu": rotated_accuracy(nu) / 4.0})
    return rows


def reconfiguration(levels: list[int]) -> list[dict[str, Any]]:
    import gridc

    model = gridc.load(ROOT / "models" / "ieee33_reconfig.grid")
    out = []
    for nu in levels:
        started = time.perf_counter()
        problem = gridc.compile(model, study="reconfig", levels=nu)
        compile_s = time.perf_counter() - started
        result = problem.solve()
        adn, cone = result.summary["network"], result.summary["cone"]
        out.append({"nu": nu, "compile_s": compile_s, "solve_s": result.timings["solve_s"],
                    "rows": problem.model.ncons, "losses_kw": result.objective,
                    "loss_error": cone["loss_error"], "open": adn["lines_open"]})
    return out


def case(study: str, subcase: str | None, time_limit: float) -> dict[str, Any]:
    import gridc
    from gridc.data.ev_forecast import forecast

    model = gridc.load(ROOT / "models" / "css_adn.grid")
    started = time.perf_counter()
    fc = forecast(model)
    forecast_s = time.perf_counter() - started
    started = time.perf_counter()
    problem = gridc.compile(model, study=study, forecast=fc, subcase=subcase)
    compile_s = time.perf_counter() - started
    result = problem.solve(time_limit=time_limit)
    return {"study": study, "subcase": subcase or "all", "forecast_s": forecast_s,
            "compile_s": compile_s, "timings": result.timings, "status": result.status.value,
            "objective": result.objective, "summary": result.summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cone-only", action="store_true")
    ap.add_argument("--time-limit", type=float, default=1200.0)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")

    print("polyhedral rotated cone (two BTN stages): size against accuracy")
    print(f"{'nu':>3} {'rows':>5} {'cols':>5} {'dilation':>10} {'measured':>10} "
          f"{'l undershoot':>13}")
    for r in cone_table([4, 6, 8, 10, 12, 14]):
        print(f"{r['nu']:>3} {r['rows']:>5} {r['columns']:>5} {r['dilation']:>10.2e} "
              f"{r['measured']:>10.2e} {r['ell_undershoot_pu']:>13.2e}")
    if args.cone_only:
        return

    print("\nBaran-Wu reconfiguration (37 switchable lines, minimum losses)")
    for r in reconfiguration([7, 10] if args.quick else [6, 8, 10, 12]):
        print(f"  nu={r['nu']:>2}: rows {r['rows']:>6,}, compile {r['compile_s']:6.2f} s, "
              f"solve {r['solve_s']:7.2f} s, losses {r['losses_kw']:8.3f} kW "
              f"(loss error {100 * r['loss_error']:+.4f} %), open {', '.join(r['open'])}")

    runs = [("case1", "S1+S3"), ("case2", "CS@S2+SCS@S3")] if args.quick else \
        [("case1", None), ("case2", None)]
    for study, sub in runs:
        r = case(study, sub, args.time_limit)
        s = r["summary"]
        t = r["timings"]
        print(f"\n{study} ({r['subcase']}): forecast {r['forecast_s']:.2f} s, compile "
              f"{r['compile_s']:.2f} s (first sub-case), solve {t.get('solve_s', math.nan):.1f} s"
              f", status {r['status']}, F = {r['objective'] / 1000:,.1f} kYuan/y")
        for row in s.get("subcases") or []:
            f_kyuan = (row["objective"] or math.nan) / 1e3
            print(f"  sub-case {row['subcase']:<14} F = {f_kyuan:>10,.1f}"
                  f" kYuan/y, EV carbon {row['carbon_t_per_year'] or math.nan:7.2f} t/y, "
                  f"{row['solve_s'] or math.nan:6.1f} s")
        plan = s.get("plan", {})
        if plan:
            ex = plan.get("exchange", {})
            se = plan.get("search", {})
            print(f"  plan stage (last sub-case): compile {plan.get('compile_s', 0):.1f} s, "
                  f"branch exchange {ex.get('evaluations')} evaluations "
                  f"{ex.get('solve_s', 0):.1f} s, branch-and-bound {se.get('solve_s', 0):.1f} s"
                  f" (gap {100 * (se.get('gap') or 0):.2f} %)")
        c = s.get("cone", {})
        if c:
            print(f"  cone: {c['cones']:,} cones, {c['rows']:,} rows, {c['cuts']} cut rounds, "
                  f"max violation {c['max_violation']:.2e}, loss error "
                  f"{100 * c['loss_error']:+.4f} %, voltage error {c['voltage_error_pu']:.1e}")


if __name__ == "__main__":
    main()
