"""`Problem`: a compiled model ready to solve — what `gridc.compile` returns.

    problem = gridc.compile(gridc.load("models/ieee33_operation.grid"))
    result = problem.solve(time_limit=60, gap=0.001)
    result.status, result.objective, result.dataset["bus_v"]

Solve options not given to `solve` fall back to the study's (`gap`,
`time_limit`, `threads`, `seed`), then to HiGHS' defaults.

`solve(progress=fn)` calls `fn(event)` with a `gridc.runtime.backend.control.SolveEvent`
as the run goes (stage, incumbent, bound, gap; from HiGHS' thread). Ctrl-C during
`solve` (in the main thread) stops the run: the result is the best solution found so
far with status `interrupted` (a second Ctrl-C raises KeyboardInterrupt at once).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import linopy
import xarray as xr
from linopy import LinearExpression

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.core.index import ModelIndex
from gridc.compiler.core.plan import Plan
from gridc.compiler.core.study import ResolvedStudy
from gridc.dsl import ir
from gridc.runtime.ac_check import enabled as ac_checks
from gridc.runtime.backend.control import ProgressFn, SolveControl, interruptible
from gridc.runtime.backend.warmstart import start_from
from gridc.runtime.evaluate import study_plan
from gridc.runtime.evaluate_report import Evaluation, evaluate
from gridc.runtime.executor import make_executor
from gridc.runtime.ioutil import atomic_write
from gridc.runtime.results import Result
from gridc.runtime.strategies.bilevel import PsoRun, pso_settings, solve_pso
from gridc.runtime.strategies.registry import SolveSettings, solve


class Problem:
    """A compiled model (one study) with its solve entry point."""

    def __init__(self, compiled: CompiledModel, parse_s: float | None = None):
        self.compiled = compiled
        self.parse_s = parse_s

    @classmethod
    def from_ir(cls, model: ir.Model, study: str | None = None, **options: Any) -> Problem:
        return cls(compile_model(model, study=study, **options))

    @property
    def model(self) -> linopy.Model:
        return self.compiled.model

    @property
    def costs(self) -> dict[str, LinearExpression]:
        return self.compiled.costs

    @property
    def index(self) -> ModelIndex:
        return self.compiled.index

    @property
    def study(self) -> ResolvedStudy:
        return self.compiled.study

    def solve(self, time_limit: float | None = None, gap: float | None = None,
              threads: int | None = None, seed: int | None = None,
              verbose: bool = False, start: xr.Dataset | None = None,
              strategy: str | None = None, progress: ProgressFn | None = None,
              node_limit: int | None = None, ac_check: bool = True,
              workers: int | None = None) -> Result:
        """Solve with `strategy` (`runtime.strategies.registry.STRATEGIES`: plain, warm, exchange;
        None or "extensive": the default for what the model contains). `start`: the
        solution dataset of a restriction of this study (e.g. the same study without one
        investment), offered to HiGHS as a MIP start. For `pso` use `solve_pso`.
        `progress`: called with each `SolveEvent` (with `verbose`, HiGHS' log comes as
        "log" events instead of on the console). `node_limit`: HiGHS' `mip_max_nodes`
        for every MIP solve of the run. `ac_check`: run the AC power flow of the solved
        plan (`gridc.runtime.ac_check`). `workers`: Dask workers of the `decompose`
        strategy (None or 1: serial). Ctrl-C: see the module docstring."""
        opts = self.study.solve
        control = SolveControl(progress, solver_log=verbose)
        settings = SolveSettings(
            time_limit=time_limit if time_limit is not None else opts.time_limit_s,
            gap=gap if gap is not None else opts.gap,
            threads=threads if threads is not None else opts.threads,
            seed=seed if seed is not None else opts.seed, verbose=verbose,
            start=None if start is None else start_from(self.model, start),
            node_limit=node_limit, control=control, workers=workers)
        asked_pso = strategy is None and opts.strategy == "pso"
        with interruptible(control), ac_checks(ac_check):
            result = solve(self.compiled, self._timings(),
                           "extensive" if asked_pso else strategy, settings)
        if control.progress_error is not None:
            result.summary["notes"].append(
                f"the progress display failed and was switched off: "
                f"{type(control.progress_error).__name__}: {control.progress_error}")
        if asked_pso:  # say so: the study asked for the bi-level search
            result.summary["notes"].append(
                "the study asks for the PSO strategy; solve() ran its extensive form "
                f"({result.summary['strategy']}); Problem.solve_pso runs the search")
        return result

    def solve_pso(self, *, workers: int | None = None, scheduler: str | None = None,
                  particles: int | None = None, iterations: int | None = None,
                  seed: int | None = None, gap: float | None = None,
                  time_limit: float | None = None, threads: int = 1,
                  allow: Sequence[str | Path] = ()) -> PsoRun:
        """The bi-level PSO over this study's plans (as `gridc solve --strategy pso`):
        `workers`/`scheduler` as on the command line (default: serial), the swarm's
        `particles`, `iterations` and `seed` (default: the study's `pso(...)`), `gap` and
        `time_limit` of each scenario MILP, `allow` the folders the model may read besides
        its own (pass what you gave `gridc.load`: the workers load the model from its file
        with the same grants). Needs the model's file."""
        path = self.study.model.path
        if not path:
            raise ValueError("the PSO's workers load the model from its file: this model "
                             "has none (load it with gridc.load)")
        settings = pso_settings(self.study, particles, iterations, seed)
        executor = make_executor(workers, scheduler)
        try:
            return solve_pso(path, self.study.name or None, executor,
                             model=self.compiled.source_model, settings=settings, gap=gap,
                             time_limit=time_limit, threads=threads, allow=allow)
        finally:
            executor.close()

    def evaluate(self, plan: Plan | Mapping[str, xr.DataArray] | None = None, *,
                 workers: int | None = None, scheduler: str | None = None,
                 cvar: float = 0.95, gap: float | None = None,
                 time_limit: float | None = None) -> Evaluation:
        """Score `plan` (default: this study's `fix` lines) on every event of the history
        the study's scenarios come from, each event its own operation problem, as
        `gridc evaluate` (`gridc.runtime.evaluate_report`): `.summary()` for the numbers,
        `.write(folder)` for events.csv and evaluation.json. `workers`/`scheduler`: where
        the events are solved (default: serially); `gap`/`time_limit` per event."""
        model, study = self.compiled.source_model, self.study.name or None
        chosen = plan if plan is not None else study_plan(model, study)
        with make_executor(workers, scheduler) as executor:
            return evaluate(model, study, chosen, executor, cvar_level=cvar, gap=gap,
                            time_limit=time_limit,
                            plan_source="given" if plan is not None else "fix lines")

    def _timings(self) -> dict[str, float]:
        timings = {"compile_s": self.compiled.compile_s}
        if self.parse_s is not None:
            timings = {"parse_s": self.parse_s, **timings}
        return timings

    def write_lp(self, path: str | Path, names: bool = False) -> None:
        """Write the model as an LP file (for inspection). By default columns are named
        x<label> and rows c<label> (linopy's labels: `model.variables.get_label_position`
        maps one back to block and coordinates); `names=True` writes the block names
        with their coordinates instead (`nodal_p(typical1,3,18)`, readable and stable,
        what the LP golden files compare), about 200× slower to write."""
        atomic_write(Path(path), lambda tmp: self.model.to_file(
            tmp, io_api="lp", progress=False, explicit_coordinate_names=names))

    def __repr__(self) -> str:
        m = self.model
        return (f"<Problem study={self.study.name or '-'} vars={m.nvars} cons={m.ncons} "
                f"binaries={m.binaries.nvars} integers={m.integers.nvars}>")
