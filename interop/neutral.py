"""The neutral representation of an imported network: plain tables, one per element kind.

Why a representation of its own: every reader (MATPOWER, pandapower, OpenDSS) turns its
source into these records in the units of the `.grid` language (kV, kW, kvar, kVA, ohm,
µS, %), and one writer (`gridc.interop.writer`) prints them. What a reader had to
approximate travels with the record (`note`) or the network (`approximations`), and where
each number came from travels in `provenance`, so that the written files can say both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path


class ImportFailure(Exception):
    """A source that cannot be imported (unreadable, unsupported content): the message
    says what and why; the CLI prints it without a traceback."""


class MissingExtra(ImportFailure):
    """A reader's library is not installed: the message names the pip extra."""


def require(module: str, extra: str = "import") -> object:
    """Import a reader's optional library, or fail naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtra(
            f"reading this source needs the Python package '{module}', which is not "
            f"installed: pip install 'gridc[{extra}]' ({exc})") from None


def source_file(source: str) -> Path:
    """The file a reader reads, or the failure every reader gives for a missing one."""
    path = Path(source)
    if not path.is_file():
        raise ImportFailure(f"{source}: no such file")
    return path


@dataclass(frozen=True)
class Bus:
    id: str
    vn_kv: float
    p_kw: float = 0.0  # the sum of the source's loads at this bus
    q_kvar: float = 0.0
    v_min_pu: float | None = None
    v_max_pu: float | None = None
    x_km: float | None = None
    y_km: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Line:
    id: str
    from_bus: str
    to_bus: str
    r_ohm: float
    x_ohm: float
    b_us: float = 0.0  # total shunt (charging) susceptance
    rating_kva: float | None = None
    length_km: float | None = None
    open: bool = False
    switchable: bool = False
    note: str = ""


@dataclass(frozen=True)
class Transformer:
    id: str
    from_bus: str  # HV side
    to_bus: str  # LV side
    rating_kva: float
    vk_pct: float
    vkr_pct: float
    vn_hv_kv: float
    vn_lv_kv: float
    tap_pos: float = 0.0
    tap_neutral: float = 0.0
    tap_step_pct: float = 0.0
    tap_side: str = "hv"
    ratio: float = 1.0
    pfe_kw: float = 0.0
    i0_pct: float = 0.0
    open: bool = False
    note: str = ""


@dataclass(frozen=True)
class Switch:
    id: str
    from_bus: str
    to_bus: str
    open: bool = False
    switchable: bool = True
    rating_kva: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Shunt:
    id: str
    bus: str
    q_kvar: float  # at 1 pu, positive = capacitive (MATPOWER's Bs sign)
    p_kw: float = 0.0
    note: str = ""


@dataclass(frozen=True)
class Generator:
    """A generating unit at its source operating point: P fixed (p_min = p_max), Q
    fixed when the source fixes it (`q_kvar`), else free within `q_min`..`q_max`."""

    id: str
    bus: str
    p_kw: float
    q_kvar: float | None = None
    q_min_kvar: float | None = None
    q_max_kvar: float | None = None
    note: str = ""


@dataclass
class Network:
    """One imported network. `source` says what was read (one line); `provenance`
    lines say where the numbers of each table came from; `approximations` what the
    import could not carry over exactly."""

    name: str
    source: str
    base_kv: float
    base_kva: float
    slack_bus: str
    slack_v_pu: float = 1.0
    v_min_pu: float = 0.9
    v_max_pu: float = 1.1
    voltage_note: str = ""
    buses: list[Bus] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    transformers: list[Transformer] = field(default_factory=list)
    switches: list[Switch] = field(default_factory=list)
    shunts: list[Shunt] = field(default_factory=list)
    generators: list[Generator] = field(default_factory=list)
    provenance: list[str] = field(default_factory=list)
    approximations: list[str] = field(default_factory=list)


#: reserved words of the language (docs/language.md §2.4): no id is made of one bare
KEYWORDS = frozenset({"at", "from", "to", "with", "by", "over", "extends", "step", "column",
                      "cluster", "each"})

_NAME = re.compile(r"[^A-Za-z0-9_]+")


def model_name(text: str) -> str:
    """A `.grid` name (letters, digits, `_`, not starting with a digit) from any text."""
    name = _NAME.sub("_", text).strip("_") or "imported"
    return name if not name[0].isdigit() and name not in KEYWORDS else f"net_{name}"


def natural_key(ident: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts `2` before `10` and `l2` before `l10` (deterministic output)."""
    parts = re.findall(r"\d+|\D+", ident)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def clean(text: object) -> str:
    """Source text for a comment: one line, printable, no comment terminators."""
    value = "" if text is None else str(text)
    return re.sub(r"[^\x20-\x7e]+", " ", value).strip()
