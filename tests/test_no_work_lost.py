"""Issue 12, "Nothing finished is lost": results survive kills, interrupts and failures.

* the result pair (`solution.nc` + `summary.json`, `Result.write`) is replaced as a
  pair: an error or a kill at *every* step of the write leaves the old pair or the
  new pair (checked by content), never a mix that a reader accepts, and no temporary
  left once the folder is next touched;
* `--out` is checked before anything is solved (exit 2, solve never called);
* `--all-studies` / `sweep` write each study as soon as it is solved: a failure or
  Ctrl-C afterwards keeps those folders and says which studies are missing;
* PSO keeps its best plan when the executor fails (KilledWorker), exit 1;
* repeated worker deaths are an `ExecutorError` naming the tasks, not an internal error.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import xarray as xr
from distributed import KilledWorker
from pair_kill_helper import STEPS, make_result
from test_pso import write_tiny

from gridc.cli.main import main
from gridc.runtime import ioutil
from gridc.runtime.executor import DaskExecutor, ExecutorError, SerialExecutor, lost_tasks
from gridc.runtime.ioutil import MismatchedPair, read_pair
from gridc.runtime.problem import Problem
from gridc.runtime.results import read_summary
from gridc.runtime.strategies import bilevel

warnings.filterwarnings("ignore", module="linopy")

HERE = Path(__file__).resolve().parent
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0

THREE = """model three
horizon 3 h step 1 h
network feeder {
  base 12.66 kV 10 MVA
  slack 1 at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {
    id p[kW] q[kvar]
    1  0   0
    2  100 50
    3  80  40
  }
  lines table {
    from to r[ohm] x[ohm] rating[kVA]
    1    2  0.1    0.05   500
    2    3  0.2    0.1    500
  }
}
profile tou = [0.3, 0.6, 0.9] CNY/kWh
price grid profile tou
generator gt : gas_turbine at 3 { p_max 50 kW, fuel 0.5 CNY/kWh }
storage s at 2 { power 20 kW, energy 40 kWh, efficiency 0.95, soc 0.1 .. 0.9, soc_init 0.5 }
penalty shed 10 CNY/kWh
study a { gap 0 % }
study b extends a { gap 1 % }
study c extends a { gap 2 % }
sweep fuel over a {
  case x { set gt.p_max_kw 40 }
  case y { set gt.p_max_kw 30 }
  case z { set gt.p_max_kw 20 }
}
"""


def _killed(key: str = "evaluate_scenario-0-3-1") -> KilledWorker:
    """distributed's error for a task whose workers died 3 + 1 times."""
    return KilledWorker(key, SimpleNamespace(address="tcp://w"), 3)  # type: ignore[arg-type]


def three(tmp_path: Path) -> Path:
    path = tmp_path / "three.grid"
    path.write_text(THREE, encoding="utf-8")
    return path


def marker_of(out: Path) -> float:
    """The marker of a consistent pair (read_summary checks the sha256), after checking
    that the solution carries the same one."""
    summary = read_summary(out)
    with xr.open_dataset(out / "solution.nc") as ds:
        assert float(ds["marker"][0]) == summary["objective"]
    return float(summary["objective"])


