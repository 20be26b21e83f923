"""docs/python-api.md is executable: its ```python blocks run, in order, in one namespace,
from the repository root (as the document says), and its tables name real blocks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "python-api.md"

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line of the opening fence, code) of every ```python block."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(2))
            for m in _FENCE.finditer(text) if m.group(1).strip() == "python"]


def documented_blocks(text: str) -> set[str]:
    """Names in the first column of the block tables (`| `line_p`, `line_q` | ...`)."""
    names: set[str] = set()
    for line in text.splitlines():
        cells = line.split("|")
        if line.startswith("| `") and len(cells) > 2:
            names.update(re.findall(r"`([a-z_]+)`", cells[1]))
    return names


@pytest.fixture(scope="module")
def executed(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Run every block; return the namespace they share."""
    import os

    text = DOC.read_text(encoding="utf-8")
    blocks = python_blocks(text)
    assert len(blocks) >= 8, "the API document lost its examples"
    namespace: dict[str, object] = {"__name__": "python_api_doc"}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for line, code in blocks:
            compiled = compile(code, f"{DOC}:{line}", "exec")
            exec(compiled, namespace)
    finally:
        os.chdir(cwd)
    return namespace


def test_examples_run(executed) -> None:  # type: ignore[no-untyped-def]
    result = executed["result"]
    assert result.ok  # type: ignore[attr-defined]


def test_tables_name_real_blocks(executed) -> None:  # type: ignore[no-untyped-def]
    """Every variable the document lists exists in the solved dataset, and every
    variable block of the compiled operation model is documented."""
    ds = executed["ds"]
    problem = executed["problem"]
    listed = documented_blocks(DOC.read_text(encoding="utf-8"))
    # status names of the status table are not variables
    from gridc.runtime.backend.solver import SolveStatus

    statuses = {s.value for s in SolveStatus}
    variables = listed - statuses
    missing = sorted(v for v in variables if v not in ds)  # type: ignore[operator]
    assert not missing, f"documented but absent from result.dataset: {missing}"
    blocks = set(problem.model.variables)  # type: ignore[attr-defined]
    undocumented = sorted(blocks - variables)
    assert not undocumented, f"variable blocks missing from docs/python-api.md: {undocumented}"


def test_statuses_documented() -> None:
    from gridc.runtime.backend.solver import SolveStatus

    text = DOC.read_text(encoding="utf-8")
    for status in SolveStatus:
        assert f"`{status.value}`" in text, status
