"""Helper of tests/test_no_work_lost.py: kill `Result.write` at every step.

    python tests/pair_kill_helper.py ROOT

Writes an old result pair into ROOT/k<k>/ for k = 1..N, then, in a forked child per
k, writes a new result over it and `os._exit`s just before the k-th filesystem step
(a call of os.replace/rename/link/unlink/rmdir/mkdir/fsync/chmod, or the start or end
of the netCDF write): a kill at that point, with no clean-up of any kind. Prints
JSON {"steps": N, "killed": [k, ...]} and leaves the folders for the test to inspect.
Also imported by the test for `make_result` (results without a solve).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from gridc.runtime.backend.solver import SolveStatus
from gridc.runtime.results import Result

#: the os functions whose calls are the steps of a write
STEPS = ("replace", "rename", "link", "unlink", "rmdir", "mkdir", "fsync", "chmod")
KILLED = 99


def make_result(marker: float) -> Result:
    """A small result whose summary and solution both carry `marker`."""
    ds = xr.Dataset({"marker": ("i", np.full(50, marker)),
                     "flag": ("i", np.arange(50) % 2 == 0)})
    summary = {"status": "optimal", "objective": marker, "notes": [f"result {marker}"]}
    return Result(status=SolveStatus.optimal, objective=marker, bound=marker, gap=0.0,
                  dataset=ds, costs={}, summary=summary)


def instrument(on_step: Callable[[str], None]) -> None:
    """Call `on_step(name)` before every step (for good: use in a child process)."""
    for name in STEPS:
        real = getattr(os, name)

        def wrapped(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            on_step(_name)
            return _real(*args, **kw)

        setattr(os, name, wrapped)
    real_nc = xr.Dataset.to_netcdf

    def to_netcdf(self: xr.Dataset, *args: Any, **kw: Any) -> Any:
        on_step("netcdf-start")
        out = real_nc(self, *args, **kw)
        on_step("netcdf-end")
        return out

    xr.Dataset.to_netcdf = to_netcdf  # type: ignore[method-assign]


def child(out: Path, new: Result, kill_at: int | None) -> None:
    count = {"n": 0}

    def on_step(name: str) -> None:
        count["n"] += 1
        if count["n"] == kill_at:
            os._exit(KILLED)

    instrument(on_step)
    new.write(out)
    if kill_at is None:
        (out.parent / "steps").write_text(str(count["n"]))
    os._exit(0)


def run_child(out: Path, new: Result, kill_at: int | None) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            child(out, new, kill_at)
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def main(root: Path) -> None:
    old, new = make_result(1.0), make_result(2.0)
    count_dir = root / "count" / "out"
    old.write(count_dir)
    assert run_child(count_dir, new, None) == 0
    steps = int((root / "count" / "steps").read_text())
    killed = []
    for k in range(1, steps + 1):
        out = root / f"k{k}"
        old.write(out)
        code = run_child(out, new, k)
        assert code in (0, KILLED), code
        if code == KILLED:
            killed.append(k)
    print(json.dumps({"steps": steps, "killed": killed}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
