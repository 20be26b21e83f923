"""A catalogue of tiny `.grid` models, one family at a time (cvxpy-style atoms).

Used by `tests/test_composability.py` (each model solved and compared with an optimum
derived by hand in the test's docstring) and `tests/test_compose_property.py` (family
snippets added to one base feeder, compiled alone and in pairs).

Conventions shared by every model here, so that the hand derivations stay short:

* 2 steps of 1 h (`horizon 2 h step 1 h`), `economics { discount 8 %, life 20 y,
  days_per_year 365 }` (present value unless a model says `pricing annualised`);
* a radial feeder b1 — b2 — b3 (slack b1 at 1.0 pu, base 10 kV 1 MVA, so
  Z_base = 10² · 1000 / 1000 = 100 ohm), voltage limits 0.8 .. 1.2 pu wide enough never
  to bind; lines have r = 0 ohm and x = 1 ohm unless a model says otherwise, so that
  DistFlow has no active losses and gives the LinDistFlow optimum (reactive losses x·ℓ
  are supplied free by the grid, whose reactive import is unbounded);
* grid energy at 0.5 CNY/kWh (`price grid`) unless a model gives a profile.

Every function returns the whole model text for one formulation, written at the top level;
`in_study` moves it into a study (both are the same compile path).
"""

from __future__ import annotations

FORMULATIONS = ("lindistflow", "distflow")

HEAD = """model catalogue "tiny composability model"
horizon 2 h step 1 h
economics { discount 8 %, life 20 y, days_per_year 365 }
"""

#: (from, to, r ohm, x ohm, rating kVA) of the default three-bus feeder
LINES3 = (("b1", "b2", 0.0, 1.0, 2000.0), ("b2", "b3", 0.0, 1.0, 2000.0))


def feeder(lines: tuple[tuple[str, str, float, float, float], ...] = LINES3,
           buses: tuple[tuple[str, float, float], ...] = (),
           extra: str = "") -> str:
    """The network: `lines` as (from, to, r, x, rating); `buses` as (id, p kW, priority)
    (every bus named by a line is listed, with 0 kW and priority 1 unless given);
    `extra`: more properties of the network block (cable data, ties, ...)."""
    given = {b: (p, prio) for b, p, prio in buses}
    names: list[str] = []
    for fr, to, *_ in lines:
        for b in (fr, to):
            if b not in names:
                names.append(b)
    names += [b for b in given if b not in names]
    bus_rows = "\n".join(f"    {b}  {given.get(b, (0.0, 1.0))[0]:g}  "
                         f"{given.get(b, (0.0, 1.0))[1]:g}" for b in names)
    line_rows = "\n".join(f"    {fr}  {to}  {r:g}  {x:g}  {s:g}" for fr, to, r, x, s in lines)
    return f"""network n {{
  base 10 kV 1 MVA
  slack b1 at 1.0 pu
  voltage 0.8 .. 1.2 pu
{extra}  buses table {{
    id  p[kW]  priority
{bus_rows}
  }}
  lines table {{
    from  to  r[ohm]  x[ohm]  rating[kVA]
{line_rows}
  }}
}}
"""


def model(formulation: str, *parts: str, study: str = "") -> str:
    """HEAD, `formulation` at the top level, then `parts`; `study`: the properties of a
    study `main` (e.g. `without dg3`), written last when given."""
    tail = f"study main {{ {study} }}\n" if study else ""
    return HEAD + f"formulation {formulation}\n" + "".join(parts) + tail


def in_study(text: str, formulation: str) -> str:
    """`text` (a `model`) with its formulation written inside the study `main` instead of
    at the top level (the study is added when there is none)."""
    text = text.replace(f"formulation {formulation}\n", "", 1)
    if "study main { " in text:
        return text.replace("study main { ", f"study main {{ formulation {formulation}, ", 1)
    return text + f"study main {{ formulation {formulation} }}\n"


GRID_PRICE = "price grid 0.5 CNY/kWh\n"
SHED = "penalty shed 10 CNY/kWh\n"
#: one scenario (probability 1) in which b2-b3 is out for the whole horizon
STORM = """scenarios storm {
  scenario storm { probability 1, outage b2-b3 from 0 h to 2 h }
}
"""


