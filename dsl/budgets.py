"""Resource budgets: what a model may cost, decided before anything is built.

A model is anyone's text, and a few characters ask for a lot: `horizon 1000000 h step
1 h`, ten thousand scenarios, a million-row CSV file. `gridc check` estimates what the
model will cost and refuses, at the line that sets the size, what exceeds the budget:

* `memory_mb`: the estimated peak memory of building and solving the largest study
  (GRID051), default 16 GiB — two thirds of the 24 GiB machine this was sized on;
* `table_rows`: the rows all tables and CSV files of a model may hold together (GRID052),
  default 200,000 (a row becomes an IR node of about 2.6 kB: 200,000 rows take some
  600 MB to check, measured), counted while the files are read, so that reading itself
  stays cheap. A profile's CSV file is read into numbers only and may hold as many rows
  as the longest horizon has steps.

Both come from the call (`gridc.load(path, max_memory_mb=..., max_table_rows=...)`),
else the environment (GRIDC_MAX_MEMORY_MB, GRIDC_MAX_TABLE_ROWS), else the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.access import positive_limit
from gridc.dsl.diagnostics import Collector
from gridc.dsl.locate import search, value_span
from gridc.dsl.spans import Span

DEFAULT_MAX_MEMORY_MB = 16384.0
DEFAULT_MAX_TABLE_ROWS = 200_000
MAX_MEMORY_ENV = "GRIDC_MAX_MEMORY_MB"
MAX_TABLE_ROWS_ENV = "GRIDC_MAX_TABLE_ROWS"
#: The longest horizon (time steps) a model may have: a year of minutes is 525,600.
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class Budget:
    """The limits of one load (see the module docstring)."""

    memory_mb: float = DEFAULT_MAX_MEMORY_MB
    table_rows: int = DEFAULT_MAX_TABLE_ROWS

    @classmethod
    def resolve(cls, memory_mb: float | None = None, table_rows: int | None = None
                ) -> Budget:
        """The given limits, else the environment's, else the defaults. Raises
        ValueError for a limit that is not a positive number."""
        memory = positive_limit(memory_mb, MAX_MEMORY_ENV, DEFAULT_MAX_MEMORY_MB,
                                "max_memory_mb")
        rows = positive_limit(table_rows, MAX_TABLE_ROWS_ENV, DEFAULT_MAX_TABLE_ROWS,
                              "max_table_rows")
        return cls(memory_mb=memory, table_rows=max(1, int(rows)))


# ------------------------------------------------------------------ the size estimate
#
# Per scenario and time step, each component adds about this many (variables, rows,
# nonzeros) to the compiled model. Measured on the compiled catalogue models
# (tests/catalogue.py, every family under both formulations) and the shipped models;
# tests/test_budgets.py holds the estimate within a factor of the compiled sizes, so a
# change of the compiler that moves them shows up there.
PER_CELL: dict[str, tuple[float, float, float]] = {
    "bus": (2, 2, 5),  # voltage, shedding; active and reactive balance
    "line": (2, 1, 4),  # LinDistFlow: active and reactive flow, voltage drop
    "line_btn": (44, 61, 212),  # DistFlow, the cone as a Ben-Tal-Nemirovski polygon
    "line_cuts": (3, 11, 50),  # DistFlow, the cone as supporting planes (large models)
    "loss": (1, 2, 4),  # a line's |flow| for `penalty loss` (LinDistFlow)
    # one face of a rated branch's apparent-power polygon at one end (N - 4 a branch and
    # end; the axis faces are bounds): P, Q (and the current at DistFlow's to end)
    "rating_face": (0, 1, 3),
    "reinforced": (0, 1, 3),  # line states decided by a reinforcement
    "reinforced_cone": (0, 6, 24),  # the same under DistFlow
    "topology": (0, 1, 4),  # line states decided by a `lines` investment
    "topology_cone": (0, 3, 22),  # the same under DistFlow
    "generator": (2, 0, 2),
    "load": (1, 0, 1),
    "storage": (5, 3, 9),
    "storage_build": (0, 6, 13),  # on top of "storage": the sizes bound the operation
    "dg": (2, 3, 8),
    "substation": (0, 1, 3),
    "mess_slot": (8, 15, 45),  # one MESS type at one candidate bus
    "mess_type": (0, 2, 18),
    "ev_site": (5, 7, 20),
    "station": (5, 7, 20),
}
#: DistFlow writes the cone as a polygon while it has at most this many polygon rows
#: (compiler.formulations.flow.BTN_MAX_ROWS at 65 rows a cone), else as cuts
BTN_MAX_CONES = 60_000 // 65
#: Peak memory: the interpreter with numpy, linopy and HiGHS loaded, then bytes per
#: nonzero of the constraint matrix, from building the linopy model to HiGHS's solve
#: (measured: 437 B at 7.7 M nonzeros under LinDistFlow, 595 B at 0.66 M under
#: DistFlow; peak RSS of `Problem.solve` less the 171 MB after parsing).
BASE_MB = 200.0
BYTES_PER_NONZERO = 600.0
#: EV forecast (`stations`): kept events per simulated vehicle-day, and the chunk
#: simulated at once (data/ev_forecast.py: 100,000 vehicles of ~0.5 kB)
BYTES_PER_VEHICLE_DAY = 150.0
FORECAST_CHUNK_MB = 60.0
#: What a "usual" model has, to tell which factor makes one large: a day of hourly
#: steps, four scenarios, a feeder of a hundred buses (LinDistFlow, nonzeros per cell)
USUAL_STEPS, USUAL_SCENARIOS, USUAL_WIDTH = 24, 4, 1000.0


@dataclass(frozen=True)
class Size:
    variables: float
    rows: float
    nonzeros: float

    def __add__(self, other: Size) -> Size:
        return Size(self.variables + other.variables, self.rows + other.rows,
                    self.nonzeros + other.nonzeros)

    def times(self, k: float) -> Size:
        return Size(self.variables * k, self.rows * k, self.nonzeros * k)


@dataclass(frozen=True)
class Estimate:
    """The size of one study (or of the model without one) before it is built."""

    study: str  # "" for the model without a study
    steps: int
    scenarios: int
    cell: Size  # per scenario and time step
    static: Size  # decisions without a scenario or time (plans, a topology's tree)
    forecast_mb: float
    counts: dict[str, float]  # components by PER_CELL key
    line: str  # the PER_CELL key of the lines: "line", "line_btn" or "line_cuts"

    @property
    def parts(self) -> tuple[str, ...]:
        """What the cell is made of, for messages: "33 buses", "37 lines", ..."""
        out = []
        for key, (one, many) in _PART_NAMES.items():
            n = int(self.counts.get(key, 0))
            if n and (key == self.line or not key.startswith("line")):
                out.append(f"{n:,} {one if n == 1 else many}")
        return tuple(out)

    @property
    def cone_nonzeros(self) -> float:
        """Nonzeros per cell that DistFlow's cones add to what LinDistFlow writes."""
        extra = PER_CELL[self.line][2] - PER_CELL["line"][2]
        return self.counts.get(self.line, 0.0) * extra

    @property
    def size(self) -> Size:
        return self.cell.times(self.steps * self.scenarios) + self.static

    @property
    def memory_mb(self) -> float:
        return BASE_MB + self.size.nonzeros * BYTES_PER_NONZERO / 2**20 + self.forecast_mb


