"""Live progress of a solve on stderr: stage, elapsed time, incumbent, bound, gap.

    with ProgressDisplay(unit="CNY") as show:
        result = problem.solve(progress=show)

The runtime sends `gridc.runtime.backend.control.SolveEvent`s (from HiGHS' callbacks,
in HiGHS' thread); this module only draws them:

* on a terminal, a live panel (rich `Live`, redrawn four times a second, cleared when the
  run ends) with the current stage, its elapsed time, incumbent, bound, gap and nodes,
  and the tasks of a study comparison or sweep; each finished stage stays as one line;
* off a terminal (a log file, CI), plain lines: one when a stage begins or ends, and
  one every `every` seconds (default 5, `GRIDC_PROGRESS_S`) with the latest numbers,
  so that a long solve is never silent;
* `--verbose`: HiGHS' own log lines, printed above the live panel;
* `--quiet`: nothing (`ProgressDisplay(mode="off")`).

Everything goes to stderr, so that stdout carries only the result.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from gridc.runtime.backend.control import SolveEvent

#: seconds between two plain progress lines off a terminal
EVERY_S = 5.0


def amount(x: float | None, unit: str) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f} {unit}" if abs(x) >= 1000 else f"{x:,.4g} {unit}"


def percent(gap: float | None) -> str:
    return "-" if gap is None else f"{100 * gap:.2f} %"


def clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    m, s = divmod(int(seconds), 60)
    return f"{m}:{s:02d} min" if m < 60 else f"{m // 60}:{m % 60:02d}:{s:02d} h"


def _every() -> float:
    """`GRIDC_PROGRESS_S` if it is a positive number, else `EVERY_S`."""
    try:
        value = float(os.environ.get("GRIDC_PROGRESS_S", EVERY_S))
    except ValueError:
        return EVERY_S
    return value if value > 0 else EVERY_S


@dataclass
class _Now:
    """What the display knows of the running stage."""

    stage: str = ""
    began: float = 0.0
    incumbent: float | None = None
    bound: float | None = None
    gap: float | None = None
    nodes: int | None = None
    message: str = ""
    tasks: dict[str, str] = field(default_factory=dict)


class ProgressDisplay:
    """A `SolveEvent` sink that shows progress (see the module docstring). Use it as a
    context manager around the run; it is callable with each event, from any thread."""

    def __init__(self, console: Console | None = None, *, mode: str | None = None,
                 unit: str = "CNY", every: float | None = None):
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.mode = mode or ("live" if self.console.is_terminal else "lines")
        self.unit = unit
        self.every = every if every is not None else _every()
        self.started = time.monotonic()
        self._now = _Now()
        self._lock = threading.RLock()
        self._live: Live | None = None
        self._last_line = 0.0
        self._ticker: threading.Thread | None = None
        self._closed = threading.Event()

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> ProgressDisplay:
        self.started = time.monotonic()
        if self.mode == "live":
            self._live = Live(self, console=self.console, refresh_per_second=4,
                              transient=True, redirect_stdout=False, redirect_stderr=False)
            self._live.start()
        elif self.mode == "lines":
            self._ticker = threading.Thread(target=self._tick, name="gridc-progress",
                                            daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            live, self._live = self._live, None
        if live is not None:  # not under `_lock`: its last refresh reads the state
            live.stop()

    # ------------------------------------------------------------------ events
    # The state is read and written under `_lock`; printing happens after it is released:
    # the live panel's refresh thread holds the console's lock while it draws (and reads
    # the state), so printing under `_lock` could deadlock with it.

    def __call__(self, event: SolveEvent) -> None:
        if self.mode == "off":
            return
        lines: list[tuple[str, bool]] = []  # (text, keep on a terminal)
        with self._lock:
            now = self._now
            if event.kind == "stage":
                now.stage, now.began = event.stage, time.monotonic() - event.elapsed_s
                now.incumbent = now.bound = now.gap = now.nodes = None
                now.message = ""
                lines.append((f"{event.stage}: started", False))
            elif event.kind == "progress":
                now.incumbent = event.incumbent if event.incumbent is not None \
                    else now.incumbent
                now.bound = event.bound if event.bound is not None else now.bound
                now.gap = event.gap if event.gap is not None else now.gap
                now.nodes = event.nodes if event.nodes is not None else now.nodes
                now.message = event.message or now.message
                if time.monotonic() - self._last_line >= self.every:
                    lines.append((self._state(), False))
            elif event.kind == "done":
                lines.append((f"{event.stage}: {event.status}, objective "
                              f"{amount(event.incumbent, self.unit)}, bound "
                              f"{amount(event.bound, self.unit)}, gap {percent(event.gap)}, "
                              f"{event.elapsed_s:.1f} s", True))
                now.stage = ""
            elif event.kind == "stop":
                lines.append((event.message or "stopping", True))
            if lines:
                self._last_line = time.monotonic()
        if event.kind == "log" and event.message.rstrip("\n"):
            self._print(Text(event.message.rstrip("\n")))
        self._show(lines)

    def task(self, name: str, state: str) -> None:
        """The state of one task of a comparison or sweep (waiting, solving, its result)."""
        if self.mode == "off":
            return
        with self._lock:
            self._now.tasks[name] = state
            self._last_line = time.monotonic()
        self._show([(f"{name}: {state}", False)])

    def note(self, text: str) -> None:
        """A line of its own (kept above the live panel)."""
        if self.mode != "off":
            self._show([(text, True)])

    # ------------------------------------------------------------------ drawing
    def _state(self) -> str:
        now = self._now
        parts = [f"{now.stage or 'running'}: {clock(time.monotonic() - now.began)}"]
        if now.incumbent is not None or now.bound is not None:
            parts.append(f"incumbent {amount(now.incumbent, self.unit)}")
            parts.append(f"bound {amount(now.bound, self.unit)}")
            parts.append(f"gap {percent(now.gap)}")
        if now.nodes:
            parts.append(f"{now.nodes:,} nodes")
        if now.message:
            parts.append(now.message)
        return " · ".join(parts)

    def _show(self, lines: list[tuple[str, bool]]) -> None:
        """Off a terminal every line is printed, with the run's elapsed time; on one,
        only those to keep (the panel shows the rest). Never under `_lock`."""
        for text, keep in lines:
            if self.mode == "lines":
                self.console.print(f"[{clock(time.monotonic() - self.started):>9}] {text}",
                                   markup=False, highlight=False)
            elif keep:
                self._print(Text(text))

    def _print(self, text: Text) -> None:
        live = self._live
        (live.console if live is not None else self.console).print(text)

    def _tick(self) -> None:
        """Off a terminal: a line every `every` seconds while a stage runs."""
        while not self._closed.wait(min(1.0, self.every)):
            with self._lock:
                due = bool(self._now.stage) and \
                    time.monotonic() - self._last_line >= self.every
                text = self._state() if due else ""
                if due:
                    self._last_line = time.monotonic()
            if due:
                self._show([(text, False)])

    def __rich__(self) -> Any:
        """The live panel (rich calls this at every refresh, holding the console)."""
        with self._lock:
            now = _Now(**{**self._now.__dict__, "tasks": dict(self._now.tasks)})
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        t.add_row("elapsed", clock(time.monotonic() - self.started))
        if now.stage:
            t.add_row("stage", f"{escape(now.stage)} ({clock(time.monotonic() - now.began)})")
            t.add_row("incumbent", amount(now.incumbent, self.unit))
            t.add_row("bound", amount(now.bound, self.unit))
            t.add_row("gap", percent(now.gap))
            if now.nodes:
                t.add_row("nodes", f"{now.nodes:,}")
            if now.message:
                t.add_row("", escape(now.message))
        if not now.tasks:
            return t
        tasks = Table.grid(padding=(0, 2))
        tasks.add_column(style="bold")
        tasks.add_column()
        for name, state in now.tasks.items():
            tasks.add_row(escape(name), escape(state))
        return Group(tasks, t)


def display_for(args: Any, unit: str = "CNY") -> ProgressDisplay:
    """The display a command's `--quiet` / `--verbose` ask for (off with --quiet)."""
    return ProgressDisplay(mode="off" if getattr(args, "quiet", False) else None, unit=unit)
