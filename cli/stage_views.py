"""What a run proved, stage by stage, and where a comparison is inside the gaps.

`summary["stages"]` (see `gridc.runtime.status`) lists every solve of a run; the
headline status, gap and bound are those of the weakest stage the result depends on
(`limited_by`). `stages_table` prints them when there is more than one; `limit_text`
is the one line under the headline saying which stage limits it and why it stopped.

`overlaps` finds the pairs of a study comparison or sweep whose difference is not
larger than what their gaps leave open: |a − b| ≤ w_a + w_b, where w is the width
of a result's gap in its own unit (gap × |objective|, else |objective − bound|, and
unknown without either). Such a difference may be the solver's, not the model's.
"""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

from rich.markup import escape
from rich.table import Table


def _amount(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.4g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def limit_text(s: dict[str, Any]) -> str | None:
    """'<stage> (<why it stopped>)' when the headline is not optimal, else None."""
    stage, why = s.get("limited_by"), s.get("stopped_by")
    if not stage and not why:
        return None
    return f"{stage or 'the solve'}" + (f" ({why})" if why else "")


def stages_table(s: dict[str, Any]) -> Table | None:
    """Every stage of the run (None when there was only one)."""
    stages = s.get("stages") or []
    if len(stages) <= 1:
        return None
    t = Table(title="stages (* the result rests on it: the headline is the weakest of "
                    "these)", title_justify="left")
    for col in ("stage", "status", "objective", "bound", "gap", "time", "stopped by",
                "note"):
        t.add_column(col, justify="right" if col in ("objective", "bound", "gap", "time")
                     else "left")
    for st in stages:
        mark = "*" if st.get("limits") else " "
        t.add_row(f"{mark} {escape(st['name'])}", st["status"], _amount(st.get("objective")),
                  _amount(st.get("bound")), _pct(st.get("gap")),
                  f"{st.get('seconds') or 0.0:.1f} s", escape(st.get("stopped_by") or ""),
                  escape(st.get("note") or ""))
    return t


def gap_width(s: dict[str, Any] | None) -> float | None:
    """The width a result's gap leaves open, in its objective's unit (None: unknown):
    gap × |objective| (the gap may be that of a stage's own model, see `limited_by`),
    else |objective − bound|."""
    if not s or s.get("objective") is None:
        return None
    obj, bound, gap = s["objective"], s.get("bound"), s.get("gap")
    if gap is not None and math.isfinite(gap):
        return abs(gap * obj)
    if bound is not None and math.isfinite(bound):
        return abs(obj - bound)
    return 0.0 if s.get("status") == "optimal" else None


def overlaps(summaries: list[dict[str, Any] | None], labels: list[str]) -> list[str]:
    """A warning for every pair whose difference lies within their gaps' widths."""
    out = []
    for (la, a), (lb, b) in combinations(zip(labels, summaries), 2):
        if not a or not b or a.get("objective") is None or b.get("objective") is None:
            continue
        wa, wb = gap_width(a), gap_width(b)
        diff = abs(a["objective"] - b["objective"])
        if wa is None or wb is None:
            which = la if wa is None else lb
            out.append(f"warning: {la} vs {lb}: {which} has no bound, so the difference of "
                       f"{_amount(diff)} ({_rel(diff, a, b)}) is not proven")
        elif diff <= wa + wb and (wa > 0 or wb > 0):
            out.append(f"warning: {la} vs {lb}: the difference of {_amount(diff)} "
                       f"({_rel(diff, a, b)}) lies within their gaps (±{_amount(wa)}, "
                       f"±{_amount(wb)}): it may be the solver's, not the model's")
    return out


def _rel(diff: float, a: dict[str, Any], b: dict[str, Any]) -> str:
    base = min(abs(a["objective"]), abs(b["objective"]))
    return f"{100 * diff / base:.2f} %" if base > 0 else "-"