def study_chain(m: ir.Model, study: ir.Study) -> list[ir.Study]:
    """`study` and its ancestors, root first (a cycle, reported by the checks, ends it)."""
    by_name = {s.name: s for s in m.studies}
    chain = [study]
    while chain[-1].extends in by_name and by_name[chain[-1].extends] not in chain:
        chain.append(by_name[str(chain[-1].extends)])
    return chain[::-1]


def _choices(m: ir.Model, study: ir.Study | None
             ) -> tuple[ir.ScenarioSet | None, str, set[str]]:
    """(scenario set, formulation, dropped investments) of `study`, as the compiler
    resolves them (compiler.core.study)."""
    chain = study_chain(m, study) if study is not None else []
    wanted = next((s.scenarios for s in reversed(chain) if s.scenarios), None)
    sets = {s.name: s for s in m.scenario_sets}
    chosen = sets.get(wanted) if wanted else (m.scenario_sets[0] if m.scenario_sets else None)
    formulation = m.formulation.name if m.formulation is not None else "lindistflow"
    for s in chain:
        if s.solve is not None and s.solve.formulation is not None:
            formulation = s.solve.formulation
    return chosen, formulation, {w for s in chain for w in s.without}


def _scenarios(m: ir.Model, chosen: ir.ScenarioSet | None, stations: bool
               ) -> tuple[int, Span | None, str]:
    """How many scenarios, where that number is written, and what to change."""
    if stations:
        days = m.travel.typical_days if m.travel is not None else 4
        where = value_span(m, m.travel.span, "typical_days") if m.travel is not None \
            else None
        return days, where, "fewer typical days ('typical_days')"
    if chosen is None:
        return 1, None, ""
    if chosen.history is not None:
        text = m.sources.get(chosen.span.file)
        where = search(text, chosen.span, r"\bk\s*=\s*(\S+?)\s*[,)]") if text \
            else chosen.span
        return chosen.history.k, where, "fewer typical scenarios (kmeans k)"
    return len(chosen.scenarios), chosen.span, "fewer scenarios in the set"


