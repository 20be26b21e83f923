"""Extreme numbers in every numeric field: a property fuzzer (hypothesis).

Every number written in a shipped model (models/*.grid), in the small fixtures
(tests/models/*.grid) and in the shipped history CSV is a place where a hostile or
careless model can put 0, a negative, 1e-300, 1e300, an overflow (1e309), a `nan` or
`inf` spelling, 2^63, a 400-digit integer, or the bounds of the ranges `check` holds
numbers to (dsl/ranges.py). `gridc check` (in-process, through the CLI
entry) must answer every such model with exit 0 or 1 and diagnostics, never a
traceback, an "internal error" or a hang. Some numbers only bite later (a life in the
cost arithmetic, a thread count in HiGHS, a voltage base in the impedances): on a tiny
model that has them all, whatever `check` accepts must also solve (`gridc solve`, exit
0 or 1) without an internal error.

Example counts (150 models, 60 history files, 25 solves) keep the file near a minute
on two busy cores; multiply them with GRIDC_FUZZ_SCALE (as tests/test_fuzz.py).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridc.cli.main import main as gridc_main
from gridc.dsl.ranges import RANGES

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "models").glob("*.grid"))
FIXTURES = sorted((ROOT / "tests" / "models").glob("*.grid"))
HISTORY = ROOT / "models" / "data" / "typhoon_history.csv"
SCALE = float(os.environ.get("GRIDC_FUZZ_SCALE", "1"))
HANG_S = 60  # a check that takes this long is a hang (they take well under a second)

#: what replaces a number: boundaries, signs, tiny and huge magnitudes, overflow,
#: spellings of nan and infinity, 32- and 64-bit edges, an integer no float holds
EXTREMES = ["0", "-0", "0.0", "1", "-1", "-0.5", "1e-300", "-1e-300", "1e300", "-1e300",
            "1e309", "-1e309", "1e-9", "1e9", "nan", "NaN", "inf", "-inf", "Infinity",
            "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
            "18446744073709551617", "1" + "0" * 400, "0.1e-5", "99999999"]

#: the bounds of every range of dsl/ranges.py: the largest and smallest values `check`
#: accepts, which must then build and solve
EDGES = sorted({repr(float(b)) for ranges in RANGES.values() for r in ranges
                for b in (r.lo, r.hi) if b is not None})

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")


def number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every number literal of `text` outside comments and strings."""
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        code, quoted, cut = line, False, len(line)
        for i, ch in enumerate(line):
            if ch == '"':
                quoted = not quoted
            elif not quoted and (ch == "#" or line.startswith("//", i)):
                cut = i
                break
        code = line[:cut]
        for m in _NUMBER.finditer(code):
            if code[: m.start()].count('"') % 2 == 0:
                spans.append((offset + m.start(), offset + m.end()))
        offset += len(line) + 1
    return spans


def replaced(text: str, choices: list[tuple[int, str]]) -> str:
    """`text` with the numbers at the chosen indices (modulo the count) replaced."""
    spans = number_spans(text)
    if not spans:
        return text
    picked = {spans[i % len(spans)]: value for i, value in choices}
    out, last = [], 0
    for (start, end), value in sorted(picked.items()):
        out += [text[last:start], value]
        last = end
    return "".join(out) + text[last:]


@contextlib.contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (rather than hang the test run) when the block runs longer than `seconds`."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_cli(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), deadline(HANG_S):
        code = gridc_main(list(args))
    return code, out.getvalue() + err.getvalue()


def assert_clean(code: int, output: str) -> None:
    assert "Traceback" not in output, output[-3000:]
    assert "internal error" not in output, output[-3000:]
    assert code in (0, 1), output[-3000:]
    assert output.strip()


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture],
                    print_blob=True)


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """models/ (with data/) and tests/models/ copied side by side, so imports resolve."""
    top = tmp_path_factory.mktemp("numeric_fuzz")
    shutil.copytree(ROOT / "models", top / "models",
                    ignore=shutil.ignore_patterns("*.nc", "out"))
    shutil.copytree(ROOT / "tests" / "models", top / "fixtures")
    return top


