"""Substation sizing (seed 001, eq. 44): one rating per substation from a standard list.

`substation_rating[substation, rating]` is binary with at most one rating chosen; the
grid import of the units at the substation's bus is limited to
load_rate · cos φ · (existing + chosen rating). Priced per kVA of the chosen rating.
A substation must sit at a grid supply point (else GRID041: it would limit nothing).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import xarray as xr
from linopy import Variable

from gridc.compiler.core.builder import Builder, Lever
from gridc.compiler.core.errors import compile_error
from gridc.compiler.core.index import GEN
from gridc.compiler.families.generators import GeneratorVars
from gridc.compiler.formulations.pricing import PricedItem
from gridc.dsl import ir_planning as P

RATING, SUB = "rating", "substation"


@dataclass(frozen=True)
class SubstationVars:
    rating: Variable  # substation_rating [substation, rating] binary
    items: list[PricedItem]


def define_substations(b: Builder, invs: list[P.Substation],
                       gen: GeneratorVars) -> SubstationVars:
    """Rating choice per substation and the import limit of eq. (44)."""
    grid = [g for g in b.idx.generators if g.kind == "grid"]
    for inv in invs:
        if not [g.name for g in grid if g.bus == inv.bus]:
            raise compile_error(b.model, "GRID041", f"substation '{inv.name}' is not at the "
                                "grid supply point", inv.span,
                                help=f"place it at the slack bus {b.idx.slack_bus}")
    names = pd.Index([i.name for i in invs], name=SUB)
    ratings = sorted({r for i in invs for r in i.ratings_kva})
    rat = pd.Index(ratings, name=RATING)
    b.idx.coords[SUB], b.idx.coords[RATING] = names, rat
    allowed = xr.DataArray([[float(r in i.ratings_kva) for r in ratings] for i in invs],
                           coords=[names, rat])
    y = b.integer("substation_rating", (SUB, RATING), 0.0, allowed, family="substation",
                  source=SUB, unit="0/1")
    b.constrain("substation_one", y.sum(RATING), "<=", 1.0, family="substation", source=SUB)
    size = (xr.DataArray(ratings, coords=[rat]) * y).sum(RATING)
    items = []
    for k, inv in enumerate(invs):
        units = [g.name for g in grid if g.bus == inv.bus]
        imp = gen.p.sel({GEN: units}).sum(GEN)
        factor = inv.load_rate * inv.power_factor
        # elastic mode's cause: capacity (existing + chosen rating) short by c kVA
        b.constrain(f"substation_limit_{k}", imp - factor * size.sel({SUB: inv.name}), "<=",
                    factor * inv.existing_kva, family="substation", source=None, unit="kW",
                    levers=[Lever("supply limit", "existing_kva", factor, owner=inv.name)])
        items.append(PricedItem("substation", inv.name, inv.costs,
                                size.sel({SUB: [inv.name]}).sum(), "kVA"))
    return SubstationVars(rating=y, items=items)