# ---------------------------------------------------------------------- operation


def lines_rating(f: str) -> str:
    """Line b2-b3 rated 60 kVA feeds a 100 kW load; a dearer gas turbine at b3 fills in."""
    return model(f, GRID_PRICE,
                 feeder((("b1", "b2", 0.0, 1.0, 2000.0), ("b2", "b3", 0.0, 1.0, 60.0))),
                 "load L3 at b3 { p 100 kW }\n",
                 "generator g3 : gas_turbine at b3 { p_max 100 kW, fuel 0.8 CNY/kWh }\n")


def lines_losses(f: str, objective: str = "") -> str:
    """One line b1-b2 with r = 10 ohm (0.1 pu), x = 0, a 500 kW load at b2."""
    study = f"study main {{ formulation {f}, objective {objective} }}\n" if objective else ""
    text = model(f, GRID_PRICE, feeder((("b1", "b2", 10.0, 0.0, 2000.0),)),
                 "load L2 at b2 { p 500 kW }\n", study)
    return text


def loads_shedding(f: str) -> str:
    """Bus load 50 kW (priority 3) at b2; at b3 a hospital (60 kW, priority 10) and a shop
    (60 kW × [1, 0.5], priority 1) behind line b2-b3 rated 100 kVA."""
    return model(f, GRID_PRICE,
                 feeder((("b1", "b2", 0.0, 1.0, 2000.0), ("b2", "b3", 0.0, 1.0, 100.0)),
                        buses=(("b2", 50.0, 3.0),)),
                 "profile half = [1, 0.5]\n",
                 "load hospital at b3 { p 60 kW, q 10 kvar, priority 10 }\n",
                 "load shop at b3 { p 60 kW, priority 1, profile half }\n",
                 "penalty shed 2 CNY/kWh weighted by priority\n")


def demand_above_nominal(f: str, how: str) -> str:
    """L3 = 100 kW nominal at b3, drawing more than that: `scale load 2` in the only
    scenario (how = "scale"), or its own profile [1.5, 2] (how = "profile"); shed
    10 CNY/kWh."""
    if how == "scale":
        return model(f, GRID_PRICE, feeder(), "load L3 at b3 { p 100 kW }\n", SHED,
                     "scenarios peak {\n  scenario hot { probability 1, scale load 2 }\n}\n")
    return model(f, GRID_PRICE, feeder(), "profile up = [1.5, 2]\n",
                 "load L3 at b3 { p 100 kW, profile up }\n", SHED)


def generators(f: str) -> str:
    """A grid unit at b1 with a time-of-use price, a gas turbine at b2 (p_min 20 kW), a PV
    plant at b3; 150 kW of load at b3."""
    return model(f, feeder(),
                 "profile tou = [0.3, 0.6] CNY/kWh\n",
                 "profile sun = [0.5, 0]\n",
                 "generator supply : grid at b1 { p_max 2 MVA, price tou }\n",
                 "generator gt2 : gas_turbine at b2 { p_max 60 kW, p_min 20 kW, "
                 "fuel 0.4 CNY/kWh }\n",
                 "generator pv3 : pv at b3 { p_max 100 kW, profile sun, "
                 "curtailment 0.2 CNY/kWh }\n",
                 "load L3 at b3 { p 150 kW }\n")


def storage(f: str) -> str:
    """A battery at b2 (100 kW, 200 kWh, η 90 %, SOC 10 .. 90 %, starting empty) next to a
    100 kW load, under the price [0.2, 1.0] CNY/kWh."""
    return model(f, feeder(),
                 "profile tou = [0.2, 1.0] CNY/kWh\n", "price grid profile tou\n",
                 "load L2 at b2 { p 100 kW }\n",
                 "storage bat at b2 { power 100 kW, energy 200 kWh, efficiency 90 %, "
                 "soc 10 % .. 90 %, soc_init 10 % }\n")


# ---------------------------------------------------------------------- planning

REINFORCE = """invest harden : reinforcement {
  candidates [b2-b3]
  count 0 .. 1
  install %s
  life 20 y
}
"""


