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
"""

from __future__ import annotations

import logging
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: times a task that raised is re-run before the batch fails
DEFAULT_RETRIES = 2


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
            self.client = Client(scheduler, timeout=connect_timeout)
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
        except BaseException:
            self.client.cancel(futures)
            raise

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
