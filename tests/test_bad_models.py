"""The corpus of broken models in tests/bad: every file must be rejected by `gridc check`
with exit code 1 and exactly the diagnostics of its golden `.expected` file, and never
with a Python traceback.

Regenerate the golden files after an intended change of wording or spans with

    GRIDC_UPDATE_GOLDEN=1 pytest tests/test_bad_models.py

and review the diff before committing it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gridc.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "bad"
CASES = sorted(BAD.glob("*.grid"))
UPDATE = os.environ.get("GRIDC_UPDATE_GOLDEN") == "1"


def rel(path: Path) -> str:
    """The path as a user would type it from the repository root (messages show it)."""
    return path.relative_to(ROOT).as_posix()


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(ROOT)
    return ROOT


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 36


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_model(path: Path, at_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert path.read_bytes().startswith(b"//"), \
        "a bad model starts with a // comment saying what is wrong"
    code = main(["check", rel(path)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    assert "internal error" not in out.err
    assert code == 1, out.err
    assert out.out == ""
    golden = path.with_suffix(".expected")
    if UPDATE:
        golden.write_text(out.err, encoding="utf-8")
        return
    assert golden.exists(), f"no golden file: run GRIDC_UPDATE_GOLDEN=1 pytest {__file__}"
    assert out.err == golden.read_text(encoding="utf-8")


def test_every_golden_has_a_model() -> None:
    orphans = [g.name for g in BAD.glob("*.expected") if not g.with_suffix(".grid").exists()]
    assert orphans == []


def test_goldens_name_their_codes() -> None:
    """Each file's leading comment names at least one code its golden file holds."""
    for path in CASES:
        golden = path.with_suffix(".expected")
        if not golden.exists():
            continue
        head = path.read_text(encoding="utf-8", errors="replace").split("\nmodel", 1)[0]
        named = {w.strip(":,.()") for w in head.split() if w.strip(":,.()").startswith("GRID")}
        text = golden.read_text(encoding="utf-8")
        assert all(f"[{c}]" in text for c in named), (path.name, named)


# ------------------------------------------------------------- real subprocesses


def gridc(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GRIDC_DEBUG"}
    return subprocess.run([sys.executable, "-m", "gridc", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ["03_unclosed_brace", "27_csv_cell_errors",
                                  "42_many_semantic_errors", "43_ieee33_errors"])
def test_subprocess_bad_model(name: str) -> None:
    path = BAD / f"{name}.grid"
    proc = gridc("check", rel(path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr == path.with_suffix(".expected").read_text(encoding="utf-8")


def test_subprocess_many_files_at_once() -> None:
    """Several files in one call: every file is reported, the exit code is 1."""
    names = [rel(p) for p in CASES[:5]]
    proc = gridc("check", *names)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    for name in names:
        assert f"{name}:" in proc.stderr


def test_subprocess_no_file_is_a_usage_error() -> None:
    proc = gridc("check")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "usage" in proc.stderr


def test_subprocess_unknown_flag_is_a_usage_error() -> None:
    proc = gridc("check", "--frobnicate", "models/ieee33.grid")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "--frobnicate" in proc.stderr


def test_subprocess_missing_file() -> None:
    proc = gridc("check", "tests/bad/does_not_exist.grid")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "error[GRID004]" in proc.stderr
    assert "tests/bad/does_not_exist.grid" in proc.stderr


def test_subprocess_good_model_still_passes() -> None:
    proc = gridc("check", "models/ieee33.grid")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
