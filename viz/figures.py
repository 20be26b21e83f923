"""Which pictures a result gets, drawn in one place for `gridc plot` and `gridc report`.

`KINDS` names them: `map` (network map), `dispatch`, `mess` (MESS routes), `costs`,
`stations` (station load heat maps), `ac` (the map of the AC check of
`gridc.runtime.ac_check`: AC voltages and loadings, violations marked; skipped when
solution.nc carries none), `forecast` (the EV forecast picture of
`gridc forecast --plot`, which the command line draws with that command's own code).
`draw_case` returns every requested picture of one case, or the reason it does not
apply; `draw_comparison` the side-by-side costs of several studies or sweep cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gridc.viz import series
from gridc.viz.costs import comparison_figure, costs_figure
from gridc.viz.dispatch import dispatch_figure
from gridc.viz.mess_routes import has_mess, mess_figure
from gridc.viz.network_map import network_map, view_title
from gridc.viz.result import Case
from gridc.viz.stations import has_stations, stations_figure

KINDS = ("map", "dispatch", "mess", "costs", "stations", "ac", "forecast")
CAPTIONS = {
    "map": "Network map: lines coloured by loading, buses by voltage, the plan on top",
    "dispatch": "Dispatch per scenario: supplies against demand, shed load, stored energy",
    "mess": "MESS routes: where each mobile unit stands, hour by hour",
    "costs": "Costs: the breakdown of the plan",
    "stations": "EV stations: load by hour and node",
    "ac": "AC check: violations on the map",
    "forecast": "EV load forecast (as gridc forecast --plot draws it)",
    "compare": "Studies side by side, with their gaps",
}


@dataclass
class Drawn:
    """One picture (`figure`, a matplotlib Figure) or why it was not drawn (`skipped`)."""

    kind: str
    name: str  # file stem
    caption: str
    figure: Any = None
    skipped: str = ""


def _view_name(case: Case, scenario: str | None, step: int | None) -> str:
    parts = ["map"]
    if scenario is not None:
        parts.append(scenario)
    if step is not None:
        parts.append(f"{int(step * case.step_h):02d}h")
    return "_".join(parts)


def draw_case(case: Case, kinds: Sequence[str], scenario: str | None = None,
              step: int | None = None, forecast: Any = None) -> list[Drawn]:
    """The pictures `kinds` of one case, in the order of KINDS (`forecast` excluded:
    the command line draws it)."""
    out: list[Drawn] = []
    for kind in [k for k in KINDS if k in kinds and k != "forecast"]:
        caption = CAPTIONS[kind]
        try:
            if kind == "map":
                fig = network_map(case, scenario, step)
                out.append(Drawn(kind, _view_name(case, scenario, step),
                                 f"{caption} ({view_title(case, scenario, step)})", fig))
            elif kind == "dispatch":
                names = [scenario] if scenario is not None else None
                out.append(Drawn(kind, "dispatch", caption, dispatch_figure(case, names)))
            elif kind == "mess":
                why = has_mess(case)
                out.append(Drawn(kind, "mess_routes", caption, skipped=why) if why else
                           Drawn(kind, "mess_routes", caption, mess_figure(
                               case, [scenario] if scenario is not None else None)))
            elif kind == "costs":
                out.append(Drawn(kind, "costs", caption, costs_figure(case)))
            elif kind == "stations":
                why = has_stations(case)
                out.append(Drawn(kind, "stations", caption, skipped=why) if why else
                           Drawn(kind, "stations", caption, stations_figure(case, forecast)))
            elif kind == "ac":
                if not series.has_ac(case):
                    out.append(Drawn(kind, "ac_check", caption, skipped=(
                        "no AC check in this result (solution.nc has no ac_v)")))
                else:
                    n = len(series.ac_findings(case, scenario, step))
                    out.append(Drawn(kind, "ac_check", f"{caption}: {n} bus or line limits "
                                     f"violated ({view_title(case, scenario, step)})",
                                     network_map(case, scenario, step, ac=True)))
        except ValueError as exc:  # the result lacks what the picture needs
            out.append(Drawn(kind, kind, caption, skipped=str(exc)))
    return out


def draw_comparison(cases: list[Case]) -> Drawn:
    return Drawn("compare", "comparison", CAPTIONS["compare"], comparison_figure(cases))


def step_of(case: Case, hour: float) -> int:
    """The step that contains `hour` (ValueError outside the horizon)."""
    steps = case.ds.sizes.get("time", 0)
    k = int(hour // case.step_h)
    if not 0 <= k < steps:
        raise ValueError(f"hour {hour:g} is outside the horizon (0 to "
                         f"{steps * case.step_h:g} h)")
    return k
