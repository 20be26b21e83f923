"""matplotlib, imported only when a picture is drawn, and the house style.

Why lazily: `gridc --version`, `check` and `solve` must not pay for matplotlib (about a
second of imports) nor need it installed; plotting is the optional extra
`pip install 'gridc[plot]'`. Every figure is drawn with the non-interactive Agg backend
and written with fixed metadata (no date, a fixed SVG hash salt) so that the same result
gives the same file.
"""

from __future__ import annotations

import io
from typing import Any

INSTALL_HINT = "pip install 'gridc[plot]'"
FORMATS = ("png", "svg")

#: colours shared by the figures (matplotlib's tab10 where it has one)
COLOURS = {
    "grid": "#4c72b0", "PV": "#f2b701", "wind": "#55a868", "gas turbine": "#8c564b",
    "diesel": "#7f7f7f", "DG (built)": "#bcbd22", "generator": "#9467bd", "storage": "#17becf",
    "MESS": "#e377c2", "EV-RB": "#2ca02c", "shed load": "#d62728", "EV stations": "#ff7f0e",
    "losses": "#7f7f7f",
}


def missing() -> str | None:
    """None when matplotlib can be imported, else what to tell the user."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"plotting needs matplotlib: {INSTALL_HINT}"
    return None


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend, with the house rcParams."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.fonttype": "none",  # text stays text: small files, selectable in the report
        "svg.hashsalt": "gridc",
        "figure.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.titlesize": 10,
        "axes.labelsize": 9,
        "legend.fontsize": 7,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
    })
    return plt


def colour(label: str, fallback: int = 0) -> str:
    """The colour of a dispatch band; charging bands take their source's colour."""
    base = label.removesuffix(" charging")
    if base in COLOURS:
        return COLOURS[base]
    cycle = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
    return cycle[fallback % len(cycle)]


def render(fig: Any, fmt: str, dpi: int = 110) -> bytes:
    """The figure as PNG or SVG bytes (deterministic metadata)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    buf = io.BytesIO()
    meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta, bbox_inches="tight")
    return buf.getvalue()


def close(fig: Any) -> None:
    pyplot().close(fig)


def hour_axis(ax: Any, hours: Any, step_h: float) -> None:
    """x from the first to the end of the last step, ticks every 2 h on a day."""
    end = float(hours[-1] + step_h) if len(hours) else 1.0
    ax.set_xlim(float(hours[0]) if len(hours) else 0.0, end)
    span = end - (float(hours[0]) if len(hours) else 0.0)
    every = 2 if span <= 24 else 6 if span <= 72 else 24
    ax.set_xticks([h for h in range(0, int(end) + 1, every)])
    ax.set_xlabel("hour")
