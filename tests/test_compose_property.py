"""Composition properties of the one compile path (hypothesis).

Models are `catalogue.PROPERTY_BASE` (a four-bus feeder b1 — b2 — {b3, b4} with bus loads,
a shed penalty and a calm/storm scenario set) plus family snippets
(`catalogue.SNIPPETS`: loads, generators, an explicit grid unit, storage, a loss penalty,
reinforcement, topology, DG sizing, substation sizing, storage investment, MESS, EV-RB),
under `lindistflow` or `distflow`. Only compiled, never solved.

(a) Nothing disappears when families are combined: compiling base + A + B yields every
    variable and constraint block name that base + A and base + B yield, and each such
    block keeps (at least) the coordinate labels it had alone.

(b) Every component and investment of the IR (`Model.networks[0].buses/lines`,
    `generators`, `loads`, `storages`, `investments`) is named by a block of the compiled
    model. The mapping used:

    ================  ========================================================================
    IR object         named by
    ================  ========================================================================
    bus               a block whose source dim is `bus` with the bus id among its labels
                      (`bus_w`, `nodal_p`, `bus_shed_p`, ...)
    line              a block with source `line` holding the line id (`line_p`, ...)
    generator         a block with source `gen` holding its name (`gen_p`, `gen_q`)
    storage           a block with source `storage` holding its name
    load              a block with source `load` holding its name (`load_shed_p`: the base
                      prices shedding; without `penalty shed` a load is only data of
                      `nodal_p`, and has no block of its own)
    reinforcement     `reinforced` [line], upper bound 1 on every candidate
    mobile_storage    `mess_units` [mess_type] holding every type name
    ev_battery        `ev_packs` [pack_type, ev_site] holding every type and site bus
    dg                `dg_units` [dg] holding the investment's name
    substation        `substation_rating` [substation, rating] holding the name and ratings
    lines             `line_p` holding every candidate's line id, and `line_built` (upper
                      bound 1) on the candidates that are not `existing`
    storage (invest)  `storage_power_size` and `storage_energy_size` [storage] holding the name
    stations          a block with source `css` holding one of its sites
    ================  ========================================================================

    and every investment is priced: a `PricedItem` named for it or for one of its types
    (a `lines` investment whose candidates all exist is not priced: nothing to buy).

(c) Every variable of the compiled model is described in `CompiledModel.blocks` (its
    family, source dim and unit), which is what `runtime.results` labels the solution
    dataset with; a variable without a block is reported as an "elastic slack".

The same (b) and (c) are checked once, without hypothesis, on models/css_adn.grid (the one
shipped model with a `stations` investment; compile only, ~7 s).
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import catalogue as C
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gridc
from gridc.compiler.core.compiled import CompiledModel
from gridc.dsl import ir
from gridc.dsl import ir_planning as P

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = tuple(sorted(C.SNIPPETS))
SETTINGS = settings(max_examples=15, deadline=None, database=None, derandomize=True)
formulations = st.sampled_from(C.FORMULATIONS)


def text_of(families: tuple[str, ...], formulation: str) -> str:
    return (C.PROPERTY_BASE + f"formulation {formulation}\n"
            + "".join(C.SNIPPETS[f] for f in families))


@functools.cache
def compiled(families: tuple[str, ...], formulation: str) -> CompiledModel:
    """The base with `families` (sorted, so that A+B and B+A are one model), compiled."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = gridc.parse(text_of(families, formulation), "property.grid")
        return gridc.compile(model).compiled


def labels(c: CompiledModel) -> dict[str, dict[str, set[str]]]:
    """Every variable and constraint block -> its dims -> coordinate labels."""
    out: dict[str, dict[str, set[str]]] = {}
    for container in (c.model.variables, c.model.constraints):
        for name in container:
            obj = container[name]
            out[name] = {str(d): {str(x) for x in obj.indexes[d]} for d in obj.indexes}
    return out


# ---------------------------------------------------------------------- (a)


def disappeared(a: str, b: str, formulation: str) -> list[str]:
    """Blocks (and labels) of base + a or base + b missing from base + a + b."""
    both = labels(compiled(tuple(sorted((a, b))), formulation))
    missing = []
    for alone in (labels(compiled((a,), formulation)), labels(compiled((b,), formulation))):
        for name, dims in alone.items():
            if name not in both:
                missing.append(name)
                continue
            for dim, labs in dims.items():
                lost = labs - both[name].get(dim, set())
                if lost:
                    missing.append(f"{name}[{dim}]: {sorted(lost)}")
    return sorted(set(missing))


pairs = st.lists(st.sampled_from(FAMILIES), min_size=2, max_size=2, unique=True)


@SETTINGS
@given(pair=pairs, formulation=formulations)
def test_nothing_disappears_when_families_are_combined(pair: list[str],
                                                       formulation: str) -> None:
    """(a): base + A + B ⊇ (base + A) ∪ (base + B), block names and their labels."""
    a, b = pair
    assert disappeared(a, b, formulation) == [], f"{a} + {b} under {formulation}"


@pytest.mark.parametrize("formulation", C.FORMULATIONS)
def test_island_cuts_survive_a_topology_investment(formulation: str) -> None:
    """(a) for one pair, pinned: the reinforcement candidate b2-b3 islands b3 (30 kW) in the
    storm hour, so base + reinforcement has island cuts (`island_cut`, the valid
    inequalities that make a fractional reinforcement pay for what it serves, see
    compiler/islands.py); a `lines` investment elsewhere (a new line b1-b4) changes nothing
    about that island, so base + reinforcement + topology must keep them."""
    alone = labels(compiled(("reinforcement",), formulation))
    assert "island_cut" in alone
    assert disappeared("reinforcement", "topology", formulation) == []


