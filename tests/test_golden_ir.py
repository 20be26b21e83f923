"""Golden IR: `gridc check --emit ir` of every shipped model, compared with
tests/golden/<model>.json.

The goldens are produced from the repository root, so every path in them is relative
(`models/ieee33.grid`, `models/data/...`) and they hold for any checkout location.
After an intended change of the IR or of a model, regenerate them with

    GRIDC_UPDATE_GOLDEN=1 pytest tests/test_golden_ir.py

and review the diff. Also: the IEEE 33-bus facts, and the JSON schema export.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

from gridc.cli.main import main as gridc_main
from gridc.dsl import load

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
MODELS = sorted((ROOT / "models").glob("*.grid"))
UPDATE = os.environ.get("GRIDC_UPDATE_GOLDEN", "") not in ("", "0")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = gridc_main(list(argv))
    return code, out.getvalue(), err.getvalue()


def emit_ir(model: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(ROOT)
    code, out, err = run("check", "--emit", "ir", model.relative_to(ROOT).as_posix())
    assert code == 0, err
    return out


def _first_difference(a: Any, b: Any, where: str = "$") -> str | None:
    """Where two JSON values first differ (for a readable failure)."""
    if type(a) is not type(b):
        return f"{where}: {a!r} != {b!r}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}.{k}: only in {'golden' if k in b else 'output'}"
            diff = _first_difference(a[k], b[k], f"{where}.{k}")
            if diff:
                return diff
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = _first_difference(x, y, f"{where}[{i}]")
            if diff:
                return diff
        return None
    return None if a == b else f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
def test_golden_ir(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = emit_ir(model, monkeypatch)
    golden = GOLDEN / f"{model.stem}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    if not golden.exists():
        pytest.fail(f"no golden IR for {model.name}: run "
                    "GRIDC_UPDATE_GOLDEN=1 pytest tests/test_golden_ir.py and review it")
    got, want = json.loads(text), json.loads(golden.read_text(encoding="utf-8"))
    diff = _first_difference(got, want)
    assert diff is None, (f"IR of {model.name} differs from {golden.name} at {diff}; if "
                          "intended, regenerate with GRIDC_UPDATE_GOLDEN=1")


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.name)
def test_goldens_are_path_independent(golden: Path) -> None:
    text = golden.read_text(encoding="utf-8")
    assert str(ROOT) not in text
    assert "/tmp" not in text and "/home/" not in text and "\\\\" not in text
    data = json.loads(text)
    assert data["path"] == f"models/{golden.stem}.grid"
    files = {v for k, v in _walk(data) if k == "file"}
    assert files, "no spans in the golden IR"
    assert all(not f.startswith("/") for f in files), files


def test_every_golden_has_a_model() -> None:
    names = {m.stem for m in MODELS}
    stale = [g.name for g in GOLDEN.glob("*.json") if g.stem not in names]
    assert not stale, f"goldens without a model (delete them): {stale}"


def test_goldens_do_not_depend_on_the_working_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Loaded from elsewhere, a model means the same, only its file names change."""
    model = ROOT / "models" / "ieee33.grid"
    monkeypatch.chdir(tmp_path)
    elsewhere = load(model).model_dump(mode="json", exclude={"sources"})
    golden = json.loads((GOLDEN / "ieee33.json").read_text(encoding="utf-8"))
    strip = _without_files
    assert strip(elsewhere) == strip(golden)


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k, v
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _without_files(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_files(v) for k, v in value.items() if k not in ("file", "path")}
    if isinstance(value, list):
        return [_without_files(v) for v in value]
    return value


# ------------------------------------------------------------------ IEEE 33-bus facts


def test_ieee33_facts() -> None:
    m = load(ROOT / "models" / "ieee33.grid")
    net = m.network()
    assert len(m.networks) == 1
    assert len(net.buses) == 33
    assert len(net.lines) == 37
    assert sum(ln.normally_open for ln in net.lines) == 5
    assert net.slack_bus == "1"
    assert net.base_kv == pytest.approx(12.66)
    assert net.base_kva == pytest.approx(10_000)
    p = sum(b.p_kw for b in net.buses) + sum(ld.p_kw for ld in m.loads)
    q = sum(b.q_kvar for b in net.buses) + sum(ld.q_kvar for ld in m.loads)
    assert p == pytest.approx(3715.0)
    assert q == pytest.approx(2300.0)
    ties = {(ln.from_bus, ln.to_bus) for ln in net.lines if ln.normally_open}
    assert ties == {("8", "21"), ("9", "15"), ("12", "22"), ("18", "33"), ("25", "29")}
    closed = [ln for ln in net.lines if not ln.normally_open]
    assert len(closed) == 32  # a spanning tree of the 33 buses


# ------------------------------------------------------------------ JSON schema


def test_schema_export() -> None:
    code, out, err = run("schema")
    assert code == 0, err
    schema = json.loads(out)
    for name in ("Network", "Bus", "Line"):
        assert name in schema["$defs"], name
    assert schema["title"] == "Model"
    assert "buses" in schema["$defs"]["Network"]["properties"]
    assert "r_ohm" in schema["$defs"]["Line"]["properties"]


def test_schema_export_to_file(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    code, out, err = run("schema", "--out", str(target))
    assert code == 0, err
    assert out == ""
    assert "Bus" in json.loads(target.read_text(encoding="utf-8"))["$defs"]
