"""Where the lower-level solves run: in-process, on a local Dask cluster, or on a
running Dask cluster — behind one two-method interface.

    with make_executor(workers=2) as ex:          # LocalCluster, 2 processes
        results = ex.submit_many(fn, items)      # list, in the order of `items`

Why one interface: the bi-level search (`gridc.runtime.strategies.bilevel`) submits a
batch of
independent scenario MILPs per PSO iteration and needs their results *in
submission order*, whatever finished first, so that the swarm sees the same
scores in the same order, hence proposes the same plans, on every back-end. The
back-ends differ only in where `fn(item)` runs:

* `SerialExecutor`: in this process, one after the other (the reference run);
* `DaskExecutor(n_workers=N)`: an embedded `distributed.LocalCluster` of N worker
  *processes* with one thread each (HiGHS is single-threaded per solve here, and
  processes sidestep the GIL during model building);
* `DaskExecutor(scheduler="tcp://host:port")`: a cluster started elsewhere with
  `dask scheduler` / `dask worker` (the workers must be able to import gridc and
  read the model files under the same paths).

Fault tolerance: tasks are submitted with `pure=False` (never merged with another
submission) and `retries=` (a task that *raises* is run again); a task whose
worker *dies* is rescheduled by the Dask scheduler on another worker (up to its
`allowed-failures`). Tasks must therefore be idempotent: the lower-level
evaluation is a deterministic function of its item, with only a cache on the side.

When that is not enough — a task whose workers died `allowed-failures + 1` times
(distributed's `KilledWorker`), a scheduler that went away, cancelled futures, an
unreachable scheduler — the executor raises `ExecutorError`, in this module only:
a gridc error naming the tasks that could not run (an item's `label` attribute, if
it has one), which the commands report as such (exit 1) instead of an internal
error. An exception raised by a task itself is passed on unchanged.

`as_completed(fn, items)` yields `(index, result)` as each task finishes, so that a
caller can keep each result (write it to disk) as soon as it exists.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: times a task that raised is re-run before the batch fails
DEFAULT_RETRIES = 2


class ExecutorError(RuntimeError):
    """Tasks the executor could not run (their workers died repeatedly, the cluster went
    away, the scheduler cannot be reached); `tasks` names them."""

    def __init__(self, message: str, tasks: Sequence[str] = ()):
        super().__init__(message)
        self.tasks = list(tasks)


def label(item: Any, default: str) -> str:
    """How a task is named in messages: its item's `label`, else `default`."""
    text = getattr(item, "label", None)
    return text if isinstance(text, str) and text else default


