"""`Problem`: a compiled model ready to solve — what `gridc.compile` returns.

    problem = gridc.compile(gridc.load("models/ieee33_operation.grid"))
    result = problem.solve(time_limit=60, gap=0.001)
    result.status, result.objective, result.dataset["bus_v"]

Solve options not given to `solve` fall back to the study's (`gap`,
`time_limit`, `threads`, `seed`), then to HiGHS' defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import linopy
import xarray as xr
from linopy import LinearExpression

from gridc.compiler import CompiledModel, compile_model
from gridc.compiler.index import ModelIndex
from gridc.compiler.study import ResolvedStudy
from gridc.dsl import ir
from gridc.runtime.ioutil import atomic_write
from gridc.runtime.results import Result, build_result
from gridc.runtime.warmstart import solve_warm, start_from


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
              verbose: bool = False, start: xr.Dataset | None = None) -> Result:
        """`start`: the solution dataset of a restriction of this study (e.g. the same
        study without one investment), offered to HiGHS as a MIP start."""
        opts = self.study.solve
        if self.compiled.extension is not None:  # ADN planning / loss studies (seed 001)
            from gridc.runtime.adn import solve_planning
            return solve_planning(
                self.compiled, self._timings(),
                time_limit=time_limit if time_limit is not None else opts.time_limit_s,
                gap=gap if gap is not None else opts.gap,
                threads=threads if threads is not None else opts.threads,
                seed=seed if seed is not None else opts.seed, verbose=verbose)
        outcome, warm = solve_warm(  # plain solve_model unless there are restrictions
            self.model, self.compiled.restrictions,
            time_limit=time_limit if time_limit is not None else opts.time_limit_s,
            gap=gap if gap is not None else opts.gap,
            threads=threads if threads is not None else opts.threads,
            seed=seed if seed is not None else opts.seed,
            verbose=verbose, start=None if start is None else start_from(self.model, start),
            offset=self.compiled.objective_constant)
        timings = self._timings()
        if warm:
            timings["phase1_s"] = warm["phase1_s"]
        result = build_result(self.compiled, outcome, timings)
        if warm:
            result.summary["warm_start"] = warm
            phase1 = warm["phase1_objective"]
            shown = "-" if phase1 is None else \
                f"{phase1 + self.compiled.objective_constant:,.0f}"
            result.summary["notes"].append(
                f"MIP start from the restricted model ({', '.join(warm['restrictions'])}): "
                f"{warm['phase1_status']}, objective {shown}, {warm['phase1_s']:.1f} s")
        if opts.strategy != "extensive":
            result.summary["notes"].append(f"strategy '{opts.strategy}' is not available yet: "
                                           "solved in extensive form")
        return result

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
                f"binaries={m.binaries.nvars}>")
