"""Start-up cost of the command line: CPU seconds of `gridc --version` and of
`gridc check models/ieee33.grid`, each run as a fresh process (interpreter start-up and
imports included), best of N.

Targets (issue 13): `gridc --version` ≤ 0.3 s and `gridc check models/ieee33.grid`
≤ 1 s of CPU on this 2-core machine. CPU time (user + system of the child, from
`os.wait4`) rather than wall time, because the machine is shared: wall time on a
loaded machine measures the other jobs. The first `check` after installing builds
pint's definition cache (see `gridc.dsl.units.registry`); one warm-up run precedes
the measured ones, and the cold figure is printed too.

    python bench/startup.py            # best of 5
    python bench/startup.py --repeat 9
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"--version": 0.3, "check": 1.0}


def gridc_command() -> list[str]:
    exe = Path(sys.executable).with_name("gridc")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gridc"]


def cpu_seconds(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child process running `argv`."""
    import time

    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {err}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    gridc = gridc_command()
    cases = {"--version": [*gridc, "--version"],
             "check": [*gridc, "check", "models/ieee33.grid"]}
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as cache:  # a cold pint cache, then warm runs
        env = {**os.environ, "XDG_CACHE_HOME": cache}
        cold, _ = cpu_seconds(cases["check"], env)
        print(f"check, cold pint cache: {cold:.3f} s CPU")
        shutil.rmtree(cache, ignore_errors=True)
    failed = False
    for name, argv in cases.items():
        cpu_seconds(argv)  # warm-up (pint cache, OS file cache)
        runs = [cpu_seconds(argv) for _ in range(args.repeat)]
        best_cpu = min(c for c, _ in runs)
        best_wall = min(w for _, w in runs)
        target = TARGETS[name]
        ok = best_cpu <= target
        failed |= not ok
        print(f"{' '.join(argv[len(gridc):]):<32} best CPU {best_cpu:.3f} s "
              f"(target ≤ {target} s: {'met' if ok else 'NOT met'}), best wall {best_wall:.3f} s,"
              f" CPU of {args.repeat} runs: {', '.join(f'{c:.2f}' for c, _ in runs)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
