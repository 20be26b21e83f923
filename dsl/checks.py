"""Semantic validation of a built Model: small `check_*` functions, each adding
diagnostics for one rule. `check_model` runs them all."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.budgets import Budget, check_budget
from gridc.dsl.build.reader import Context
from gridc.dsl.diagnostics import Collector, did_you_mean
from gridc.dsl.feeding import check_fed
from gridc.dsl.locate import name_span as _locate
from gridc.dsl.locate import value_span as _value_of
from gridc.dsl.ranges import check_ranges
from gridc.dsl.spans import Span
from gridc.dsl.usage import check_unused_profiles
from gridc.dsl.variants import check_fixes, check_overrides


def _unique(diags: Collector, what: str, items: Iterable[tuple[str, Span]]) -> set[str]:
    seen: dict[str, Span] = {}
    for name, span in items:
        if name in seen:
            diags.error("GRID040", f"duplicate {what} '{name}'", span,
                        help=f"the first is at {seen[name].label()}")
        else:
            seen[name] = span
    return set(seen)


def _plural(what: str) -> str:
    if what.endswith("s"):
        return what + "es"
    if what.endswith("y"):
        return what[:-1] + "ies"
    return what + "s"


def _numeral(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _ref_help(what: str, name: str, known: set[str]) -> str:
    """'did you mean ...?' or the valid names; numbered buses are shown as a range
    (the closest spelling of '34' is no help when the buses are 1 .. 33)."""
    if known and _numeral(name) and all(_numeral(k) for k in known):
        numbers = sorted(int(k) for k in known)
        # consecutive (compared by count, never by listing 1 .. 99,999,999)
        if numbers[-1] - numbers[0] + 1 == len(numbers) == len(set(numbers)):
            return f"the {_plural(what)} are numbered {numbers[0]} .. {numbers[-1]}"
        shown = ", ".join(str(n) for n in numbers[:12]) + (", ..." if len(numbers) > 12 else "")
        return f"valid {_plural(what)}: {shown}"
    return did_you_mean(name, known, _plural(what))


def _ref(diags: Collector, what: str, name: str | None, known: set[str], span: Span,
         m: ir.Model | None = None, after: str | None = None, in_list: bool = False) -> None:
    """Report `name` if it is not among `known`; with `m` and `after`, point at the
    name as written after the word `after` within `span`."""
    if name is not None and name not in known:
        # the help compares the name with every known one: not for the 1,000th error
        hint = _ref_help(what, name, known) if len(diags.items) < 1000 else None
        diags.error("GRID041", f"unknown {what} '{name}'",
                    _locate(m, span, after, name, in_list), help=hint)


def check_unique_ids(m: ir.Model, d: Collector) -> None:
    for net in m.networks:
        _unique(d, "bus", ((b.id, b.span) for b in net.buses))
        _unique(d, "line", ((ln.id, ln.span) for ln in net.lines))
        _unique(d, "shunt", ((sh.id, sh.span) for sh in net.shunts))
    _unique(d, "network", ((n.name, n.span) for n in m.networks))
    _unique(d, "profile", ((p.name, p.span) for p in m.profiles))
    _unique(d, "component", ((c.name, c.span) for c in [*m.loads, *m.generators, *m.storages]))
    _unique(d, "investment", ((i.name, i.span) for i in m.investments))
    _unique(d, "scenario set", ((s.name, s.span) for s in m.scenario_sets))
    for s in m.scenario_sets:
        _unique(d, "scenario", ((x.name, x.span) for x in s.scenarios))
    _unique(d, "study", ((s.name, s.span) for s in m.studies))
    _unique(d, "sweep", ((s.name, s.span) for s in m.sweeps))
    _unique(d, "station", ((s.name, s.span) for s in m.stations))
    _unique(d, "fleet", ((f.name, f.span) for f in m.fleets))
    for inv in m.investments:
        if isinstance(inv, P.MobileStorage | P.EvBattery):
            _unique(d, "type", ((t.name, t.span) for t in inv.types))
        if isinstance(inv, P.EvBattery):
            _unique(d, "site", ((s.bus, s.span) for s in inv.sites))
    if len(m.networks) > 1:
        d.error("GRID049", "a model holds one network", m.networks[1].span,
                help="split the networks into separate models, or merge them")


def check_network(m: ir.Model, d: Collector) -> None:
    for net in m.networks:
        buses = {b.id for b in net.buses}
        _ref(d, "bus", net.slack_bus, buses, net.span, m, "slack")
        if not 0 < net.v_min_pu <= net.v_max_pu:
            d.error("GRID024", "voltage limits must satisfy 0 < min <= max", net.span)
        vn = net.bus_vn_kv()
        for ln in net.lines:
            _ref(d, "bus", ln.from_bus, buses, ln.span, m, "")
            _ref(d, "bus", ln.to_bus, buses, ln.span, m, "")
            if ln.from_bus == ln.to_bus:
                d.error("GRID046", f"{ln.kind} '{ln.id}' connects bus {ln.from_bus} to "
                        "itself", ln.span)
            if ln.kind == "line" and (ln.r_ohm < 0 or ln.x_ohm < 0
                                      or (ln.r_ohm == 0 and ln.x_ohm == 0)):
                d.error("GRID023", f"line '{ln.id}' needs a positive impedance "
                        f"(r = {ln.r_ohm:g} ohm, x = {ln.x_ohm:g} ohm)", ln.span,
                        help="r and x must not be negative and not both zero; a "
                        "zero-impedance connection is a row of 'switches'")
            if ln.rating_kva is not None and ln.rating_kva <= 0:
                d.error("GRID023", f"{ln.kind} '{ln.id}' has a non-positive rating", ln.span)
            if ln.kind != "transformer" and ln.from_bus in vn and ln.to_bus in vn \
                    and not math.isclose(vn[ln.from_bus], vn[ln.to_bus], rel_tol=1e-6):
                d.error("GRID025", f"{ln.kind} '{ln.id}' joins bus {ln.from_bus} "
                        f"({vn[ln.from_bus]:g} kV) and bus {ln.to_bus} "
                        f"({vn[ln.to_bus]:g} kV)", ln.span,
                        help="buses of different nominal voltage are joined by a "
                        "transformer: move the row to 'transformers' (rating, vk, vkr)")
            if ln.transformer is not None:
                _check_transformer(d, ln)
        for b in net.buses:
            if b.p_kw < 0 or b.priority < 0:
                d.error("GRID023", f"bus {b.id}: load and priority must not be negative",
                        b.span)
            if b.vn_kv is not None and b.vn_kv <= 0:
                d.error("GRID023", f"bus {b.id}: nominal voltage must be positive", b.span)
        for sh in net.shunts:
            _ref(d, "bus", sh.bus, buses, sh.span, m, "")


def _check_transformer(d: Collector, ln: ir.Line) -> None:
    """A transformer's nameplate: 0 < vkr <= vk, a positive ratio, no-load data
    consistent (iron losses within the no-load apparent power)."""
    t = ln.transformer
    assert t is not None
    if not t.vk > 0 or not 0 <= t.vkr <= t.vk:
        d.error("GRID023", f"transformer '{ln.id}' needs 0 < vkr <= vk (vk = "
                f"{100 * t.vk:g} %, vkr = {100 * t.vkr:g} %)", ln.span,
                help="vk is the short-circuit voltage, vkr its resistive part, both in %")
    if not ln.tap_ratio > 0 or t.vn_hv_kv <= 0 or t.vn_lv_kv <= 0:
        d.error("GRID023", f"transformer '{ln.id}' has a non-positive voltage ratio "
                f"({ln.tap_ratio:g})", ln.span,
                help="check vn_hv, vn_lv, ratio and the tap position and step")
    if t.pfe_kw < 0 or t.i0 < 0 or (ln.rating_kva is not None
                                     and t.pfe_kw > t.i0 * ln.rating_kva + 1e-9):
        d.error("GRID023", f"transformer '{ln.id}': no-load losses pfe must be within "
                "the no-load apparent power i0 x rating", ln.span,
                help="pfe [kW] <= i0 [%] / 100 x rating [kVA]")


def check_connected(m: ir.Model, d: Collector) -> None:
    """Every bus reachable from the slack through lines, tie lines or candidate lines."""
    from scipy.sparse import coo_matrix  # scipy only when a model is checked (start-up)
    from scipy.sparse.csgraph import connected_components

    for net in m.networks:
        ids = [b.id for b in net.buses]
        if net.slack_bus not in ids:
            continue
        pos = {b: k for k, b in enumerate(ids)}
        edges = [(ln.from_bus, ln.to_bus) for ln in net.lines]
        for inv in m.investments:
            if isinstance(inv, P.LineBuild):
                edges += [(c.from_bus, c.to_bus) for c in inv.candidates]
        edges = [(pos[a], pos[b]) for a, b in edges if a in pos and b in pos]
        # one graph routine for every connectivity rule (dsl/feeding.py uses it too)
        graph = coo_matrix((np.ones(len(edges)), (np.array([a for a, _ in edges], dtype=int),
                                                  np.array([b for _, b in edges], dtype=int))),
                           shape=(len(ids), len(ids)))
        _, label = connected_components(graph, directed=False)
        seen = {ids[k] for k in np.flatnonzero(label == label[pos[net.slack_bus]])}
        cut = [b for b in net.buses if b.id not in seen]
        if cut:
            names = ", ".join(b.id for b in cut[:8]) + (" ..." if len(cut) > 8 else "")
            d.error("GRID044", f"network '{net.name}' is not connected: {len(cut)} bus(es) "
                    f"unreachable from the slack ({names})", cut[0].span,
                    help="add a line (or a candidate line) that connects them")


def check_components(m: ir.Model, d: Collector) -> None:
    buses = {b.id for n in m.networks for b in n.buses}
    profiles = {p.name for p in m.profiles}
    for c in [*m.loads, *m.generators, *m.storages]:
        _ref(d, "bus", c.bus, buses, c.span, m, "at")
    for ld in m.loads:
        _ref(d, "profile", ld.profile, profiles, ld.span, m, "profile")
    for g in m.generators:
        _ref(d, "profile", g.profile, profiles, g.span, m, "profile")
        _ref(d, "profile", g.price_profile, profiles, g.span, m, "price")
        if g.kind in ("pv", "wind") and g.profile is None:
            d.error("GRID012", f"{g.kind} generator '{g.name}' needs a 'profile'", g.span,
                    help="give the per-unit forecast, e.g. profile pv_day")
    for net in m.networks:
        _ref(d, "profile", net.load_profile, profiles, net.span, m,
             "load_profile")
    for pr in m.prices:
        _ref(d, "profile", pr.profile, profiles, pr.span, m, "profile")


def check_investments(m: ir.Model, d: Collector) -> None:
    buses = {b.id for n in m.networks for b in n.buses}
    lines = {ln.id for n in m.networks for ln in n.lines}
    profiles = {p.name for p in m.profiles}
    sites = {s.name for s in m.stations}
    for inv in m.investments:
        if isinstance(inv, P.Reinforcement):
            for c in inv.candidates:
                _ref(d, "line", c, lines, inv.span, m, "candidates", in_list=True)
            if inv.count.max > len(inv.candidates):
                d.error("GRID023", f"count max {inv.count.max} exceeds the "
                        f"{len(inv.candidates)} candidate lines", inv.count.span,
                        help=f"at most {len(inv.candidates)} of the candidates can be built")
        elif isinstance(inv, P.MobileStorage):
            _ref(d, "bus", inv.depot, buses, inv.span, m, "depot")
            for c in inv.candidates:
                _ref(d, "bus", c, buses, inv.span, m, "candidates", in_list=True)
            for t in inv.types:
                if not t.soc_min <= t.soc_init <= t.soc_max:
                    d.error("GRID024", f"type '{t.name}': soc_init outside soc range", t.span)
        elif isinstance(inv, P.EvBattery):
            for s in inv.sites:
                _ref(d, "bus", s.bus, buses, s.span, m, "")
        elif isinstance(inv, P.DgUnits | P.Substation):
            _ref(d, "bus", inv.bus, buses, inv.span, m, "at")
            if isinstance(inv, P.DgUnits):
                _ref(d, "profile", inv.profile, profiles, inv.span, m, "profile")
        elif isinstance(inv, P.LineBuild):
            for c in inv.candidates:
                _ref(d, "bus", c.from_bus, buses, c.span, m, "")
                _ref(d, "bus", c.to_bus, buses, c.span, m, "")
        elif isinstance(inv, P.Stations):
            for s in inv.sites:
                _ref(d, "station", s, sites, inv.span, m, "sites", in_list=True)
        elif isinstance(inv, P.StorageBuild):
            _ref(d, "bus", inv.bus, buses, inv.span, m, "at")
            _check_storage_build(m, d, inv)
    for st in m.stations:
        _ref(d, "bus", st.bus, buses, st.span, m, "at")
        nodes = {n.id for a in m.areas for n in a.nodes}
        if st.road_node is not None and m.areas:
            _ref(d, "road node", st.road_node, nodes, st.span, m, "road_node")


def _check_size(m: ir.Model, d: Collector, inv: P.StorageBuild, key: str, lo: float,
                hi: float, unit: str) -> None:
    """A size range of a storage investment: 0 <= min <= max and max > 0."""
    where = _value_of(m, inv.span, key)
    example = f"write e.g. '{key} 0 .. {500 if unit == 'kW' else 2000} {unit}'"
    if lo < 0 or hi < 0:
        d.error("GRID023", f"investment '{inv.name}': {key} must not be negative, found "
                f"{lo:g} .. {hi:g} {unit}", where, help=example)
    elif lo > hi:
        d.error("GRID024", f"investment '{inv.name}': {key} lower bound {lo:g} {unit} exceeds "
                f"upper bound {hi:g} {unit}", where, help="write the range as low .. high")
    elif hi <= 0:
        d.error("GRID023", f"investment '{inv.name}': the largest {key} must be positive, "
                f"found {hi:g} {unit}", where, help=example)


def _check_storage_build(m: ir.Model, d: Collector, inv: P.StorageBuild) -> None:
    _check_size(m, d, inv, "power", inv.power_min_kw, inv.power_max_kw, "kW")
    _check_size(m, d, inv, "energy", inv.energy_min_kwh, inv.energy_max_kwh, "kWh")
    units = (inv.unit_kw, inv.unit_kwh)
    if (inv.unit_kw is None) != (inv.unit_kwh is None):
        d.error("GRID012", f"investment '{inv.name}': 'unit' needs both a power and an energy",
                _value_of(m, inv.span, "unit"),
                help="write e.g. 'unit 100 kW 400 kWh' (the battery is built in whole units "
                     "of both), or leave 'unit' out for sizes chosen freely")
    elif any(u is not None and u <= 0 for u in units):
        d.error("GRID023", f"investment '{inv.name}': unit sizes must be positive, found "
                f"{inv.unit_kw:g} kW {inv.unit_kwh:g} kWh", _value_of(m, inv.span, "unit"),
                help="write e.g. 'unit 100 kW 400 kWh'")
    if not 0 < inv.efficiency <= 1:
        d.error("GRID023", f"investment '{inv.name}': an efficiency must lie in (0, 1], found "
                f"{inv.efficiency:g}", _value_of(m, inv.span, "efficiency"),
                help="write the one-way efficiency, e.g. 'efficiency 95 %'")
    soc = f"{inv.soc_min:g} .. {inv.soc_max:g}"
    if not 0 <= inv.soc_min <= 1 or not 0 <= inv.soc_max <= 1:
        d.error("GRID023", f"investment '{inv.name}': soc {soc} must lie between 0 and 1",
                _value_of(m, inv.span, "soc"), help="write e.g. 'soc 10 % .. 90 %'")
    elif inv.soc_min > inv.soc_max:
        d.error("GRID024", f"investment '{inv.name}': soc lower bound {inv.soc_min:g} exceeds "
                f"upper bound {inv.soc_max:g}", _value_of(m, inv.span, "soc"),
                help="write the range as low .. high")
    elif not inv.soc_min <= inv.soc_init <= inv.soc_max:
        d.error("GRID024", f"investment '{inv.name}': soc_init {inv.soc_init:g} lies outside "
                f"soc {soc}", _value_of(m, inv.span, "soc_init"),
                help=f"the initial state of charge must lie within soc {soc}")
    if inv.wear_cny_per_kwh < 0:
        d.error("GRID023", f"investment '{inv.name}': wear must not be negative, found "
                f"{inv.wear_cny_per_kwh:g} CNY/kWh", _value_of(m, inv.span, "wear"))
    if inv.power_costs is None and inv.energy_costs is None:
        d.error("GRID012", f"investment '{inv.name}' needs an 'install' cost per kW of power "
                "or per kWh of energy (or both)", inv.span,
                help="add e.g. 'install 800 CNY/kW' and/or 'install 1200 CNY/kWh', "
                     "with 'life 10 y'")


def check_areas(m: ir.Model, d: Collector) -> None:
    for a in m.areas:
        regions = _unique(d, "region", ((r.name, r.span) for r in a.regions))
        _unique(d, "road node", ((n.id, n.span) for n in a.nodes))
        for n in a.nodes:
            _ref(d, "region", n.region, regions, n.span, m, "")
        kinds = {r.kind for r in a.regions}
        for needed in ("residential", "working", "commercial"):
            if needed not in kinds:
                d.error("GRID012", f"area '{a.name}' has no {needed} region", a.span,
                        help=f"travel chains need one, e.g. 'region R9 : {needed}'")


def check_time(m: ir.Model, d: Collector) -> None:
    if m.horizon is None:
        return
    n, end = m.horizon.steps, m.horizon.steps * m.horizon.step_h
    for p in m.profiles:
        if len(p.values) != n:
            d.error("GRID043", f"profile '{p.name}' has {len(p.values)} values but the horizon "
                    f"has {n} steps", p.span, help=f"give {n} values, one per step")
    for s in m.scenario_sets:
        groups = [*s.scenarios, *(s.history.events if s.history is not None else ())]
        for sc in groups:
            for o in sc.outages:
                if o.start_h >= end or (math.isfinite(o.end_h) and o.end_h > end):
                    d.error("GRID047", f"outage of '{o.line}' lies outside the {end:g} h horizon",
                            o.span)


def check_scenarios(m: ir.Model, d: Collector) -> None:
    lines = {ln.id for n in m.networks for ln in n.lines}
    targets = ({"load"} | {p.name for p in m.profiles}
               | {g.name for g in m.generators})
    for s in m.scenario_sets:
        if s.scenarios:
            total = sum(x.probability for x in s.scenarios)
            if abs(total - 1.0) > 1e-6:
                d.error("GRID042", f"probabilities of '{s.name}' sum to {total:g}, not 1",
                        s.span, help="adjust them so that they add up to 1")
        events = s.history.events if s.history is not None else ()
        for ev in events:
            for o in ev.outages:
                _ref(d, "line", o.line, lines, o.span, m, "")
        for sc in s.scenarios:
            for o in sc.outages:
                _ref(d, "line", o.line, lines, o.span, m, "outage")
            for sl in sc.scalings:
                _ref(d, "scaling target", sl.target, targets, sl.span, m, "scale")


def check_studies(m: ir.Model, d: Collector) -> None:
    studies = {s.name: s for s in m.studies}
    invs = {i.name for i in m.investments}
    sets = {s.name for s in m.scenario_sets}
    for s in m.studies:
        if s.extends is not None:
            _ref(d, "study", s.extends, set(studies), s.span, m, "extends")
        for w in s.without:
            _ref(d, "investment", w, invs, s.span, m, r"without(?:\s+\w+)*?")
        _ref(d, "scenario set", s.scenarios, sets, s.span, m, "scenarios")
        for f in s.fixes:
            _ref(d, "investment", f.investment, invs, f.span, m, "fix")
    # extends must be acyclic: report each cycle once, at its first study in the file
    reported: set[frozenset[str]] = set()
    for s in m.studies:
        seen = [s.name]
        cur = s
        while cur.extends is not None and cur.extends in studies:
            if cur.extends in seen:
                cycle = seen[seen.index(cur.extends):]
                if cur.extends == s.name and frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    d.error("GRID045", f"study '{s.name}' extends itself: "
                            + " -> ".join([*seen, cur.extends]),
                            _locate(m, s.span, "extends", str(s.extends)),
                            help="remove 'extends' from one of the studies "
                                 + ", ".join(f"'{c}'" for c in cycle))
                break
            seen.append(cur.extends)
            cur = studies[cur.extends]
    for sw in m.sweeps:
        _ref(d, "study", sw.study, set(studies), sw.span, m, "over")


#: the checks that judge one overridden object, by the collection it lives in
_OBJECT_CHECKS = {"networks": check_network, "generators": check_components,
                  "storages": check_components, "loads": check_components,
                  "investments": check_investments}


def check_variants(m: ir.Model, d: Collector) -> None:
    """Every `set` of every study and sweep case on the model as it leaves it, and every
    study's fixed plan (gridc.dsl.variants)."""
    check_overrides(m, d, _OBJECT_CHECKS, _ref)
    check_fixes(m, d)