def entries(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


# ---------------------------------------------------------------- the pair, step by step


def _instrument(monkeypatch: pytest.MonkeyPatch, on_step: Callable[[str], None],
                names: Sequence[str]) -> None:
    for name in names:
        real = getattr(os, name)

        def wrapped(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            on_step(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(os, name, wrapped)
    real_nc = xr.Dataset.to_netcdf

    def to_netcdf(self: xr.Dataset, *args: Any, **kw: Any) -> Any:
        on_step("netcdf")
        return real_nc(self, *args, **kw)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf)


#: the steps an error is injected at: every filesystem change of the write (the clean-up
#: steps unlink/rmdir are the kill test's: a failed clean-up is repaired by the next write)
FAILING = tuple(n for n in STEPS if n not in ("unlink", "rmdir"))


@pytest.mark.parametrize("error", [OSError(errno.EIO, "injected I/O error"),
                                   KeyboardInterrupt()], ids=["oserror", "ctrl-c"])
@pytest.mark.parametrize("had_old", [True, False], ids=["over-old", "fresh"])
def test_an_error_at_every_step_leaves_old_or_new_pair(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       error: BaseException,
                                                       had_old: bool) -> None:
    old, new = make_result(1.0), make_result(2.0)
    steps: list[str] = []
    probe = tmp_path / "count"
    if had_old:
        old.write(probe)
    with monkeypatch.context() as m:
        _instrument(m, steps.append, FAILING)
        new.write(probe)
    assert "replace" in steps and "netcdf" in steps
    outcomes = []
    for k in range(1, len(steps) + 1):
        out = tmp_path / f"k{k}"
        if had_old:
            old.write(out)
        count = {"n": 0}

        def fail_once(name: str, k: int = k, count: dict[str, int] = count) -> None:
            count["n"] += 1
            if count["n"] == k:
                raise error

        raised = False
        with monkeypatch.context() as m:
            _instrument(m, fail_once, FAILING)
            try:
                new.write(out)
            except (OSError, KeyboardInterrupt):
                raised = True
        assert count["n"] >= k, f"step {k} ({steps[k - 1]}) was not reached"
        if not out.exists() or not (out / "summary.json").exists():
            assert not had_old and raised, f"step {k}: the old pair is gone"
            assert not out.exists() or entries(out) == [], f"step {k}: {entries(out)}"
            outcomes.append("old")
            continue
        assert entries(out) == ["solution.nc", "summary.json"], f"step {k}: temporaries left"
        got = marker_of(out)
        assert got in (1.0, 2.0) and (had_old or got == 2.0)
        if isinstance(error, OSError):  # an error is reported exactly when nothing changed
            assert raised == (got == 1.0), f"step {k} ({steps[k - 1]}): raised={raised}"
        outcomes.append("old" if got == 1.0 else "new")
    # the commit is one point, the rename of summary.json (the second replace): an error
    # there rolls back, an error after it cannot undo it; before it, only steps whose
    # failure is harmless (mkdir of an existing folder) end with the new pair
    commit = [k for k, name in enumerate(steps, 1) if name == "replace"][1]
    assert outcomes[commit - 1] == "old" and set(outcomes[commit:]) == {"new"}
    assert outcomes.count("old") >= commit - 2


def test_a_kill_at_every_step_leaves_old_or_new_pair(tmp_path: Path) -> None:
    """Each write runs in a forked child that `os._exit`s before its k-th step (no clean-up
    at all: see tests/pair_kill_helper.py). Right after the kill, a reader sees the old
    pair, the new pair, or refuses a mix; the next read or write of the folder repairs
    it (completes the new pair) and removes every temporary."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(HERE / "pair_kill_helper.py"), str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    steps = report["steps"]
    assert report["killed"] == list(range(1, steps + 1))  # every kill happened
    finals, mixes = [], []
    for k in range(1, steps + 1):
        out = tmp_path / f"k{k}"
        summary = json.loads((out / "summary.json").read_text())
        if summary["files"]["solution.nc"] != ioutil.fingerprint(out / "solution.nc"):
            with xr.open_dataset(out / "solution.nc") as ds:  # a mix: new solution, old
                assert float(ds["marker"][0]) == 2.0          # summary, and refused
            assert summary["objective"] == 1.0
            with pytest.raises(MismatchedPair):
                read_pair(out, "solution.nc", "summary.json", repair=False)
            mixes.append(k)
        if k % 2:  # the next read repairs
            got = marker_of(out)
        else:  # the next write repairs (and replaces)
            make_result(3.0).write(out)
            got = 3.0
            assert marker_of(out) == 3.0
        assert entries(out) == ["solution.nc", "summary.json"], f"k={k}: {entries(out)}"
        finals.append(got)
    assert mixes, "the window between the two renames was not hit"
    odd = [f for k, f in zip(range(1, steps + 1), finals) if k % 2]
    assert set(odd) <= {1.0, 2.0} and odd == sorted(odd)  # old, then new: one commit point
    assert 1.0 in odd and 2.0 in odd


def test_a_mismatched_pair_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    make_result(1.0).write(out)
    second = tmp_path / "second"
    make_result(2.0).write(second)
    (out / "solution.nc").write_bytes((second / "solution.nc").read_bytes())
    with pytest.raises(MismatchedPair, match="sha256"):
        read_summary(out)
    (out / "solution.nc").unlink()
    with pytest.raises(MismatchedPair):
        read_summary(out)


# ---------------------------------------------------------------- --out checked first


@pytest.fixture
def no_solve(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts solves (extensive form and PSO); the tests expect none."""
    calls = {"n": 0}

    def solve(self: Problem, **kw: Any) -> Any:
        calls["n"] += 1
        raise AssertionError("solved although --out is unusable")

    def pso(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        raise AssertionError("searched although --out is unusable")

    monkeypatch.setattr(Problem, "solve", solve)
    monkeypatch.setattr("gridc.cli.pso.solve_pso", pso)
    return calls


def _commands(model: Path, tiny: Path, out: Path) -> dict[str, list[str]]:
    return {"solve": ["solve", str(model), "--study", "a", "--out", str(out)],
            "all-studies": ["solve", str(model), "--all-studies", "--out", str(out)],
            "sweep": ["sweep", str(model), "fuel", "--out", str(out)],
            "pso": ["solve", str(tiny), "--study", "plan_pso", "--out", str(out)]}


def _bad_outs(tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """(case, --out, what the message names) for every command."""
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    yield "out-is-a-file", a_file, str(a_file)
    yield "out-under-a-file", a_file / "sub", str(a_file)
    holder = tmp_path / "holder"
    for name in ("summary.json", "a/summary.json", "x/solution.nc"):
        (holder / name).mkdir(parents=True, exist_ok=True)
    yield "summary-json-is-a-folder", holder, "summary.json"


@pytest.mark.parametrize("command", ["solve", "all-studies", "sweep", "pso"])
def test_unusable_out_is_a_usage_error_before_solving(
        command: str, tmp_path: Path, no_solve: dict[str, int],
        capsys: pytest.CaptureFixture[str]) -> None:
    model, tiny = three(tmp_path), write_tiny(tmp_path)
    for case, out, named in _bad_outs(tmp_path):
        if case == "summary-json-is-a-folder" and command == "sweep":
            named = "solution.nc"  # the case folder x/ holds a folder solution.nc
        before = sorted(str(p) for p in tmp_path.rglob("*"))
        argv = _commands(model, tiny, out)[command]
        assert main(argv) == 2, f"{command} {case}"
        err = capsys.readouterr().err
        assert "error:" in err and named in err, f"{command} {case}: {err}"
        assert "Traceback" not in err and "internal error" not in err
        assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # nothing left behind
    assert no_solve["n"] == 0


@pytest.mark.skipif(ROOT_USER, reason="root writes into a 0o500 folder: chmod is no test")
@pytest.mark.parametrize("command", ["solve", "all-studies", "pso"])
def test_read_only_out_is_a_usage_error_before_solving(
        command: str, tmp_path: Path, no_solve: dict[str, int],
        capsys: pytest.CaptureFixture[str]) -> None:
    model, tiny = three(tmp_path), write_tiny(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for out in (locked, locked / "new"):
            assert main(_commands(model, tiny, out)[command]) == 2
            assert str(locked) in capsys.readouterr().err
    finally:
        locked.chmod(0o700)
    assert no_solve["n"] == 0


def test_unwritable_out_is_a_usage_error_even_as_root(
        tmp_path: Path, no_solve: dict[str, int], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The same check where chmod cannot make a folder unwritable (root): the file
    system refuses to create anything in `locked` (as a read-only mount would)."""
    model, tiny = three(tmp_path), write_tiny(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = ioutil.tempfile.mkdtemp

    def refuse(*args: Any, dir: Any = None, **kw: Any) -> str:
        if dir is not None and Path(dir) == locked:
            raise PermissionError(errno.EROFS, "Read-only file system", str(locked))
        return real(*args, dir=dir, **kw)

    monkeypatch.setattr(ioutil.tempfile, "mkdtemp", refuse)
    for command in ("solve", "all-studies", "sweep", "pso"):
        for out in (locked, locked / "new"):
            assert main(_commands(model, tiny, out)[command]) == 2, command
            err = capsys.readouterr().err
            assert f"{locked} is not writable" in err and "Read-only" in err, err
    assert no_solve["n"] == 0 and entries(locked) == []


# ---------------------------------------------------------------- studies as they arrive


def _fail_study(monkeypatch: pytest.MonkeyPatch, study: str, error: BaseException) -> None:
    real = Problem.solve

    def solve(self: Problem, **kw: Any) -> Any:
        if self.study.name == study:
            raise error
        return real(self, **kw)

    monkeypatch.setattr(Problem, "solve", solve)


@pytest.mark.parametrize("error, code", [(RuntimeError("boom"), 1), (KeyboardInterrupt(), 130)],
                         ids=["failure", "ctrl-c"])
def test_all_studies_keep_every_study_solved_before_a_stop(
        error: BaseException, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    model, out = three(tmp_path), tmp_path / "out"
    make_result(7.0).write(out / "c")  # an earlier run's c: left as it was
    _fail_study(monkeypatch, "c", error)
    argv = ["solve", str(model), "--all-studies", "--threads", "1", "--out", str(out)]
    assert main(argv) == code
    captured = capsys.readouterr()
    text = captured.out + captured.err
    for study in ("a", "b"):
        summary = read_summary(out / study)
        assert summary["study"] == study and summary["status"] == "optimal"
        assert entries(out / study) == ["solution.nc", "summary.json"]
    assert marker_of(out / "c") == 7.0
    assert "written to" in text and "a, b" in text
    assert "missing: c (not solved)" in text
    if code == 1:
        assert "study c failed: RuntimeError: boom" in text
    else:
        assert "interrupted" in text
    assert "Traceback" not in text and "internal error" not in text


class _DiesAfter(SerialExecutor):
    """Runs `survivors` tasks of its first batch, then fails like a Dask cluster whose
    workers kept dying on the next one (the executor's KilledWorker translation)."""

    kind = "dying"

    def __init__(self, survivors: int):
        self.survivors = survivors

    def as_completed(self, fn: Callable[[Any], Any], items: Sequence[Any]
                     ) -> Iterator[tuple[int, Any]]:
        for k, item in enumerate(items):
            if k == self.survivors:
                keys = {f"key-{i}": f"study {it.name}" for i, it in enumerate(items)}
                dead = _killed(f"key-{k}")
                raise lost_tasks(dead, keys, list(keys)[k:]) from dead
            yield k, fn(item)

    def workers(self) -> int:
        return 1


def test_sweep_keeps_cases_solved_before_the_workers_died(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    model, out = three(tmp_path), tmp_path / "sweep"
    monkeypatch.setattr("gridc.cli.studies.make_executor",
                        lambda workers, scheduler: _DiesAfter(2))
    assert main(["sweep", str(model), "fuel", "--threads", "1", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "could not run study fuel.z" in text and "died 4 times" in text
    assert "internal error" not in text
    assert [read_summary(out / c)["study"] for c in ("x", "y")] == ["fuel.x", "fuel.y"]
    assert not (out / "z").exists()
    assert "missing: z (not solved)" in text


# ---------------------------------------------------------------- PSO keeps its best plan


class _DyingSearch(SerialExecutor):
    """Evaluates the first `batches` batches, then raises `error` (as a Dask executor
    whose workers keep dying would)."""

    kind = "dying"

    def __init__(self, batches: int, error: BaseException):
        self.batches, self.error, self.seen = batches, error, 0

    def submit_many(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        self.seen += 1
        if self.seen > self.batches:
            raise self.error
        return super().submit_many(fn, items)




@pytest.mark.parametrize("error", [_killed(), ExecutorError("could not run scenario b: "
                                                            "the Dask workers died", ["b"])],
                         ids=["raw-killed-worker", "executor-error"])
def test_pso_writes_its_best_plan_when_the_executor_fails(
        error: BaseException, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    tiny, out = write_tiny(tmp_path), tmp_path / "out"
    monkeypatch.setattr("gridc.cli.pso.make_executor",
                        lambda workers, scheduler: _DyingSearch(2, error))
    argv = ["solve", str(tiny), "--study", "dask_pso", "--particles", "3",
            "--iterations", "5", "--threads", "1", "--out", str(out)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "the search failed after" in captured.err
    assert ("KilledWorker" if isinstance(error, KilledWorker) else "could not run") \
        in captured.err
    assert "internal error" not in captured.err + captured.out
    data = read_pair(out, "plan.grid", "summary.json")
    assert data["status"] == "failed" and data["error"]
    assert 1 <= data["pso"]["iterations_done"] < 5
    assert data["objective"] is not None and data["objective"] == min(
        x for x in data["pso"]["history"] if x is not None)
    assert (out / "plan.grid").read_text().count("fix ") == 2  # hardening, ev_battery


def test_solve_pso_raises_search_failed_with_the_best_plan(tmp_path: Path) -> None:
    tiny = write_tiny(tmp_path)
    settings = bilevel.PsoSettings(particles=2, iterations=4, seed=1)
    with pytest.raises(bilevel.SearchFailed) as info:
        bilevel.solve_pso(tiny, "dask_pso", _DyingSearch(1, _killed()), settings=settings)
    run = info.value.run
    assert isinstance(info.value.__cause__, KilledWorker)
    assert run.best is not None and run.best.ok and run.result.iterations_done >= 1
    assert run.failure is not None and "KilledWorker" in run.failure


# ---------------------------------------------------------------- the executor's failures


class _Future:
    def __init__(self, key: str, status: str):
        self.key, self.status = key, status


class _Client:
    """Enough of a distributed Client for `DaskExecutor.submit_many`'s failure path."""

    def __init__(self, error: BaseException):
        self.error = error
        self.cancelled: list[Any] = []

    def submit(self, fn: Any, item: Any, *, key: str, **kw: Any) -> _Future:
        return _Future(key, "finished" if key.endswith("-0") else "pending")

    def gather(self, futures: list[_Future]) -> list[Any]:
        raise self.error

    def cancel(self, futures: list[_Future]) -> None:
        self.cancelled += futures


def _fake_dask(error: BaseException) -> DaskExecutor:
    ex = DaskExecutor.__new__(DaskExecutor)
    ex.client, ex.cluster, ex.retries = _Client(error), None, 0
    ex._batches, ex._token, ex.kind = 0, "t", "dask-fake"
    return ex


def test_killed_worker_becomes_an_executor_error_naming_the_task() -> None:
    items = [SimpleNamespace(label="study a"), SimpleNamespace(label="study b")]

    def fn(x: Any) -> Any:
        return x

    dead = _killed("fn-t-1-1")
    ex = _fake_dask(dead)
    with pytest.raises(ExecutorError) as info:
        ex.submit_many(fn, items)
    assert info.value.tasks == ["study b"]
    assert "could not run study b" in str(info.value) and "died 4 times" in str(info.value)
    assert info.value.__cause__ is dead
    assert len(ex.client.cancelled) == 2  # type: ignore[attr-defined]
    # a task's own exception is passed on as it is
    with pytest.raises(ZeroDivisionError):
        _fake_dask(ZeroDivisionError("in the task")).submit_many(fn, items)


def test_workers_dying_again_and_again_on_a_local_cluster() -> None:
    """A real local cluster (one worker, `allowed-failures` 0): a task that kills its
    worker ends in an ExecutorError naming it, from `submit_many` and `as_completed`."""
    import dask

    class Task:  # defined here: pickled by value for the worker
        def __init__(self, n: int):
            self.n = n

        @property
        def label(self) -> str:
            return f"item {self.n}"

    def crash_on_one(task: Task) -> int:
        if task.n == 1:
            os._exit(1)
        return task.n

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            DaskExecutor(n_workers=1, retries=0) as ex:
        assert ex.submit_many(crash_on_one, [Task(0), Task(2)]) == [0, 2]
        with pytest.raises(ExecutorError) as info:
            # item 1 alone: next to item 0 on the same worker, dask may blame item 0
            # for the death when it was still running (seen under load)
            ex.submit_many(crash_on_one, [Task(1)])
        assert info.value.tasks == ["item 1"] and "item 1" in str(info.value)
        with pytest.raises(ExecutorError, match="item 1"):
            list(ex.as_completed(crash_on_one, [Task(1)]))
