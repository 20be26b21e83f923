"""The .grid language: parse text into a validated, unit-normalised IR.

Public API: `load(path)` and `parse(text, path)` return an `ir.Model` or raise
`GridError` carrying every diagnostic; nothing else escapes for bad input.

A model reads only regular files under its own folder and the folders granted with
`allow=[...]` (or GRIDC_ALLOW_PATH), each of at most `max_file_mb` MiB (default:
GRIDC_MAX_FILE_MB, else 64): see dsl/access.py and docs/untrusted-models.md. It must
fit a budget (`max_memory_mb`, `max_table_rows`; GRIDC_MAX_MEMORY_MB,
GRIDC_MAX_TABLE_ROWS): see dsl/budgets.py.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gridc.dsl import ir, tables
from gridc.dsl.access import Access, printable_sources, tidy
from gridc.dsl.budgets import Budget
from gridc.dsl.build.model import read_model
from gridc.dsl.checks import check_model
from gridc.dsl.diagnostics import Diagnostic, GridError
from gridc.dsl.spans import Span

#: Folders a model may read besides its own: paths (str or Path) or None.
Allow = Iterable[str | Path] | None


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


def _read(path: str | Path, text: str | None, access: Access, budget: Budget) -> ir.Model:
    with tables.long_cells() as long:
        try:
            with _without_cycle_collection():
                model, diags, sources = read_model(path, text, access, budget)
        except RecursionError:
            raise GridError([Diagnostic("GRID002", "nesting too deep", Span(
                file=str(path), line=1, col=1, end_line=1, end_col=2))], {}) from None
        if model is not None and not diags:
            with _without_cycle_collection():  # the checks walk every node, as parsing
                check_model(model, diags, budget)
    if diags or model is None:
        raise GridError(tidy(diags.items, long), printable_sources(sources))
    if diags.warnings:
        model = model.model_copy(update={"warnings": tuple(diags.warnings)})
    return model


def load(path: str | Path, *, allow: Allow = None, max_file_mb: float | None = None,
         max_memory_mb: float | None = None, max_table_rows: int | None = None,
         max_grid_kb: float | None = None) -> ir.Model:
    """Read, parse, build and check the model at `path` (following its imports).

    The model reads only regular files under the folder of `path` and the folders in
    `allow` (and GRIDC_ALLOW_PATH), each of at most `max_file_mb` MiB (default
    GRIDC_MAX_FILE_MB, else 64), .grid files of at most `max_grid_kb` KiB (default
    GRIDC_MAX_GRID_KB, else 256); anything else is a diagnostic (GRID060-GRID062).
    Its tables hold at most `max_table_rows` rows (GRID052) and its largest study may
    need at most `max_memory_mb` MiB to build and solve, as estimated (GRID051);
    defaults GRIDC_MAX_TABLE_ROWS and GRIDC_MAX_MEMORY_MB, else 100,000 and 16384.
    Raises ValueError for a limit that is not a positive number."""
    return _read(path, None, Access.for_model(path, allow, max_file_mb, max_grid_kb),
                 Budget.resolve(max_memory_mb, max_table_rows))


def parse(text: str, path: str | Path = "<string>.grid", *, allow: Allow = None,
          max_file_mb: float | None = None, max_memory_mb: float | None = None,
          max_table_rows: int | None = None, max_grid_kb: float | None = None) -> ir.Model:
    """Parse model text; imports and CSV paths are relative to `path`'s directory, which
    (with `allow`) is what the model may read; limits as for `load`."""
    return _read(path, text, Access.for_model(path, allow, max_file_mb, max_grid_kb),
                 Budget.resolve(max_memory_mb, max_table_rows))


__all__ = ["GridError", "ir", "load", "parse"]
