"""Declarations that nothing uses: a profile that no load, generator, price, network,
scenario, investment or override refers to.

Such a declaration is parsed, checked and then ignored, and the model silently means
something other than what its author wrote (a shipped model once declared a typhoon-day
load shape that no `load_profile` used, and every hour drew the same load). gridc says
so (warning GRID072, the code of other statements that cannot shape the model; a
warning, since a profile kept for a later study is legitimate) — for the model's own
file only: a file brought in by `import` is a library, and a model may use part of it.
"""

from __future__ import annotations

from pydantic import BaseModel

from gridc.dsl import ir
from gridc.dsl.diagnostics import Collector


def _names_used(node: BaseModel, out: set[str]) -> None:
    """Every string value under `node` (references are names), skipping numeric data."""
    for field in type(node).model_fields:
        value = getattr(node, field)
        if isinstance(value, str):
            out.add(value)
        elif isinstance(value, BaseModel):
            _names_used(value, out)
        elif isinstance(value, tuple) and value:
            if isinstance(value[0], BaseModel):
                for item in value:
                    _names_used(item, out)
            elif isinstance(value[0], str):
                out.update(value)


def check_unused_profiles(m: ir.Model, d: Collector) -> None:
    """Warning GRID072 for every profile of the model's own file that nothing refers to."""
    own = [p for p in m.profiles if p.span.file == m.path]
    if not own:
        return
    used: set[str] = set()
    for field in type(m).model_fields:
        if field in ("profiles", "sources", "name", "title", "path", "imports"):
            continue
        value = getattr(m, field)
        if isinstance(value, BaseModel):
            _names_used(value, used)
        elif isinstance(value, tuple):
            for item in value:
                if isinstance(item, BaseModel):
                    _names_used(item, used)
    for p in own:
        if p.name not in used:
            d.warning("GRID072", f"profile '{p.name}' is never used: no load, generator, "
                    "price, network load_profile, scenario, investment or 'set' refers to it",
                    p.span, help=f"use it (e.g. 'load_profile {p.name}' in the network, "
                    f"or 'set network.load_profile {p.name}' in a study) or delete it")