# ---------------------------------------------------------------------- (b)


def _source_labels(c: CompiledModel) -> dict[str, set[str]]:
    """source dim -> every label it has in some block whose source it is."""
    out: dict[str, set[str]] = {}
    every = labels(c)
    for name, block in c.blocks.items():
        dims = every.get(name, {})
        if block.source is not None and block.source in dims:
            out.setdefault(block.source, set()).update(dims[block.source])
    return out


def _block_labels(c: CompiledModel, name: str, dim: str) -> set[str]:
    if name not in c.model.variables:
        return set()
    var = c.model.variables[name]
    return {str(x) for x in var.indexes[dim]} if dim in var.indexes else set()


def _upper(c: CompiledModel, name: str, dim: str, label: str) -> float:
    return float(c.model.variables[name].upper.sel({dim: label}))


def _line_id(c: CompiledModel, fr: str, to: str) -> str | None:
    for ln in c.index.network.lines:
        if {ln.from_bus, ln.to_bus} == {fr, to}:
            return ln.id
    return None


def unnamed(c: CompiledModel, model: ir.Model) -> list[str]:
    """IR objects no block names (see the module docstring for the mapping)."""
    src = _source_labels(c)
    net = model.network()
    out = []
    for kind, dim, names in (("bus", "bus", [b.id for b in net.buses]),
                             ("line", "line", [ln.id for ln in net.lines]),
                             ("generator", "gen", [g.name for g in model.generators]),
                             ("storage", "storage", [s.name for s in model.storages]),
                             ("load", "load", [ld.name for ld in model.loads])):
        out += [f"{kind} {n}" for n in names if n not in src.get(dim, set())]
    priced = {it.name for it in c.items}
    for inv in model.investments:
        ok = True
        names = {inv.name}
        if isinstance(inv, P.Reinforcement):
            ok = all(x in _block_labels(c, "reinforced", "line")
                     and _upper(c, "reinforced", "line", x) == 1.0 for x in inv.candidates)
        elif isinstance(inv, P.MobileStorage):
            names |= {t.name for t in inv.types}
            ok = {t.name for t in inv.types} <= _block_labels(c, "mess_units", "mess_type")
        elif isinstance(inv, P.EvBattery):
            names |= {t.name for t in inv.types}
            ok = ({t.name for t in inv.types} <= _block_labels(c, "ev_packs", "pack_type")
                  and {s.bus for s in inv.sites} <= _block_labels(c, "ev_packs", "ev_site"))
        elif isinstance(inv, P.DgUnits):
            ok = inv.name in _block_labels(c, "dg_units", "dg")
        elif isinstance(inv, P.Substation):
            ok = (inv.name in _block_labels(c, "substation_rating", "substation")
                  and {str(r) for r in inv.ratings_kva}
                  <= _block_labels(c, "substation_rating", "rating"))
        elif isinstance(inv, P.LineBuild):
            ids = [_line_id(c, x.from_bus, x.to_bus) for x in inv.candidates]
            ok = all(i is not None and i in src.get("line", set()) for i in ids)
            new = [str(i) for i, x in zip(ids, inv.candidates) if not x.existing]
            ok = ok and all(i in _block_labels(c, "line_built", "line")
                            and _upper(c, "line_built", "line", i) == 1.0 for i in new)
            if not new:
                names = set(priced)  # nothing to buy, nothing priced
        elif isinstance(inv, P.StorageBuild):
            ok = all(inv.name in _block_labels(c, b, "storage")
                     for b in ("storage_power_size", "storage_energy_size"))
        elif isinstance(inv, P.Stations):
            names |= {e.name for e in inv.equipment}
            ok = bool(set(inv.sites) & src.get("css", set()))
        if not ok:
            out.append(f"{inv.kind} investment {inv.name}: no block")
        if not names & priced:
            out.append(f"{inv.kind} investment {inv.name}: not priced")
    return out


def unlabelled(c: CompiledModel) -> list[str]:
    """(c): variables of the linopy model without a `Block` (family, source, unit)."""
    return sorted(set(c.model.variables) - set(c.blocks))


subsets = st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=3, unique=True)


@SETTINGS
@given(families=subsets, formulation=formulations)
def test_every_component_and_investment_is_named_by_a_block(families: list[str],
                                                            formulation: str) -> None:
    """(b) and (c) on base + 1 to 3 families."""
    key = tuple(sorted(families))
    c = compiled(key, formulation)
    assert unnamed(c, c.source_model) == []
    assert unlabelled(c) == []


@pytest.fixture(scope="module")
def css_adn() -> CompiledModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gridc.compile(gridc.load(ROOT / "models" / "css_adn.grid")).compiled


def test_stations_model_names_its_components(css_adn: CompiledModel) -> None:
    """(b) on models/css_adn.grid: lines (candidate feeders, radial), two DG plants, a
    substation and the `stations` investment, under distflow."""
    model = css_adn.source_model
    assert {i.kind for i in model.investments} >= {"stations", "lines", "dg", "substation"}
    assert css_adn.formulation == "distflow"
    assert unnamed(css_adn, model) == []


def test_stations_model_describes_every_variable(css_adn: CompiledModel) -> None:
    """(c) on models/css_adn.grid: the station decisions (chargers, swappers, packs,
    transformer choice, served energy) are variables of the model like any other, so they
    need a block too — without one the solution dataset labels them 'elastic slack'
    (runtime/results.py `solution_dataset`)."""
    assert unlabelled(css_adn) == []