def reinforcement(f: str, invest: bool, install: str = "400 kCNY") -> str:
    """A 100 kW load at b3; in the storm (probability 0.5) line b2-b3 is out all day."""
    parts = [GRID_PRICE, feeder(), "load L3 at b3 { p 100 kW }\n", SHED,
             "scenarios storm {\n  scenario calm { probability 0.5 }\n"
             "  scenario storm { probability 0.5, outage b2-b3 from 0 h to 2 h }\n}\n"]
    if invest:
        parts.append(REINFORCE % install)
    return model(f, *parts)


TOPO_NET = feeder((("b1", "b2", 0.0, 1.0, 2000.0),), buses=(("b3", 0.0, 1.0),),
                  extra="  cable_r 0 ohm/km\n  cable_x 0.3 ohm/km\n  cable_rating 2000 kVA\n")


def topology(f: str, invest: bool) -> str:
    """b3 is reached only by candidate lines: an existing one (operation), or two new ones
    b2-b3 (1 km) and b1-b3 (3 km) under `radial` (investment); 100 kW at b3."""
    if invest:
        cands = "    b2    b3  1           no\n    b1    b3  3           no\n"
        flag = "  radial\n"
    else:
        cands = "    b2    b3  1           yes\n"
        flag = ""
    return model(f, GRID_PRICE, TOPO_NET, "load L3 at b3 { p 100 kW }\n", SHED,
                 "invest feeders : lines {\n  candidates table {\n"
                 "    from  to  length[km]  existing\n" + cands + "  }\n"
                 "  install 500 kCNY/km\n  life 20 y\n" + flag + "}\n")


def annualised(text: str) -> str:
    """`text` with `pricing annualised` in its economics block."""
    return text.replace("days_per_year 365 }", "days_per_year 365, pricing annualised }")


def dg(f: str, invest: bool, install: str = "1000 CNY/kW") -> str:
    """A 200 kW load at b3 and a PV plant to size there (4 units of 50 kW at most), profile
    [1, 0.5], annualised pricing; `invest=False` is the study `without pv3`."""
    return annualised(model(
        f, GRID_PRICE, feeder(), "profile sun = [1, 0.5]\n", "load L3 at b3 { p 200 kW }\n",
        "invest pv3 : dg at b3 {\n  source pv\n  unit 50 kW\n  capacity 0 .. 200 kW\n"
        f"  profile sun\n  install {install}\n  maintain 10 CNY/kW/y\n  life 20 y\n}}\n",
        study="" if invest else "without pv3"))


def substation(f: str, invest: bool) -> str:
    """150 kW at b3 behind a substation at b1 with no capacity of its own: 100 or 200 kVA
    may be installed (load rate and power factor 100 %)."""
    return model(f, GRID_PRICE, feeder(), "load L3 at b3 { p 150 kW }\n", SHED,
                 "invest sub : substation at b1 {\n  ratings [100, 200] kVA\n"
                 "  existing 0 kVA\n  load_rate 100 %\n  power_factor 100 %\n"
                 "  install 100 CNY/kVA\n  life 20 y\n}\n",
                 study="" if invest else "without sub")


def storage_invest(f: str, invest: bool, unit: bool = False) -> str:
    """The `storage` model's arbitrage, with the battery at b2 to size: power 0 .. 100 kW,
    energy 0 .. 400 kWh at 200 CNY/kW + 300 CNY/kWh. `unit=True`: whole units of
    50 kW / 100 kWh, life 10 y, 10 CNY/kW/y, annualised pricing."""
    extra = ("  unit 50 kW 100 kWh\n  maintain 10 CNY/kW/y\n  life 10 y\n" if unit
             else "  life 20 y\n")
    text = model(f, feeder(),
                 "profile tou = [0.2, 1.0] CNY/kWh\n", "price grid profile tou\n",
                 "load L2 at b2 { p 100 kW }\n",
                 "invest bess : storage at b2 {\n  power 0 .. 100 kW\n  energy 0 .. 400 kWh\n"
                 "  efficiency 90 %\n  soc 10 % .. 90 %\n  soc_init 10 %\n"
                 "  install 200 CNY/kW\n  install 300 CNY/kWh\n" + extra + "}\n",
                 study="" if invest else "without bess")
    return annualised(text) if unit else text


