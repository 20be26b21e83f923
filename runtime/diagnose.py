"""Explain an infeasible model: which constraint families, at which `.grid` sources.

The model is compiled again in elastic mode (`compile_model(..., elastic=True)`,
see `gridc.compiler.core.builder`): nodal balance, voltage limits, line ratings,
generator minimum output and storage SOC limits get non-negative slacks, and the
objective is their weighted sum. Solving that always-feasible problem shows the
least relaxation that would make the model feasible. Every non-zero slack is
traced back through its block's source dimension (bus, line, gen, storage,
load) to the span of the IR node, i.e. the file and line of the table row or
statement that needs attention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridc.compiler import compile_model
from gridc.compiler.core.index import SCENARIO, TIME
from gridc.dsl import ir
from gridc.runtime.backend.solver import SolveStatus, solve_model

#: slacks below this are solver noise
TOL = 1e-6


@dataclass(frozen=True)
class Finding:
    family: str  # e.g. "nodal balance"
    block: str  # constraint / variable block, e.g. "nodal_p"
    side: str  # which slack: "up"/"down" (rows), "lower"/"upper" (bounds)
    source_kind: str | None  # bus, line, gen, storage, load
    label: str  # coordinate label, e.g. bus "33"
    where: str  # file:line:col of the source, or "" if unknown
    amount: float  # largest relaxation needed
    unit: str
    scenarios: tuple[str, ...]
    steps: tuple[int, ...]


@dataclass
class Diagnosis:
    status: SolveStatus  # of the elastic solve
    findings: list[Finding] = field(default_factory=list)

    @property
    def families(self) -> list[str]:
        return list(dict.fromkeys(f.family for f in self.findings))


def _side(slack: str, block: str) -> str:
    return slack.removeprefix(f"elastic_{block}_")


def diagnose(model: ir.Model, study: str | None = None, *, time_limit: float | None = None,
             threads: int | None = None) -> Diagnosis:
    """Solve the elastic variant of `model` and report every relaxation it needed."""
    compiled = compile_model(model, study=study, elastic=True)
    outcome = solve_model(compiled.model, time_limit=time_limit, threads=threads)
    diag = Diagnosis(status=outcome.status)
    if not outcome.status.ok:
        return diag
    idx = compiled.index
    for relax in compiled.relaxations:
        block = relax.block
        for slack in relax.slacks:
            sol = compiled.model.variables[slack].solution
            if not bool((sol > TOL).any()):
                continue
            dims = [d for d in sol.dims if d not in (SCENARIO, TIME)]
            src = block.source if block.source in dims else None
            if src is None:
                parts = [("-", sol)]
            else:  # only the labels that needed relaxing
                hot_any = (sol > TOL).any([d for d in sol.dims if d != src])
                parts = [(str(lab), sol.sel({src: lab}))
                         for lab in sol[src].values[hot_any.values]]
            for lab, part in parts:
                hot = part > TOL
                span = idx.source(src, lab) if src is not None else None
                scen = tuple(str(s) for s in part[SCENARIO].values[
                    hot.any([d for d in hot.dims if d != SCENARIO]).values]) \
                    if SCENARIO in hot.dims else ()
                steps = tuple(int(t) for t in part[TIME].values[
                    hot.any([d for d in hot.dims if d != TIME]).values]) \
                    if TIME in hot.dims else ()
                diag.findings.append(Finding(
                    family=block.family, block=block.name, side=_side(slack, block.name),
                    source_kind=src, label=lab, where=span.label() if span else "",
                    amount=float(np.nanmax(part.values)), unit=block.unit,
                    scenarios=scen, steps=steps))
    diag.findings.sort(key=lambda f: (f.family, -f.amount))
    return diag


def _ranges(steps: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> "0-2, 5"."""
    runs: list[list[int]] = []
    for t in steps:
        if runs and t == runs[-1][1] + 1:
            runs[-1][1] = t
        else:
            runs.append([t, t])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def describe(f: Finding) -> dict[str, Any]:
    """One finding as the rows of the CLI table / JSON."""
    what = f"{f.source_kind} {f.label}" if f.source_kind else f.block
    return {"family": f.family, "constraint": f"{f.block} ({f.side})", "source": what,
            "where": f.where, "amount": f"{f.amount:.4g} {f.unit}".strip(),
            "scenarios": ", ".join(f.scenarios), "steps": _ranges(f.steps)}
