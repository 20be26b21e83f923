"""`gridc check --format short|json|sarif`: diagnostics that tools can read (issue 13),
and the fast start of `gridc --version` (the entry point answers it before importing the
language; measured in bench/startup.py, checked here by what gets imported)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gridc.cli.entry import main as entry_main
from gridc.cli.main import main as gridc_main

ROOT = Path(__file__).resolve().parents[1]

BAD = """model m
network n {
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage 0.95 .. 1.05 pu
  frobs 3
  buses table {
    id p[kW]
    1 0
    2 x
  }
  lines table {
    from to r[ohm] x[ohm]
    1 2 0.1 0.1
  }
}
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = gridc_main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def bad(tmp_path: Path) -> Path:
    path = tmp_path / "bad model.grid"
    path.write_text(BAD, encoding="utf-8")
    return path


#: the gcc-style pattern of the usual problem matchers (VS Code `$gcc`, GitHub Actions)
PROBLEM_MATCHER = re.compile(r"^(.*):(\d+):(\d+):\s+(?:fatal\s+)?(warning|error):\s+(.*)$")


def test_short_lines_match_the_gcc_problem_matcher(bad: Path) -> None:
    code, out, _ = run("check", "--format", "short", str(bad))
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2
    found = [PROBLEM_MATCHER.match(line) for line in lines]
    assert all(found)
    assert [(m.group(1), m.group(2), m.group(3), m.group(4)) for m in found if m] == [
        (str(bad), "6", "3", "error"), (str(bad), "10", "7", "error")]
    assert lines[0].endswith("unknown property 'frobs' in network 'n' [GRID011]")
    assert lines[1].endswith("[GRID031]")


def test_json_lists_every_file_with_spans(bad: Path) -> None:
    code, out, _ = run("check", "--format", "json", str(bad),
                       str(ROOT / "models" / "ieee33.grid"))
    assert code == 1
    doc = json.loads(out)
    first, second = doc["files"]
    assert first["ok"] is False and second["ok"] is True
    assert [d["code"] for d in first["diagnostics"]] == ["GRID011", "GRID031"]
    d = first["diagnostics"][0]
    assert d["span"] == {"file": str(bad), "line": 6, "col": 3, "end_line": 6, "end_col": 8}
    assert d["title"] == "unknown property" and "valid properties" in d["help"]
    assert second["model"] == {"buses": 33, "lines": 37, "studies": 0}


def test_json_of_valid_models_exits_zero() -> None:
    code, out, _ = run("check", "--format", "json", str(ROOT / "models" / "ieee33.grid"))
    assert code == 0
    assert json.loads(out)["files"][0]["diagnostics"] == []


def test_sarif_has_rules_results_and_regions(bad: Path) -> None:
    code, out, _ = run("check", "--format", "sarif", str(bad))
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run_,) = log["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "gridc"
    assert {r["id"] for r in driver["rules"]} == {"GRID011", "GRID031"}
    ids = [r["ruleId"] for r in run_["results"]]
    assert ids == ["GRID011", "GRID031"]
    loc = run_["results"][1]["locations"][0]["physicalLocation"]
    # an absolute path becomes a file:// URI, the space percent-encoded
    assert loc["artifactLocation"]["uri"] == bad.as_uri()
    assert "%20" in loc["artifactLocation"]["uri"]
    assert loc["region"] == {"startLine": 10, "startColumn": 7, "endLine": 10, "endColumn": 8}
    assert all(r["level"] == "error" for r in run_["results"])


def test_format_with_emit_is_a_usage_error(bad: Path) -> None:
    code, _, err = run("check", "--format", "json", "--emit", "ir", str(bad))
    assert code == 2 and "--emit" in err


def test_version_answers_without_importing_the_language() -> None:
    """`gridc --version` must not import pint, lark, pydantic or the solver stack: the
    cost of those imports (about a second of CPU) is what made it slow."""
    code = ("import sys; from gridc.cli.entry import main; rc = main(['--version']); "
            "heavy = sorted(m for m in ('pint', 'lark', 'pydantic', 'numpy', 'linopy', "
            "'gridc.dsl') if m in sys.modules); print(heavy); raise SystemExit(rc)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    version, heavy = proc.stdout.strip().splitlines()
    assert re.fullmatch(r"gridc \d+\.\d+\.\d+", version)
    assert heavy == "[]"


def test_entry_passes_everything_else_to_the_full_command_line(bad: Path) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert entry_main(["check", str(bad)]) == 1
    assert "GRID011" in err.getvalue()