#: investment kinds a model holds once: their blocks and plans are one per model (every
#: type or site of the kind goes into that one statement)
ONE_PER_MODEL = {"mobile_storage": "types", "ev_battery": "types and sites",
                 "stations": "sites"}


def check_once(m: ir.Model, d: Collector) -> None:
    """A second `penalty`/`price` of one kind, or a second investment of a kind a model
    holds once, would be read and then ignored: refuse it (GRID017)."""
    seen: dict[tuple[str, str], Span] = {}
    items: list[tuple[str, str, Span, str]] = [
        ("penalty", p.kind, p.span, "keep one 'penalty " + p.kind + " ...'")
        for p in m.penalties]
    items += [("price", p.kind, p.span, "keep one 'price " + p.kind + " ...'")
              for p in m.prices]
    items += [("investment", i.kind, i.span, f"put every {ONE_PER_MODEL[i.kind]} into the "
               f"first '{i.kind}' investment") for i in m.investments if i.kind in ONE_PER_MODEL]
    for what, kind, span, fix in items:
        if (what, kind) in seen:
            first = seen[(what, kind)]
            d.error("GRID017", f"a second '{kind}' {what}: a model holds one", span,
                    help=f"{fix} (the first is at line {first.line})")
        else:
            seen[(what, kind)] = span


CHECKS = (check_unique_ids, check_network, check_connected, check_fed, check_components,
          check_investments, check_once, check_areas, check_time, check_scenarios,
          check_studies, check_ranges, check_variants, check_unused_profiles)


def check_model(m: ir.Model, ctx: Context | Collector, budget: Budget | None = None) -> None:
    """Every rule on the built model `m`; the size estimate against `budget` (default:
    the environment's) only when the rules found nothing (it needs a sound model)."""
    diags = ctx.diags if isinstance(ctx, Context) else ctx
    for check in CHECKS:
        check(m, diags)
    if not diags:
        check_budget(m, diags, budget or Budget.resolve())