MESS = """invest %s : mobile_storage {
  type %s { power 100 kW, energy 200 kWh, install 200 kCNY, life 20 y }
  count 0 .. 1
  depot b1
  candidates [b1, b3]
  moves 1
  travel 1 h
}
"""


def mess(f: str, invest: bool) -> str:
    """The storm model (b2-b3 out all day, probability 1), 100 kW at b3, and one MESS
    (100 kW, 200 kWh, η 95 %, SOC 10 .. 90 % starting full) kept at b1, 1 h away."""
    return model(f, GRID_PRICE, feeder(), "load L3 at b3 { p 100 kW }\n", SHED, STORM,
                 MESS % ("mess", "M1"), study="" if invest else "without mess")


EV = """invest %s : ev_battery {
  sites table {
    bus  evs  piles
    %s   10   5
  }
  type %s { pack 50 kWh, install 30 kCNY, life 20 y }
  ev_power 7 kW
  pile_power 20 kW
  pile_q 0 kvar
  efficiency 100 %%
  soc 10 %% .. 90 %%
  count 0 .. 6
  per_site_max 6
}
"""


def ev_battery(f: str, invest: bool) -> str:
    """The storm model, 100 kW at b3, and EV packs (50 kWh) to place at b3, whose site
    passes min(5 piles × 20 kW, 10 EVs × 7 kW) = 70 kW."""
    return model(f, GRID_PRICE, feeder(), "load L3 at b3 { p 100 kW }\n", SHED, STORM,
                 EV % ("evb", "b3", "RB1"), study="" if invest else "without evb")


# ---------------------------------------------------------------------- two of a kind

FEEDER4 = feeder((("b1", "b2", 0.0, 1.0, 2000.0), ("b2", "b3", 0.0, 1.0, 2000.0),
                  ("b2", "b4", 0.0, 1.0, 2000.0)))


def two_reinforcements(f: str) -> str:
    """Loads of 100 kW at b2 and b3; in the storm (probability 1) b1-b2 and b2-b3 are out
    all day; `r1` may harden b1-b2, `r2` b2-b3, 100 kCNY each."""
    return model(f, GRID_PRICE, feeder(), "load L2 at b2 { p 100 kW }\n",
                 "load L3 at b3 { p 100 kW }\n", SHED,
                 "scenarios storm {\n  scenario storm { probability 1, "
                 "outage b1-b2 from 0 h to 2 h, outage b2-b3 from 0 h to 2 h }\n}\n",
                 "invest r1 : reinforcement { candidates [b1-b2], count 0 .. 1, "
                 "install 100 kCNY, life 20 y }\n",
                 "invest r2 : reinforcement { candidates [b2-b3], count 0 .. 1, "
                 "install 100 kCNY, life 20 y }\n")


def two_mess(f: str) -> str:
    """The MESS model with 200 kW at b3 and two MESS investments of one unit each."""
    return model(f, GRID_PRICE, feeder(), "load L3 at b3 { p 200 kW }\n", SHED, STORM,
                 MESS % ("m1", "M1"), MESS % ("m2", "M2"))


def two_dgs(f: str) -> str:
    """The DG model split in two: pv3 at b3 and pv2 at b2, 0 .. 100 kW each."""
    text = dg(f, True).replace("capacity 0 .. 200 kW", "capacity 0 .. 100 kW")
    start = text.index("invest pv3")
    block = text[start:text.index("}\n", start) + 2]
    return text + block.replace("pv3 : dg at b3", "pv2 : dg at b2")


def two_storage_investments(f: str) -> str:
    """The storage investment split in two at b2: bess and bess2, 0 .. 50 kW each."""
    text = storage_invest(f, True).replace("power 0 .. 100 kW", "power 0 .. 50 kW")
    start = text.index("invest bess")
    block = text[start:text.index("}\n", start) + 2]
    return text + block.replace("bess : storage", "bess2 : storage")


