"""Live progress and Ctrl-C (`gridc.cli.progress`, `gridc.runtime.backend.control`).

* off a terminal, `gridc solve` writes plain progress lines on stderr (stage begun and
  ended, incumbent / bound / gap every few seconds), nothing of it on stdout;
  `--quiet` writes none, `--verbose` adds HiGHS' own log;
* `Problem.solve(progress=fn)` calls `fn` with stage, progress and done events;
* SIGINT to a `gridc solve` child (the main process alone, as `kill -INT` does) stops a
  solve that would take half a minute: the solver returns within 2 s, the best solution
  so far is written with status `interrupted`, exit code 130.

The slow model is tests/models/mesh30_design.grid (first incumbent at once, about 30 s
to prove optimality).
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

import gridc
from gridc.cli.progress import ProgressDisplay
from gridc.runtime.backend.control import SolveEvent

MODELS = Path(__file__).resolve().parent / "models"
FEEDER = MODELS / "feeder8.grid"
MESH30 = MODELS / "mesh30_design.grid"
GRIDC = [sys.executable, "-m", "gridc"]


def _run(*args: str, every: str = "0.2") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRIDC_PROGRESS_S": every}
    return subprocess.run([*GRIDC, *args], capture_output=True, text=True, env=env,
                          timeout=300, check=False)


def test_progress_lines_appear_off_a_terminal_on_stderr_only() -> None:
    done = _run("solve", str(FEEDER), "--threads", "1")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert any(line.endswith("solve: started") for line in lines), done.stderr
    ended = [line for line in lines if "solve: optimal, objective" in line]
    assert len(ended) == 1 and ended[0].startswith("[") and " s] " in ended[0]
    assert "started" not in done.stdout and "status" in done.stdout  # stdout: the result


def test_quiet_prints_nothing_but_the_result() -> None:
    done = _run("solve", str(FEEDER), "--threads", "1", "--quiet")
    assert done.returncode == 0 and done.stderr.strip() == ""
    assert "optimal" in done.stdout


def test_verbose_shows_the_solver_log_through_the_display() -> None:
    done = _run("solve", str(FEEDER), "--threads", "1", "--verbose")
    assert done.returncode == 0
    assert "Presolving model" in done.stderr or "presolve" in done.stderr.lower()
    assert "Presolving model" not in done.stdout  # not HiGHS' console output


def test_python_progress_callable_gets_stage_progress_and_done() -> None:
    events: list[SolveEvent] = []
    problem = gridc.compile(gridc.load(MODELS / "mesh18_design.grid"))
    result = problem.solve(threads=1, node_limit=1, progress=events.append)
    kinds = [e.kind for e in events]
    assert kinds[0] == "stage" and kinds[-1] == "done"
    assert events[-1].status == result.status.value
    seen = [e for e in events if e.kind == "progress" and e.incumbent is not None]
    assert seen, kinds  # the MIP callbacks reached the callable
    # in the summary's unit (CNY), like the result: the last incumbent is the objective
    assert seen[-1].incumbent == pytest.approx(result.objective, rel=1e-6)


def test_display_lines_mode_throttles_progress() -> None:
    buf = io.StringIO()
    show = ProgressDisplay(Console(file=buf, width=200), mode="lines", every=3600)
    with show:
        show(SolveEvent("stage", "full model", 0.0))
        for k in range(50):  # a burst of solver events: one line at most
            show(SolveEvent("progress", "full model", 0.1, incumbent=100.0 + k, bound=90.0,
                            gap=0.1, nodes=k))
        show(SolveEvent("done", "full model", 2.0, incumbent=95.0, bound=95.0, gap=0.0,
                        status="optimal"))
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2, lines  # started, done: progress waits for `every`
    assert lines[0].endswith("full model: started")
    assert "full model: optimal, objective 95 CNY, bound 95 CNY, gap 0.00 %, 2.0 s" in lines[1]


def test_a_broken_progress_callable_does_not_break_the_solve() -> None:
    def broken(event: SolveEvent) -> None:
        raise RuntimeError("display gone")

    result = gridc.compile(gridc.load(FEEDER)).solve(threads=1, progress=broken)
    assert result.status.value == "optimal"
    assert any("display gone" in n for n in result.summary["notes"])


def test_sigint_to_the_main_process_stops_and_keeps_the_best_solution(
        tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "GRIDC_PROGRESS_S": "0.3"}
    started = time.monotonic()
    child = subprocess.Popen([*GRIDC, "solve", str(MESH30), "--threads", "1", "--out",
                              str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            lines.append((time.monotonic(), line.rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        while not any(re.search(r"incumbent \d", text) for _, text in lines):
            assert child.poll() is None, "\n".join(t for _, t in lines)
            assert time.monotonic() - started < 120, "no incumbent reported"
            time.sleep(0.05)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        code = child.wait(timeout=30)
        ended = time.monotonic()
    finally:
        if child.poll() is None:
            child.kill()
    reader.join(5)
    text = "\n".join(t for _, t in lines)
    assert code == 130, text
    stopped = [t for t, line in lines if "solve: interrupted, objective" in line]
    assert stopped, text
    assert stopped[0] - sent <= 2.0, f"the solver took {stopped[0] - sent:.1f} s to stop"
    assert ended - sent <= 10.0, f"exit {ended - sent:.1f} s after SIGINT"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["stopped_by"] == "interrupt"
    assert summary["stages"][-1]["status"] == "interrupted"
    assert summary["objective"] is not None and (out / "solution.nc").stat().st_size > 0
    assert child.stdout is not None and "Traceback" not in text
