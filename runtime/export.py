"""Results as other tools read them: CF attributes for `solution.nc`, tables for spreadsheets.

Two jobs, both about the reader who is not gridc:

* `describe(...)` / `cf_units(...)` give every variable of the solution dataset the
  attributes of the CF conventions: `units` that pint parses (`kvar` becomes `kVA`, the
  same dimension, since unit libraries do not know `var`; per-unit values and counts
  become `1`), with the unit the model writes kept as `unit_label` where it differs
  (`kvar`, `p.u.`, `0/1`), a `long_name` and a `description` built from the compiled
  block's metadata (its family and the dimension whose labels are the model's own
  names). Money carries the model's currency (`CNY`, `kCNY`, ...), which plain pint does
  not know: `gridc.dsl.units.registry()` parses every `units` of the file.
* `tables(dataset, summary)` cuts the same result into flat tables (a summary, the cost
  breakdown, one table per set of dimensions: `bus_time`, `line`, ...) and
  `write_tables(..., "csv" | "xlsx")` writes them — one CSV per table, or one workbook
  with a sheet per table (openpyxl, the optional extra `xlsx`). Column headers are
  `name [unit]`. docs/reading-results.md lists the tables and columns.

Nothing here imports `gridc.runtime.results` (which imports this module): it works on a
dataset and a summary dict.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import xarray as xr

from gridc.runtime.ioutil import atomic_write

#: the unit a block is written in (compiler `Block.unit`) -> (CF `units`, unit shown)
CF_UNITS: dict[str, tuple[str, str | None]] = {
    "": ("1", None), "kW": ("kW", None), "kWh": ("kWh", None), "kVA": ("kVA", None),
    "kvar": ("kVA", "kvar"), "p.u.": ("1", "p.u."), "p.u.²": ("1", "p.u.²"),
    "0/1": ("1", "0/1"), "units": ("1", "units"), "lines": ("1", "lines"),
    "m²": ("m^2", "m²"), "km": ("km", None), "ohm": ("ohm", None), "h": ("hours", None),
}

#: what each variable block of the compiler holds (a name missing here is described from
#: its family: `describe` never leaves a variable without `long_name`)
LONG_NAMES: dict[str, str] = {
    "line_p": "active power flow from the from-bus towards the to-bus",
    "line_q": "reactive power flow from the from-bus towards the to-bus",
    "line_l": "squared current magnitude",
    "line_p_abs": "magnitude of the active power flow",
    "line_built": "line built or closed (1) or not (0)",
    "bus_w": "squared voltage magnitude",
    "bus_v": "voltage magnitude",
    "bus_shed_p": "active power shed of the bus load",
    "load_shed_p": "active power shed of the load",
    "gen_p": "active power output",
    "gen_q": "reactive power output",
    "storage_charge": "charging power of the storage",
    "storage_discharge": "discharging power of the storage",
    "storage_energy": "stored energy at the end of the step",
    "storage_charging": "storage charging (1) or discharging (0)",
    "storage_q": "reactive power of the storage converter",
    "storage_power_size": "power capacity of the storage to build",
    "storage_energy_size": "energy capacity of the storage to build",
    "storage_units": "storage units to build",
    "dg_units": "generating units to build",
    "dg_p": "active power output of the units built",
    "dg_q": "reactive power output of the units built",
    "reinforced": "line reinforced (1) or not (0)",
    "substation_rating": "substation rating chosen (1) or not (0)",
    "mess_units": "mobile storage units bought per type",
    "mess_pos": "mobile storage units connected at the bus during the step",
    "mess_stay": "mobile storage units that stayed at the bus since the step before",
    "mess_energy": "energy of the mobile storage units at the bus, end of the step",
    "mess_energy_stay": "energy of the mobile storage units that stayed at the bus",
    "mess_energy_arrive": "energy of the mobile storage units arriving at the bus",
    "mess_charge": "charging power of the mobile storage units at the bus",
    "mess_discharge": "discharging power of the mobile storage units at the bus",
    "mess_q": "reactive power of the mobile storage units at the bus",
    "ev_packs": "battery packs bought per type and site",
    "ev_charge": "charging power of the EV batteries at the site",
    "ev_discharge": "discharging power of the EV batteries at the site",
    "ev_charging": "EV batteries at the site charging (1) or discharging (0)",
    "ev_q": "reactive power of the EV batteries at the site",
    "ev_energy": "energy of the EV batteries at the site, end of the step",
    "radial_ft": "line oriented from its from-bus to its to-bus in the spanning tree",
    "radial_tf": "line oriented from its to-bus to its from-bus in the spanning tree",
    "radial_flow_ft": "spanning-tree commodity flow, from-bus to to-bus",
    "radial_flow_tf": "spanning-tree commodity flow, to-bus to from-bus",
    "station_charger_1": "chargers of the first kind at the station",
    "station_charger_2": "chargers of the second kind at the station",
    "station_charger_2_p": "charging power of the second-kind chargers",
    "station_swapper": "battery swappers at the station",
    "station_packs": "spare battery packs at the station",
    "station_stock": "energy of the spare battery packs, end of the step",
    "station_transformer": "station transformer rating chosen (1) or not (0)",
    "station_pev_energy": "EV charging energy served at the station, by delay in steps",
}

#: families of blocks named by a prefix (one block per level or cut round)
PREFIX_NAMES: tuple[tuple[str, str], ...] = (
    ("cone_", "auxiliary variable of the polyhedral approximation of the DistFlow cone"),
    ("elastic_", "elastic slack of the diagnosis"),
)


def long_name_of(name: str) -> str | None:
    """The long name of variable block `name`, if gridc knows one."""
    if name in LONG_NAMES:
        return LONG_NAMES[name]
    return next((long for prefix, long in PREFIX_NAMES if name.startswith(prefix)), None)

#: what the labels of a dimension are, in the model's words
DIM_WORDS: dict[str, str] = {
    "scenario": "the scenarios of the study's scenario set",
    "time": "the time steps of the horizon (see the coordinates hour and clock)",
    "bus": "the buses of the network",
    "line": "the lines of the network (ties and candidate lines included)",
    "gen": "the generator statements, and the implicit grid import at the slack bus",
    "storage": "the storage statements",
    "load": "the load statements",
}


def cf_units(unit: str) -> tuple[str, str | None]:
    """(CF `units`, the unit as the model writes it or None when the same) of a block unit."""
    if unit in CF_UNITS:
        return CF_UNITS[unit]
    return unit, None


def describe(name: str, *, unit: str, long_name: str | None = None,
             family: str | None = None, source: str | None = None,
             dims: Sequence[str] = (), note: str = "") -> dict[str, str]:
    """The CF attributes of one variable: units, long_name, description (and family,
    unit_label where the written unit is not the CF one)."""
    units, label = cf_units(unit)
    long = long_name or long_name_of(name) or (f"{family}: {name.replace('_', ' ')}"
                                               if family else name.replace("_", " "))
    parts = [long[0].upper() + long[1:] + (f" [{label or units}]" if units != "1" or label
                                           else "") + "."]
    if family:
        parts.append(f"Family: {family}.")
    if dims:
        parts.append("One value per " + ", ".join(dims) + ".")
    if source:
        words = DIM_WORDS.get(source, f"the model's {source.replace('_', ' ')} names")
        where = f" (coordinate {source}_source: file:line)" if source in DIM_WORDS \
            and source not in ("time",) else ""
        parts.append(f"Its {source} labels are {words}{where}.")
    if note:
        parts.append(note)
    attrs = {"units": units, "long_name": long, "description": " ".join(parts)}
    if family:
        attrs["family"] = family
    if label:
        attrs["unit_label"] = label
    return attrs


def clock_labels(steps: int, step_h: float) -> list[str]:
    """`hh:mm` at the start of each step (`dN hh:mm` from day 2 on, when the horizon is
    longer than a day)."""
    multi_day = steps * step_h > 24.0 + 1e-9
    out = []
    for k in range(steps):
        minutes = round(k * step_h * 60.0)
        day, rest = divmod(minutes, 24 * 60)
        text = f"{rest // 60:02d}:{rest % 60:02d}"
        out.append(f"d{day + 1} {text}" if multi_day else text)
    return out


# ---------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Table:
    """One flat table: a name (file or sheet), a header and its rows."""

    name: str
    header: list[str]
    rows: list[list[Any]]


class ExportError(Exception):
    """A table export that cannot be done (a missing optional package, a sheet too long)."""


#: rows a worksheet holds (Excel's limit, header included)
XLSX_MAX_ROWS = 1_048_576
XLSX_HINT = ("--format xlsx needs openpyxl, the optional extra 'xlsx': "
             "pip install 'gridc[xlsx]' (or pip install openpyxl), or use --format csv")
#: the coordinates every table over `time` carries next to the step index
TIME_COLUMNS = ("hour", "clock")


def header_of(name: str, attrs: dict[str, Any]) -> str:
    """`name [unit]` (the unit as the model writes it), `name` for plain numbers."""
    label = attrs.get("unit_label") or attrs.get("units")
    return name if not label or label == "1" else f"{name} [{label}]"


def _cell(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):  # as in solution.nc, where booleans are stored as 0/1
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, float) and value == 0.0:
        return 0.0  # not the solver's -0.0
    return value


def summary_table(s: dict[str, Any]) -> Table:
    """The headline of a result as (field, value, unit) rows."""
    cur = (s.get("currency") or {}).get("unit", "CNY")
    per = (s.get("currency") or {}).get("cny_per_unit", 1.0)
    losses = s.get("objective_kind") == "losses"
    # the summary's amounts are CNY: the table gives them in the model's currency
    unit = str(s.get("objective_unit") or "CNY")
    money_unit = unit if losses else cur + unit.removeprefix("CNY")
    rows: list[list[Any]] = [
        ["model", s.get("model"), ""], ["study", s.get("study"), ""],
        ["status", s.get("status"), ""], ["message", s.get("message"), ""],
        ["objective_is", s.get("objective_is"), ""],
    ]
    for key in ("objective", "bound"):
        value = s.get(key)
        rows.append([key, None if value is None else value if losses else value / per,
                     money_unit])
    rows.append(["gap", s.get("gap"), "1"])
    pricing = s.get("pricing") or {}
    if pricing.get("present_value_cny") is not None:
        rows.append(["present_value", pricing["present_value_cny"] / per, cur])
        rows.append(["annual_equivalent", pricing["annual_equivalent_cny_per_y"] / per,
                     f"{cur}/y"])
    if s.get("shed"):
        rows.append(["expected_shed", s["shed"]["expected_kwh"], "kWh/day"])
    for side in ("min", "max"):
        v = (s.get("voltage") or {}).get(side)
        if v:
            rows.append([f"voltage_{side}", v["v_pu"], "p.u."])
            rows.append([f"voltage_{side}_at", f"bus {v['bus']}, {v['scenario']}, "
                         f"{v.get('clock', v['time'])}", ""])
    return Table("summary", ["field", "value", "unit"], rows)


def _frame_table(name: str, ds: xr.Dataset, names: list[str]) -> Table:
    """Variables `names` (same dims) as one long table, coordinates first."""
    part = ds[names]
    drop = [c for c in part.coords if c not in part.dims and c not in TIME_COLUMNS
            and not (len(part.dims) == 1 and set(part[c].dims) == set(part.dims))]
    frame = part.drop_vars(drop).to_dataframe().reset_index()
    coords = [c for c in frame.columns if c not in names]
    header = coords + [header_of(n, ds[n].attrs) for n in names]
    values = frame[coords + names].to_numpy(dtype=object)
    return Table(name, header, [[_cell(v) for v in row] for row in values])


def _table_name(dims: tuple[str, ...], taken: set[str]) -> str:
    parts = [d for d in dims if d not in ("scenario", "time")]
    name = "_".join(parts + (["time"] if "time" in dims else [])) if parts else "_".join(dims)
    if name in taken:
        name = "_".join(dims)
    return name


def tables(ds: xr.Dataset, summary: dict[str, Any]) -> list[Table]:
    """Every table of a result: `summary`, `costs` and `costs_by_scenario` (when the
    model has money terms), then one table per set of dimensions of the dataset's
    variables, named by them (`bus_time` for scenario × time × bus, `line` for the
    network's lines, `scenario_time` for scenario × time, ...)."""
    out = [summary_table(summary)]
    special = {"cost": "costs", "cost_by_scenario": "costs_by_scenario"}
    for key, title in special.items():
        if key in ds:
            out.append(_frame_table(title, ds, [key]))
    groups: dict[tuple[str, ...], list[str]] = {}
    for name, var in ds.data_vars.items():
        if str(name) in special or not var.dims:
            continue
        groups.setdefault(tuple(str(d) for d in var.dims), []).append(str(name))
    taken = {t.name for t in out}
    for dims, names in groups.items():
        table = _frame_table(_table_name(dims, taken), ds, names)
        taken.add(table.name)
        out.append(table)
    return out


def _csv_text(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows(table.rows)
    return buffer.getvalue()


def xlsx_ready() -> None:
    """Raise `ExportError` (saying how to install it) unless openpyxl can be imported."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise ExportError(XLSX_HINT) from None


def workbook_name() -> str:
    return "results.xlsx"


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Worksheet titles: at most 31 characters, unique."""
    out: list[str] = []
    for name in names:
        title = name[:31]
        k = 2
        while title in out:
            suffix = f"~{k}"
            title = name[:31 - len(suffix)] + suffix
            k += 1
        out.append(title)
    return out


def _write_xlsx(path: Path, all_tables: list[Table]) -> None:
    from openpyxl import Workbook

    too_long = [t.name for t in all_tables if len(t.rows) + 1 > XLSX_MAX_ROWS]
    if too_long:
        raise ExportError(f"table(s) {', '.join(too_long)} exceed a worksheet's "
                          f"{XLSX_MAX_ROWS:,} rows: use --format csv")
    book = Workbook(write_only=True)
    for title, table in zip(_sheet_names(t.name for t in all_tables), all_tables):
        sheet = book.create_sheet(title)
        sheet.append(table.header)
        for row in table.rows:
            sheet.append(row)
    book.save(path)


def write_tables(ds: xr.Dataset, summary: dict[str, Any], out_dir: str | Path,
                 fmt: str) -> list[Path]:
    """Write the tables of a result into `out_dir`: one `<table>.csv` each (UTF-8 with a
    byte-order mark, which spreadsheet programs need to read `p.u.²` and `m²`), or
    one `results.xlsx` with a sheet per table. Each file is replaced atomically.
    Returns the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    all_tables = tables(ds, summary)
    if fmt == "xlsx":
        xlsx_ready()
        path = out / workbook_name()
        atomic_write(path, lambda tmp: _write_xlsx(tmp, all_tables))
        return [path]
    if fmt != "csv":
        raise ValueError(f"unknown table format '{fmt}' (csv or xlsx)")
    paths = []
    for table in all_tables:
        path = out / f"{table.name}.csv"
        text = _csv_text(table)
        atomic_write(path, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8-sig"))
        paths.append(path)
    return paths


# ---------------------------------------------------------------------- the --format option


class HasTables(Protocol):
    """A result that can write its tables (`gridc.runtime.results.Result`)."""

    summary: dict[str, Any]

    def write_tables(self, out_dir: str | Path, fmt: str) -> list[Path]: ...


def format_problem(fmt: str, out: str | None, pso: bool) -> str | None:
    """Why `--format fmt` cannot be honoured, or None: checked before anything is solved."""
    if fmt == "netcdf":
        return None
    if not out:
        return f"--format {fmt} writes tables into the --out folder: give --out DIR"
    if pso:
        return (f"--format {fmt} applies to a solution; the PSO search writes plan.grid "
                "and summary.json")
    if fmt == "xlsx":
        try:
            xlsx_ready()
        except ExportError as exc:
            return str(exc)
    return None


def write_format(result: HasTables, out_dir: str | Path, fmt: str,
                 report: Callable[[str], Any]) -> str:
    """`--format csv|xlsx`: write the result's tables into `out_dir` (before its
    summary.json, which then lists them under "tables"); returns what was written, in
    words (" and 12 CSV tables"), "" for netcdf. A table that cannot be exported is
    reported through `report` and noted in the summary; the result itself is kept."""
    if fmt == "netcdf":
        return ""
    try:
        paths = result.write_tables(out_dir, fmt)
    except ExportError as exc:
        report(f"error: {exc}")
        result.summary.setdefault("notes", []).append(f"tables not written: {exc}")
        return ""
    if fmt == "csv":
        return f" and {len(paths)} CSV tables"
    return f" and {Path(out_dir) / paths[0].name}"
