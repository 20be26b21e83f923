"""Resolve a study into the concrete model it asks to optimise.

A study is a variant of the model written as a few lines (`extends`, `without`,
`set`, `fix`, `scenarios`, solve options). Resolving it once, up front, lets
every builder work on a plain `ir.Model` and never think about studies:

* the `extends` chain is merged from the root ancestor down, the child winning
  (solve options field by field, overrides applied in order so later ones win,
  `fix`es keyed by investment and type);
* `without` drops investments (union along the chain);
* overrides are applied with `gridc.dsl.overrides.apply_overrides`;
* the scenario set is the study's, else the model's first, else none (one
  "base" scenario, see `compiler.core.scenarios`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridc.compiler.core.errors import compile_error
from gridc.dsl import ir
from gridc.dsl.diagnostics import did_you_mean
from gridc.dsl.overrides import OverrideError, apply_overrides
from gridc.dsl.spans import NOWHERE, Span


@dataclass(frozen=True)
class ResolvedStudy:
    """A study with its inheritance merged and applied to the model."""

    name: str  # "" when the model has no study (defaults)
    chain: tuple[str, ...]  # root ancestor first, the study itself last
    model: ir.Model  # the model after `without` and overrides
    scenario_set: ir.ScenarioSet | None
    solve: ir.SolveOptions
    without: tuple[str, ...]
    overrides: tuple[ir.Override, ...]
    fixes: tuple[ir.Fix, ...]
    span: Span


def _chain(model: ir.Model, study: ir.Study) -> list[ir.Study]:
    """The study and its ancestors, root first (cycles are rejected by the checker;
    the guard keeps a bad IR built by hand from looping forever)."""
    by_name = {s.name: s for s in model.studies}
    out = [study]
    while out[-1].extends is not None and out[-1].extends in by_name:
        parent = by_name[out[-1].extends]
        if parent in out:
            raise compile_error(model, "GRID045", f"study '{study.name}' extends itself",
                                study.span)
        out.append(parent)
    return out[::-1]


def _merge_solve(chain: list[ir.Study]) -> ir.SolveOptions:
    """Solve options field by field: a value the child sets (not None) wins."""
    merged: dict[str, object] = {}
    span = NOWHERE
    for st in chain:
        if st.solve is None:
            continue
        span = st.solve.span
        for key, value in st.solve.model_dump(exclude={"span"}).items():
            if value is not None:
                merged[key] = value
    merged.setdefault("strategy", "extensive")
    merged.setdefault("objective", "cost")
    return ir.SolveOptions(span=span, **merged)  # type: ignore[arg-type]


def _merge_fixes(chain: list[ir.Study]) -> tuple[ir.Fix, ...]:
    fixes: dict[tuple[str, str], ir.Fix] = {}
    for st in chain:
        for f in st.fixes:
            fixes[(f.investment, f.choice)] = f
    return tuple(fixes.values())


def resolve_study(model: ir.Model, name: str | None = None) -> ResolvedStudy:
    """Resolve study `name` (None: the first study, or defaults if there is none)."""
    if name is None and not model.studies:
        sets = model.scenario_sets
        return ResolvedStudy(name="", chain=(), model=model,
                             scenario_set=sets[0] if sets else None,
                             solve=ir.SolveOptions(span=NOWHERE, strategy="extensive",
                                                   objective="cost"),
                             without=(), overrides=(),
                             fixes=(), span=model.span)
    if name is None:
        study = model.studies[0]
    else:
        found = [s for s in model.studies if s.name == name]
        if not found:
            raise compile_error(model, "GRID041", f"unknown study '{name}'", model.span,
                                help=did_you_mean(name, [s.name for s in model.studies],
                                                  "studies"))
        study = found[0]
    chain = _chain(model, study)
    without = tuple(dict.fromkeys(w for st in chain for w in st.without))
    overrides = tuple(o for st in chain for o in st.overrides)
    set_name = next((st.scenarios for st in reversed(chain) if st.scenarios), None)

    m = model.model_copy(update={"investments": tuple(
        i for i in model.investments if i.name not in without)})
    for o in overrides:
        try:
            m = apply_overrides(m, (o,))
        except OverrideError as err:
            raise compile_error(model, "GRID048", str(err), o.span, help=err.help) from None

    scenario_set: ir.ScenarioSet | None
    if set_name is not None:
        sets = [s for s in m.scenario_sets if s.name == set_name]
        if not sets:
            raise compile_error(model, "GRID041", f"unknown scenario set '{set_name}'",
                                study.span, help=did_you_mean(
                                    set_name, [s.name for s in m.scenario_sets],
                                    "scenario sets"))
        scenario_set = sets[0]
    else:
        scenario_set = m.scenario_sets[0] if m.scenario_sets else None
    return ResolvedStudy(name=study.name, chain=tuple(s.name for s in chain), model=m,
                         scenario_set=scenario_set, solve=_merge_solve(chain),
                         without=without, overrides=overrides, fixes=_merge_fixes(chain),
                         span=study.span)