def estimate(m: ir.Model, study: ir.Study | None = None) -> Estimate | None:
    """The size of `study` (None: the model as compiled without one); None for a
    model without a network (nothing to build)."""
    if not m.networks:
        return None
    chosen, formulation, without = _choices(m, study)
    invs = [i for i in m.investments if i.name not in without]
    stations = [i for i in invs if isinstance(i, P.Stations)]
    steps = m.horizon.steps if m.horizon is not None else 1
    scenarios, _, _ = _scenarios(m, chosen, bool(stations))
    net = m.networks[0]
    builds = [i for i in invs if isinstance(i, P.LineBuild)]
    pairs = {frozenset((ln.from_bus, ln.to_bus)) for ln in net.lines}
    new = {frozenset((c.from_bus, c.to_bus)) for i in builds for c in i.candidates} - pairs
    n_bus, n_line = len(net.buses), len(net.lines) + len(new)
    counts: dict[str, float] = {
        "bus": n_bus,
        "generator": len(m.generators) + (0 if any(g.kind == "grid" for g in m.generators)
                                          else 1),
        "load": len(m.loads),
        "storage": len(m.storages) + sum(isinstance(i, P.StorageBuild) for i in invs),
        "storage_build": sum(isinstance(i, P.StorageBuild) for i in invs),
        "dg": sum(isinstance(i, P.DgUnits) for i in invs),
        "substation": sum(isinstance(i, P.Substation) for i in invs),
        "ev_site": sum(len(i.sites) for i in invs if isinstance(i, P.EvBattery)),
        "station": sum(i.count.max for i in stations),
        "mess_type": sum(len(i.types) for i in invs if isinstance(i, P.MobileStorage)),
        "mess_slot": sum(len(i.types) * (len(i.candidates) or n_bus)
                         for i in invs if isinstance(i, P.MobileStorage)),
    }
    line = "line"
    if formulation == "distflow":
        line = "line_btn" if scenarios * steps * n_line <= BTN_MAX_CONES else "line_cuts"
    counts[line] = n_line
    if any(p.kind == "loss" for p in m.penalties):
        counts["loss"] = n_line
    rated = sum(ln.rating_kva is not None or net.cable_rating_kva is not None
                for ln in net.lines)
    ends = 2 if formulation == "distflow" else 1
    counts["rating_face"] = rated * max(0, net.rating_sides - 4) * ends
    cone = "_cone" if formulation == "distflow" else ""
    if any(isinstance(i, P.Reinforcement) for i in invs):
        counts["reinforced" + cone] = n_line
    if builds:
        counts["topology" + cone] = n_line
    cell = Size(0.0, 0.0, 0.0)
    for key, n in counts.items():
        cell = cell + Size(*PER_CELL[key]).times(n)
    static = Size(0.0, 0.0, 0.0)
    if any(i.radial for i in builds):  # one commodity a bus
        sinks = max(0, n_bus - 1)
        static = Size(2.0 * sinks * n_line, sinks * (n_line + n_bus), 4.0 * sinks * n_line)
    forecast = 0.0
    if m.travel is not None:  # what the EV forecast keeps (gridc forecast, stations)
        vehicle_days = m.travel.days * sum(f.per_day for f in m.fleets)
        forecast = FORECAST_CHUNK_MB + vehicle_days * BYTES_PER_VEHICLE_DAY / 2**20
    return Estimate(study=study.name if study is not None else "", steps=steps,
                    scenarios=scenarios, cell=cell, static=static, forecast_mb=forecast,
                    counts=counts, line=line)


