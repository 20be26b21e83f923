"""gridc.interop: bring your own network — MATPOWER, pandapower and OpenDSS to `.grid`.

    from gridc.interop import import_network
    written = import_network("case33bw", "out/case33bw")        # pandapower.networks name
    written = import_network("case.m", "out/case", name="feeder")  # MATPOWER case file

One module per source format (`matpower`, `pandapower`, `opendss`), each with one entry
point `read(source, name) -> Network` into the neutral tables (`neutral`), and one writer
(`writer`) for the `.grid` file and its CSV tables. The readers' libraries are optional
extras (`pip install 'gridc[import]'`), imported only when a source of theirs is read.
This room sits between `viz` and `cli`: it may use the language (`gridc.dsl`) to check
what it wrote, never the compiler or the runtime.
"""

from __future__ import annotations

import os
from pathlib import Path

from gridc.interop.neutral import ImportFailure, MissingExtra, Network

FORMATS = ("matpower", "pandapower", "opendss")

__all__ = ["FORMATS", "ImportFailure", "MissingExtra", "Network", "guess_format",
           "import_network", "read_network"]


def guess_format(source: str) -> str:
    """The format of `source` from its suffix, or `pandapower` for a network name."""
    suffix = Path(source).suffix.lower()
    if suffix == ".m":
        return "matpower"
    if suffix == ".json":
        return "pandapower"
    if suffix == ".dss":
        return "opendss"
    from gridc.interop.pandapower import looks_like_network_name

    if looks_like_network_name(source):
        return "pandapower"
    raise ImportFailure(f"cannot tell the format of '{source}' from its name: give --format "
                        f"({', '.join(FORMATS)}); .m is MATPOWER, .json pandapower, .dss "
                        "OpenDSS, a bare name a pandapower.networks network")


def read_network(source: str | os.PathLike[str], *, format: str | None = None,
                 name: str | None = None) -> Network:
    """Read `source` into the neutral tables without writing anything."""
    text = os.fspath(source)
    kind = format or guess_format(text)
    if kind == "matpower":
        from gridc.interop import matpower

        return matpower.read(text, name)
    if kind == "pandapower":
        from gridc.interop import pandapower

        return pandapower.read(text, name)
    if kind == "opendss":
        from gridc.interop import opendss

        return opendss.read(text, name)
    raise ImportFailure(f"unknown format '{kind}' (choose from {', '.join(FORMATS)})")


def import_network(source: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                   format: str | None = None, name: str | None = None,
                   force: bool = False, rating_margin: float = 0.0) -> list[Path]:
    """Import `source` and write `OUT_DIR/NAME.grid` plus its CSV tables; returns the
    paths written, the `.grid` file first. Raises `ImportFailure` for a source that
    cannot be imported (`MissingExtra` when a reader's library is missing) and
    `FileExistsError` (naming the files) when a file exists and `force` is not set.
    `rating_margin` (0.02: 2 %) raises every thermal limit above the source's ratings,
    for a source whose own operating point overloads a branch (see
    docs/bring-your-own-network.md)."""
    from gridc.interop.writer import write

    return write(read_network(source, format=format, name=name), out_dir, force=force,
                 rating_margin=rating_margin)