def two_ev_batteries(f: str) -> str:
    """Four buses (b3 and b4 both hang off b2), 100 kW at b3 and at b4, both b2-b3 and
    b2-b4 out all day; one EV-RB investment at b3, another at b4."""
    return model(f, GRID_PRICE, FEEDER4, "load L3 at b3 { p 100 kW }\n",
                 "load L4 at b4 { p 100 kW }\n", SHED,
                 "scenarios storm {\n  scenario storm { probability 1, "
                 "outage b2-b3 from 0 h to 2 h, outage b2-b4 from 0 h to 2 h }\n}\n",
                 EV % ("e3", "b3", "RB3"), EV % ("e4", "b4", "RB4"))


# ---------------------------------------------------------------------- property base

#: the feeder every snippet is added to (tests/test_compose_property.py): four buses with
#: coordinates and cable data (for new lines), bus loads of 30 kW at b3 and 40 kW at b4
#: (priority 2), a storm scenario
#: that takes b2-b3 out in the first hour, a shed penalty weighted by priority
PROPERTY_BASE = HEAD + GRID_PRICE + """network n {
  base 10 kV 1 MVA
  slack b1 at 1.0 pu
  voltage 0.8 .. 1.2 pu
  cable_r 0.1 ohm/km
  cable_x 0.3 ohm/km
  cable_rating 2000 kVA
  buses table {
    id  p[kW]  priority  x[km]  y[km]
    b1  0      1         0      0
    b2  0      1         1      0
    b3  30     1         2      0
    b4  40     2         1      1
  }
  lines table {
    from  to  r[ohm]  x[ohm]  rating[kVA]
    b1    b2  0.1     1       2000
    b2    b3  0.1     1       2000
    b2    b4  0.1     1       2000
  }
}
penalty shed 10 CNY/kWh weighted by priority
scenarios days {
  scenario calm { probability 0.6 }
  scenario storm { probability 0.4, outage b2-b3 from 0 h to 1 h }
}
"""

#: family -> statements added to PROPERTY_BASE (names unique across families, so any
#: subset composes into one valid model)
SNIPPETS: dict[str, str] = {
    "loads": "profile evening = [0.5, 1]\n"
             "load shop at b3 { p 60 kW, q 10 kvar, priority 3, profile evening }\n",
    "generators": "profile sun = [0.6, 0.2]\n"
                  "generator gt2 : gas_turbine at b2 { p_max 60 kW, p_min 10 kW, "
                  "fuel 0.4 CNY/kWh }\n"
                  "generator pv3 : pv at b3 { p_max 50 kW, profile sun, "
                  "curtailment 0.2 CNY/kWh }\n",
    "grid_unit": "generator supply : grid at b1 { p_max 2 MVA }\n",
    "storage": "storage bat at b4 { power 50 kW, energy 100 kWh }\n",
    "losses": "penalty loss 0.05 CNY/kWh\n",
    "reinforcement": "invest harden : reinforcement { candidates [b2-b3], count 0 .. 1, "
                     "install 100 kCNY, life 30 y }\n",
    "topology": "invest feeders : lines {\n  candidates table {\n    from  to  length[km]\n"
                "    b1    b4  1.5\n  }\n  install 300 kCNY/km\n  life 40 y\n}\n",
    "dg": "profile wind = [0.4, 0.7]\n"
          "invest wt3 : dg at b3 { source wind, unit 20 kW, capacity 0 .. 60 kW, "
          "profile wind, power_factor 0.95, install 5 kCNY/kW, life 20 y }\n",
    "substation": "invest sub : substation at b1 { ratings [100, 400] kVA, existing 50 kVA, "
                  "install 300 CNY/kVA, life 30 y }\n",
    "storage_invest": "invest bess : storage at b3 { power 0 .. 100 kW, energy 0 .. 200 kWh, "
                      "unit 50 kW 100 kWh, install 800 CNY/kW, install 1200 CNY/kWh, "
                      "life 10 y }\n",
    "mess": "invest mess : mobile_storage {\n"
            "  type M1 { power 50 kW, energy 100 kWh, install 300 kCNY, life 10 y }\n"
            "  count 0 .. 1\n  depot b1\n  candidates [b1, b3]\n  moves 1\n  travel 0 h\n}\n",
    "ev_battery": EV.replace("count 0 .. 6", "count 0 .. 2").replace(
        "per_site_max 6", "per_site_max 2") % ("evb", "b3", "RB1"),
}