#: (one, many) names of what the parts of an estimate count
_PART_NAMES = {"bus": ("bus", "buses"), "line": ("line", "lines"),
               "line_btn": ("line under DistFlow", "lines under DistFlow"),
               "line_cuts": ("line under DistFlow", "lines under DistFlow"),
               "generator": ("generator", "generators"), "load": ("load", "loads"),
               "storage": ("storage unit", "storage units"),
               "dg": ("DG investment", "DG investments"), "ev_site": ("EV site", "EV sites"),
               "station": ("station", "stations"),
               "mess_slot": ("MESS position", "MESS positions")}


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" + ("" if n == 1 else "s")


def _memory(mb: float) -> str:
    return f"{mb / 1024:,.1f} GiB" if mb >= 1024 else f"{mb:,.0f} MiB"


def _blame(m: ir.Model, study: ir.Study | None, est: Estimate) -> tuple[Span, str, bool]:
    """The statement that makes `est` large, and what to change there: the factor
    furthest above a usual model's (steps, scenarios, the network's width, the EV
    forecast's vehicle-days); True when it is the forecast."""
    chosen, formulation, without = _choices(m, study)
    stations = any(isinstance(i, P.Stations) and i.name not in without
                   for i in m.investments)
    _, where_s, advice_s = _scenarios(m, chosen, stations)
    net = m.networks[0]
    width = (est.cell.nonzeros + est.static.nonzeros / max(1, est.steps * est.scenarios))
    options: list[tuple[float, Span, str]] = [
        (width / USUAL_WIDTH, net.span, "a smaller network or fewer components")]
    if m.horizon is not None:
        options.append((est.steps / USUAL_STEPS, m.horizon.span,
                        "a shorter horizon or longer steps (a year of hours is 8,760 steps)"))
    if where_s is not None:
        options.append((est.scenarios / USUAL_SCENARIOS, where_s, advice_s))
    if formulation == "distflow":
        written = next((s.solve.span for s in reversed(study_chain(m, study))
                        if s.solve is not None and s.solve.formulation == "distflow"),
                       None) if study is not None else None
        if written is None and m.formulation is not None:
            written = m.formulation.span
        if written is not None:
            share = est.cell.nonzeros / max(1.0, est.cell.nonzeros - est.cone_nonzeros)
            options.append((share * 0.999, written, "formulation lindistflow (its lines "
                            "need no cone)"))
    if est.forecast_mb > (est.memory_mb - BASE_MB) / 2 and m.travel is not None:
        return (value_span(m, m.travel.span, "days"),
                "fewer simulated days ('days') or vehicles ('per_day')", True)
    _, span, advice = max(options, key=lambda o: o[0])
    return span, advice, False


def check_budget(m: ir.Model, d: Collector, budget: Budget) -> None:
    """GRID051 for every study (or the model without one) whose estimated memory
    exceeds the budget, at the statement that makes it large; each such statement is
    reported once, with its largest study."""
    worst: dict[tuple[str, int, int], tuple[Estimate, Span, str, bool]] = {}
    for study in (m.studies or (None,)):
        est = estimate(m, study)
        if est is None or est.memory_mb <= budget.memory_mb:
            continue
        span, advice, forecast = _blame(m, study, est)
        key = (span.file, span.line, span.col)
        if key not in worst or est.memory_mb > worst[key][0].memory_mb:
            worst[key] = (est, span, advice, forecast)
    for est, span, advice, forecast in worst.values():
        size = est.size
        who = f"study '{est.study}'" if est.study else "the model"
        if forecast and m.travel is not None:
            vehicles = m.travel.days * sum(f.per_day for f in m.fleets)
            what = (f"the EV forecast of {who} needs about {_memory(est.memory_mb)}, more than "
                    f"the budget of {_memory(budget.memory_mb)}: {m.travel.days:,} days x "
                    f"{vehicles // max(1, m.travel.days):,} vehicles a day are "
                    f"{vehicles:,} simulated vehicle-days")
        else:
            what = (f"{who} needs about {_memory(est.memory_mb)} to build and solve, more "
                    f"than the budget of {_memory(budget.memory_mb)}: {_count(est.steps, 'step')}"
                    f" x {_count(est.scenarios, 'scenario')} x ({', '.join(est.parts)}) come "
                    f"to about {size.variables:.2g} variables, {size.rows:.2g} rows and "
                    f"{size.nonzeros:.2g} nonzeros")
        d.error("GRID051", what, span,
                help=f"use {advice}; or, if this machine has the memory, raise the budget with "
                     f"{MAX_MEMORY_ENV}=N (MiB) or gridc.load(path, max_memory_mb=N); see "
                     "docs/untrusted-models.md")