def test_number_spans_skip_comments_and_strings() -> None:
    text = 'load l at 7 { p 45 kW } // 12 is a comment\nbuses from "data2.csv" # 3\nx -1e3'
    found = [text[a:b] for a, b in number_spans(text)]
    assert found == ["7", "45", "-1e3"]
    assert replaced(text, [(1, "1e309")]).startswith("load l at 7 { p 1e309 kW }")


choice = st.tuples(st.integers(0, 10**6), st.sampled_from(EXTREMES + EDGES))


@fuzz_settings(150)
@given(model=st.sampled_from([*MODELS, *FIXTURES]),
       choices=st.lists(choice, min_size=1, max_size=3))
def test_extreme_numbers_check_cleanly(copies: Path, model: Path,
                                       choices: list[tuple[int, str]]) -> None:
    folder = copies / ("models" if model.parent.name == "models" and
                       model.parent.parent == ROOT else "fixtures")
    target = folder / f"nfuzz_{model.name}"
    target.write_text(replaced(model.read_text(encoding="utf-8"), choices), encoding="utf-8")
    assert_clean(*run_cli("check", str(target)))


@fuzz_settings(60)
@given(choices=st.lists(choice, min_size=1, max_size=4))
def test_extreme_numbers_in_the_history_check_cleanly(copies: Path,
                                                      choices: list[tuple[int, str]]) -> None:
    history = copies / "models" / "data" / HISTORY.name
    try:
        history.write_text(replaced(HISTORY.read_text(encoding="utf-8"), choices),
                           encoding="utf-8")
        assert_clean(*run_cli("check", str(copies / "models" / "ieee33_resilience.grid")))
    finally:
        shutil.copy(HISTORY, history)


#: a tiny model with a number of every kind that only matters once the model is built
#: or solved: voltage base and limits, impedances, ratings, powers, prices, a storage,
#: a DG investment (unit, capacity, costs, life), a reinforcement, the economics, and
#: a study's solve options (gap, time limit, threads, seed)
TINY = """model tiny
horizon 2 h step 1 h
economics { discount 8 %, life 20 y, days_per_year 365 }
network n {
  base 10 kV 1 MVA
  slack b1 at 1.0 pu
  voltage 0.9 .. 1.1 pu
  buses table {
    id  p[kW]  q[kvar]  priority
    b1  0      0        1
    b2  40     10       2
    b3  30     5        1
  }
  lines table {
    from  to  r[ohm]  x[ohm]  rating[kVA]
    b1    b2  0.1     0.2     2000
    b2    b3  0.2     0.3     1000
  }
}
profile sun = [0.6, 0.2]
price grid 0.5 CNY/kWh
penalty shed 10 CNY/kWh
storage bat at b3 { power 20 kW, energy 40 kWh, efficiency 0.95, soc 0.1 .. 0.9 }
invest pv : dg at b3 { source pv, unit 10 kW, capacity 0 .. 50 kW, profile sun,
                       install 1000 CNY/kW, maintain 10 CNY/kW/y, life 20 y }
invest harden : reinforcement { candidates [b2-b3], count 0 .. 1, install 100 kCNY,
                                life 30 y }
scenarios days {
  scenario calm { probability 0.7 }
  scenario storm { probability 0.3, outage b2-b3 from 0 h to 1 h }
}
study s { gap 1 %, time_limit 30 s, threads 2, seed 1 }
"""


def test_the_tiny_model_solves(tmp_path: Path) -> None:
    path = tmp_path / "tiny.grid"
    path.write_text(TINY, encoding="utf-8")
    code, output = run_cli("solve", str(path))
    assert code == 0, output


@fuzz_settings(25)
@given(choices=st.lists(choice, min_size=1, max_size=2))
def test_what_check_accepts_solves_cleanly(tmp_path_factory: pytest.TempPathFactory,
                                           choices: list[tuple[int, str]]) -> None:
    path = tmp_path_factory.mktemp("tiny") / "tiny.grid"
    path.write_text(replaced(TINY, choices), encoding="utf-8")
    code, output = run_cli("check", str(path))
    assert_clean(code, output)
    if code == 0:
        assert_clean(*run_cli("solve", str(path), "--time-limit", "30"))
