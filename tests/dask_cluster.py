"""A real Dask cluster for the tests, and an executor that kills one of its workers.

`cluster` (a module-scoped fixture, offered to every test module by tests/conftest.py):
a `dask scheduler` and two `dask worker` processes ("w0", "w1") on 127.0.0.1 (a random
free port, one thread each, no nanny: a killed worker stays dead), started for the
module and killed after it. `KillingExecutor` kills a named worker as soon as it holds
tasks of a chosen batch, whether the batch is gathered whole (`submit_many`) or as it
completes (`as_completed`): the tests of the bi-level search, the evaluation and the
decomposition all check that a worker lost mid-batch changes nothing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from gridc.runtime.executor import DaskExecutor

DASK = str(Path(sys.executable).with_name("dask"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: dict[str, subprocess.Popen[bytes]]


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    logs = tmp_path_factory.mktemp("dask-logs")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sched = _spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                        "--no-dashboard"], logs / "scheduler.log")
        procs.append(sched)
        workers = {}
        for name in ("w0", "w1"):
            workers[name] = _spawn([DASK, "worker", address, "--nthreads", "1", "--no-nanny",
                                    "--host", "127.0.0.1", "--name", name, "--no-dashboard"],
                                   logs / f"{name}.log")
            procs.append(workers[name])
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
        yield Cluster(address, sched, workers)
    finally:  # workers first (killed: a graceful close waits for the scheduler)
        for p in reversed(procs):
            if p.poll() is None:
                p.kill() if p is not procs[0] else p.terminate()
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class KillingExecutor(DaskExecutor):
    """A `DaskExecutor` on `cluster` that kills worker `victim` as soon as it holds
    tasks of batch `at_batch` (1: the first); `killed_busy` tells whether it did hold
    some when killed."""

    def __init__(self, cluster: Cluster, victim: str, at_batch: int = 1):
        super().__init__(scheduler=cluster.address)
        self.proc, self.victim, self.at_batch = cluster.workers[victim], victim, at_batch
        self.killed_busy = False

    def submit(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        futures = super().submit(fn, items)
        if self._batches == self.at_batch:
            info = self.client.scheduler_info()["workers"]
            addr = next(a for a, w in info.items() if w.get("name") == self.victim)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not self.client.processing().get(addr):
                time.sleep(0.01)
            self.killed_busy = bool(self.client.processing().get(addr))
            self.proc.kill()
            self.proc.wait()
        return futures