def _failure_types() -> tuple[type[BaseException], ...]:
    """The exceptions by which distributed says that it could not run a task."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker
    from distributed.client import FuturesCancelledError
    from distributed.comm.core import CommClosedError

    types: list[type[BaseException]] = [KilledWorker, CancelledError, FuturesCancelledError,
                                        CommClosedError]
    with contextlib.suppress(ImportError):
        from distributed.client import ClosedClientError  # not in every version

        types.append(ClosedClientError)
    return tuple(types)


def lost_tasks(exc: BaseException, names: dict[Any, str], unfinished: Sequence[Any]
               ) -> ExecutorError:
    """The `ExecutorError` for a distributed failure `exc`: `names` maps task keys to
    labels, `unfinished` are the keys that had not finished when it happened."""
    from distributed import KilledWorker

    if isinstance(exc, KilledWorker):
        killed = exc.args[0] if exc.args else None
        tasks = [names.get(killed, str(killed))]
        attempts = exc.args[2] + 1 if len(exc.args) > 2 and isinstance(exc.args[2], int) \
            else None
        times = f" {attempts} times" if attempts else " repeatedly"
        why = (f"the Dask workers running it died{times} (KilledWorker: out of memory, "
               "a crash in the solver, or killed; see the worker logs)")
    else:
        tasks = [names.get(k, str(k)) for k in unfinished]
        why = f"the Dask cluster failed ({type(exc).__name__}: {exc})"
    shown = ", ".join(tasks[:5]) + (f" and {len(tasks) - 5} more" if len(tasks) > 5 else "")
    return ExecutorError(f"could not run {shown or 'the batch'}: {why}", tasks)


def dask_setup(worker: Any) -> None:
    """Preload hook of the local cluster's workers (`preload=[this module]`): ignore
    SIGINT. Ctrl-C in a terminal signals the whole foreground process group; local
    workers that died on it would drop their tasks and flood the terminal with
    tracebacks, while the main process is the one that should stop the search and
    shut the cluster down. (An ignored SIGINT inherited from the parent is not
    enough: the worker's asyncio runner may install its own handler.)"""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class Executor(Protocol):
    kind: str

    def submit_many(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]: ...

    def as_completed(self, fn: Callable[[T], R], items: Sequence[T]
                     ) -> Iterator[tuple[int, R]]: ...

    def workers(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _Closing:
    def __enter__(self: Any) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()  # type: ignore[attr-defined]


class SerialExecutor(_Closing):
    """Runs every item in the calling process, in order."""

    kind = "serial"

    def submit_many(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]

    def as_completed(self, fn: Callable[[T], R], items: Sequence[T]
                     ) -> Iterator[tuple[int, R]]:
        for k, item in enumerate(items):
            yield k, fn(item)

    def workers(self) -> int:
        return 1

    def close(self) -> None:
        pass


class DaskExecutor(_Closing):
    """Runs items as Dask tasks; results are gathered in submission order."""

    def __init__(self, *, n_workers: int | None = None, scheduler: str | None = None,
                 retries: int = DEFAULT_RETRIES, connect_timeout: float = 30.0,
                 quiet: bool = True):
        from distributed import Client, LocalCluster

        if (n_workers is None) == (scheduler is None):
            raise ValueError("give either n_workers (local cluster) or scheduler (address)")
        if quiet:  # worker restarts and lost connections are expected events, not news
            for name in ("distributed", "distributed.nanny", "distributed.scheduler",
                         "distributed.worker", "distributed.core", "distributed.comm",
                         "distributed.client", "asyncio"):  # asyncio: cancelled gathers
                logging.getLogger(name).setLevel(logging.CRITICAL)
        self.retries = retries
        self.cluster: Any = None
        if scheduler is not None:
            self.kind = "dask-scheduler"
            try:
                self.client = Client(scheduler, timeout=connect_timeout)
            except OSError as exc:  # TimeoutError included
                raise ExecutorError(f"cannot connect to the Dask scheduler at {scheduler}: "
                                    f"{exc}") from exc
        else:
            assert n_workers is not None
            if n_workers < 1:
                raise ValueError("a local cluster needs at least one worker")
            self.kind = "dask-local"
            # dashboard ":0": the scheduler serves HTTP routes even without a dashboard,
            # and the default port 8787 collides with any other cluster on the machine
            self.cluster = LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True,
                dashboard_address=":0", preload=[__name__],
                silence_logs=logging.CRITICAL if quiet else logging.WARNING)
            self.client = Client(self.cluster, timeout=connect_timeout)
        self._batches = 0
        self._token = uuid.uuid4().hex[:8]  # keys unique on a shared scheduler

    def submit_many(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        futures = self.submit(fn, items)
        try:
            return list(self.client.gather(futures))
        except BaseException as exc:
            self._fail(futures, items, exc)
            raise

    def as_completed(self, fn: Callable[[T], R], items: Sequence[T]
                     ) -> Iterator[tuple[int, R]]:
        from distributed import as_completed

        futures = self.submit(fn, items)
        index = {f.key: k for k, f in enumerate(futures)}
        try:
            for future, result in as_completed(futures, with_results=True):
                yield index[future.key], result
        except BaseException as exc:  # GeneratorExit too: the caller stopped early
            self._fail(futures, items, exc)
            raise

    def _fail(self, futures: list[Any], items: Sequence[Any], exc: BaseException) -> None:
        """Cancel a failed batch; raise `ExecutorError` if distributed could not run it."""
        unfinished = [f.key for f in futures if f.status != "finished"]
        with contextlib.suppress(Exception):
            self.client.cancel(futures)
        if isinstance(exc, _failure_types()):
            names = {f.key: label(item, str(f.key)) for f, item in zip(futures, items)}
            raise lost_tasks(exc, names, unfinished) from exc

    def submit(self, fn: Callable[[T], R], items: Iterable[T]) -> list[Any]:
        """The futures of one batch (split out of `submit_many` so that tests can act
        while a batch is in flight)."""
        self._batches += 1
        name = getattr(fn, "__name__", "task")
        return [self.client.submit(fn, item, pure=False, retries=self.retries,
                                   key=f"{name}-{self._token}-{self._batches}-{k}")
                for k, item in enumerate(items)]

    def workers(self) -> int:
        return len(self.client.scheduler_info().get("workers", {}))

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None,
                  retries: int = DEFAULT_RETRIES) -> SerialExecutor | DaskExecutor:
    """`scheduler` → that cluster; `workers` > 1 → a local cluster; else serial."""
    if scheduler:
        return DaskExecutor(scheduler=scheduler, retries=retries)
    if workers is not None and workers > 1:
        return DaskExecutor(n_workers=workers, retries=retries)
    return SerialExecutor()
