"""The .grid language: parse text into a validated, unit-normalised IR.

Public API: `load(path)` and `parse(text, path)` return an `ir.Model` or raise
`GridError` carrying every diagnostic; nothing else escapes for bad input.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gridc.dsl import ir
from gridc.dsl.build.model import read_model
from gridc.dsl.checks import check_model
from gridc.dsl.diagnostics import Collector, Diagnostic, GridError
from gridc.dsl.spans import Span


def _finish(model: ir.Model | None, diags: Collector, sources: dict[str, str]) -> ir.Model:
    if model is not None and not diags:
        check_model(model, diags)
    if diags or model is None:
        raise GridError(diags.items, sources)
    return model


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Parsing allocates some 100,000 small objects (tokens, tree nodes, IR nodes) that
    are freed by reference counting; the cyclic collector would scan them again and
    again while they are built, which doubled the median parse time of the 1,000-bus
    benchmark model (0.19 s against 0.09 s, measured). Collected normally afterwards.
    (Not used for compiling: xarray's reference cycles hold large arrays there, and
    keeping them until the end raised the 1,000-bus peak memory by 370 MB.)"""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(path: str | Path) -> ir.Model:
    """Read, parse, build and check the model at `path` (following its imports)."""
    try:
        with _without_cycle_collection():
            model, diags, sources = read_model(path)
    except RecursionError:
        raise GridError([Diagnostic("GRID002", "nesting too deep", Span(
            file=str(path), line=1, col=1, end_line=1, end_col=2))], {}) from None
    return _finish(model, diags, sources)


def parse(text: str, path: str | Path = "<string>.grid") -> ir.Model:
    """Parse model text; imports and CSV paths are relative to `path`'s directory."""
    try:
        with _without_cycle_collection():
            model, diags, sources = read_model(path, text)
    except RecursionError:
        raise GridError([Diagnostic("GRID002", "nesting too deep", Span(
            file=str(path), line=1, col=1, end_line=1, end_col=2))], {}) from None
    return _finish(model, diags, sources)


__all__ = ["GridError", "ir", "load", "parse"]
