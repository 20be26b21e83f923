"""Progress out, stop in: what a caller hands to every solve of one run.

Why a plain object: a solve of minutes must show where it is (stage, incumbent, bound,
gap) and must stop on Ctrl-C with what it has, but the runtime never imports the
command line's display (tests/test_layering.py). So the caller gives `SolveControl` a
plain callable that receives `SolveEvent`s (the CLI's `gridc.cli.progress` draws them),
and asks for a stop with `request_stop()` (Ctrl-C: `interruptible` installs the SIGINT
handler that does it). `runtime.backend.solver` attaches the HiGHS callbacks that read
the stop flag (`cbMipInterrupt`, `cbSimplexInterrupt`, `cbIpmInterrupt`: HiGHS returns
"interrupted" with its incumbent) and feed the events (`cbMipImprovingSolution`,
`cbMipLogging`, and `cbLogging` for the solver's own log); the strategies check
`should_stop()` between their stages and skip the rest.

The events come from HiGHS' thread: the callable must be thread-safe and quick (the
display only records the numbers and redraws on its own clock). An exception in it is
kept (`progress_error`) and the progress switched off, never raised into the solver.
"""

from __future__ import annotations

import _thread
import contextlib
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: after a stop request, the seconds a run may go without looking at the flag (it is then
#: in code that does not check it, e.g. compiling the next model) before it is interrupted
#: the hard way (KeyboardInterrupt in the main thread)
GRACE_S = 1.5


@dataclass(frozen=True)
class SolveEvent:
    """One thing a display may show.

    kind: "stage" (a stage begins), "progress" (the solver's incumbent, bound or gap
    moved, or it logged its state), "log" (a line of the solver's own log: `solver_log`),
    "done" (a stage ended: `status`, `incumbent` its objective, `bound`, `gap`), "stop"
    (a stop was requested; the solver returns its best point within a second or two).
    Values are in the model's reporting unit (CNY, or kWh/day for a losses study)."""

    kind: str
    stage: str
    elapsed_s: float  # since the stage began
    incumbent: float | None = None
    bound: float | None = None
    gap: float | None = None
    nodes: int | None = None
    status: str | None = None
    message: str = ""


ProgressFn = Callable[[SolveEvent], None]


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


class SolveControl:
    """The progress callable and the stop flag of one run (see the module docstring)."""

    def __init__(self, progress: ProgressFn | None = None, *, solver_log: bool = False):
        self.progress = progress
        self.solver_log = solver_log and progress is not None
        self.progress_error: BaseException | None = None
        self.prefix = ""  # e.g. "S1+S2: " while a sub-case runs
        self._stop = threading.Event()
        self._noticed = threading.Event()
        self._running = 0  # HiGHS runs in flight: they watch the flag themselves
        self._lock = threading.Lock()
        self._stage = "solve"
        self._constant, self._scale = 0.0, 1.0
        self._began = time.perf_counter()
        self._muted = False

    # ------------------------------------------------------------------ stop
    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def should_stop(self) -> bool:
        """True once a stop was requested; the caller acts on it (this counts as noticed)."""
        if self._stop.is_set():
            self._noticed.set()
            return True
        return False

    def request_stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self.emit("stop", message="stopping: the solver returns its best point "
                      "(Ctrl-C again to abort at once)")

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Around a HiGHS run: it watches the stop flag through its callbacks."""
        with self._lock:
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1

    def _unattended(self) -> bool:
        """A stop was requested, nobody acted on it and no solver is watching the flag."""
        with self._lock:
            return (self._stop.is_set() and not self._noticed.is_set()
                    and self._running == 0)

    # ------------------------------------------------------------------ progress
    def units(self, constant: float, scale: float) -> None:
        """Solver values (without the objective constant) of the model being solved are
        reported as (value + constant) / scale, the unit of the model's summary."""
        self._constant, self._scale = constant, scale or 1.0

    def begin(self, name: str) -> None:
        """A stage begins (its solver values in the current `units`)."""
        self._stage = self.prefix + name
        self._began = time.perf_counter()
        self.emit("stage")

    def value(self, solver_value: float | None) -> float | None:
        """A solver objective value (without the constant) in the reporting unit."""
        v = _finite(solver_value)
        return None if v is None else (v + self._constant) / self._scale

    @contextlib.contextmanager
    def muted(self) -> Iterator[None]:
        """No solver "progress" events inside (a heuristic's many small solves: the
        heuristic reports its own best instead); stop requests still work."""
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def emit(self, kind: str, **fields: object) -> None:
        if self.progress is None or (self._muted and kind == "progress"):
            return
        try:
            self.progress(SolveEvent(kind, self._stage, time.perf_counter() - self._began,
                                     **fields))  # type: ignore[arg-type]
        except Exception as exc:  # a broken display must not break the solve
            self.progress_error, self.progress = exc, None

    def solver_progress(self, incumbent: float | None, bound: float | None,
                        gap: float | None, nodes: int | None) -> None:
        """From the MIP callbacks: values in solver units, without the constant."""
        self.emit("progress", incumbent=self.value(incumbent), bound=self.value(bound),
                  gap=_finite(gap), nodes=nodes)

    def done(self, name: str, status: str, *, objective: float | None,
             bound: float | None, gap: float | None, seconds: float) -> None:
        """A stage ended (values already in the reporting unit)."""
        if self.progress is None:
            return
        try:
            self.progress(SolveEvent("done", self.prefix + name, seconds, incumbent=objective,
                                     bound=bound, gap=gap, status=status))
        except Exception as exc:
            self.progress_error, self.progress = exc, None


@contextlib.contextmanager
def interruptible(control: SolveControl) -> Iterator[None]:
    """Ctrl-C (SIGINT) asks `control` to stop instead of raising KeyboardInterrupt.

    The first SIGINT sets the stop flag: the running HiGHS solve returns its incumbent
    (within milliseconds, measured) and the strategy skips its remaining stages. If
    nothing looks at the flag within `GRACE_S` while no solver is running (the run is
    compiling a model, say), KeyboardInterrupt is raised in the main thread as before.
    A second SIGINT raises KeyboardInterrupt at once. Only in the main thread, and only
    when SIGINT has Python's default handler (a caller's own handler is left alone)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return
    state = {"open": True}
    guard = threading.Lock()
    timers: list[threading.Timer] = []

    def overdue() -> None:
        with guard:
            if state["open"] and control._unattended():
                _thread.interrupt_main()

    def handler(signum: int, frame: object) -> None:
        if control.stop_requested:
            raise KeyboardInterrupt
        control.request_stop()
        timer = threading.Timer(GRACE_S, overdue)
        timer.daemon = True
        timers.append(timer)
        timer.start()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        with guard:
            state["open"] = False
        for timer in timers:
            timer.cancel()
        signal.signal(signal.SIGINT, previous)
