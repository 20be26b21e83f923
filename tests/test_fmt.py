"""The canonical formatter on every shipped model, and `gridc fmt` on files.

For each `models/*.grid`: formatting is idempotent, keeps every comment (including
comments inside inline tables) and does not change what the model means (same IR,
spans and the file path aside). `gridc fmt --check` exits 0 on canonical text and 1
otherwise; `gridc fmt --write` replaces files atomically.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from lark import Lark

from gridc.cli.main import main as gridc_main
from gridc.dsl import GridError, parse
from gridc.dsl.fmt import format_text
from gridc.dsl.syntax import grammar_text
from gridc.runtime import ioutil

ROOT = Path(__file__).resolve().parents[1]
MODELS = sorted((ROOT / "models").glob("*.grid"))
_LEXER = Lark(grammar_text(), parser="lalr", lexer="basic")


def strip_spans(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_spans(v) for k, v in value.items() if k != "span"}
    if isinstance(value, list | tuple):
        return [strip_spans(v) for v in value]
    return value


def meaning(text: str, path: Path) -> Any:
    """The IR of `text` without spans and without the file it was read from."""
    dump = parse(text, str(path)).model_dump(exclude={"sources", "path"})
    return strip_spans(dump)


def comments(text: str) -> Counter[str]:
    """Every comment of a .grid text, with comments inside inline tables."""
    found: Counter[str] = Counter()
    for tok in _LEXER.lex(text, dont_ignore=True):
        if tok.type == "COMMENT":
            found[str(tok).strip()] += 1
        elif tok.type == "TABLE":
            for line in str(tok).split("\n"):
                m = re.search(r"(//|#).*", line)
                if m:
                    found[m.group().strip()] += 1
    return found


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = gridc_main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_models_are_found() -> None:
    assert any(m.name == "ieee33.grid" for m in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.name)
class TestShippedModel:
    def test_idempotent(self, model: Path) -> None:
        text = model.read_text(encoding="utf-8")
        once = format_text(text, str(model))
        assert format_text(once, str(model)) == once
        assert once.endswith("\n") and not once.endswith("\n\n")

    def test_keeps_every_comment(self, model: Path) -> None:
        text = model.read_text(encoding="utf-8")
        assert comments(format_text(text, str(model))) == comments(text)

    def test_same_meaning(self, model: Path) -> None:
        text = model.read_text(encoding="utf-8")
        assert meaning(format_text(text, str(model)), model) == meaning(text, model)

    def test_same_meaning_from_another_file(self, model: Path, tmp_path: Path) -> None:
        """The formatted text, written elsewhere (data files alongside), means the same."""
        shutil.copytree(model.parent, tmp_path / "models",
                        ignore=shutil.ignore_patterns("*.nc", "out"))
        target = tmp_path / "models" / f"formatted_{model.name}"
        text = model.read_text(encoding="utf-8")
        target.write_text(format_text(text, str(model)), encoding="utf-8")
        assert meaning(target.read_text(encoding="utf-8"), target) == meaning(text, model)

    def test_shipped_file_is_canonical(self, model: Path) -> None:
        """Every shipped model is in canonical form as committed: the examples users copy
        pass `gridc fmt --check` (issue 13)."""
        code, out, err = run("fmt", "--check", str(model))
        assert code == 0, f"run `gridc fmt --write {model.name}`\n{out}{err}"

    def test_check_on_canonical_copy(self, model: Path, tmp_path: Path) -> None:
        target = tmp_path / model.name
        target.write_text(format_text(model.read_text(encoding="utf-8")), encoding="utf-8")
        code, out, err = run("fmt", "--check", str(target))
        assert code == 0, out + err

    def test_check_on_messy_copy(self, model: Path, tmp_path: Path) -> None:
        text = format_text(model.read_text(encoding="utf-8"))
        messy = "\n\n" + re.sub(r"(?m)^(\s*)(\S+) ", r"\1\2    ", text, count=3)
        target = tmp_path / model.name
        target.write_text(messy, encoding="utf-8")
        code, out, _ = run("fmt", "--check", str(target))
        assert code == 1
        assert "not in canonical form" in out
        assert target.read_text(encoding="utf-8") == messy  # --check never writes


# ------------------------------------------------------------------ formatter details


def test_comments_keep_their_places() -> None:
    text = """// header

model m "t"  // trailing

network n {  // on the opening line
  base 12.66 kV 10 MVA
  // before slack
  slack 1
  buses table {  // inside the table
    id p[kW]
    1 0   # a row comment
    2 10
  }  // after a table
  lines table {
    from to r[ohm] x[ohm]
    1 2 0.1 0.1
  }
  // closing the block
}  // after the block
profile p = [1,
  2, // inside a list
  3]
// the end
"""
    once = format_text(text)
    assert format_text(once) == once
    assert comments(once) == comments(text)
    assert "}  // after the block" in once
    assert "}  // after a table" in once
    assert "network n { // on the opening line" in once
    assert once.rstrip().endswith("// the end")


def test_comment_on_a_closing_brace_stays_there() -> None:
    text = "economics {\n  currency CNY\n}  // money\nhorizon 24 h step 1 h\n"
    assert format_text(text) == text


def test_one_line_blocks_stay_on_one_line_when_they_fit() -> None:
    text = "economics { currency CNY,discount 8 % , }\n"
    assert format_text(text) == "economics { currency CNY, discount 8 % }\n"
    long = ("storage s1 at 31 { power 200 kW, energy 800 kWh, efficiency 0.95, "
            "soc 0.1 .. 0.9, soc_init 0.5, wear 0.02 CNY/kWh }\n")
    assert format_text(long) == (
        "storage s1 at 31 {\n  power 200 kW\n  energy 800 kWh\n  efficiency 0.95\n"
        "  soc 0.1 .. 0.9\n  soc_init 0.5\n  wear 0.02 CNY/kWh\n}\n")


def test_blocks_written_over_several_lines_stay_expanded() -> None:
    text = "economics {\n  currency CNY\n}\n"
    assert format_text(text) == text
    nested = "a { b { c 1 }, d 2 }\n"  # a nested block: the outer one expands
    assert format_text(nested) == "a {\n  b { c 1 }\n  d 2\n}\n"


def test_long_lists_wrap_under_their_first_item() -> None:
    values = ", ".join(f"0.{k:02d}" for k in range(40))
    once = format_text(f"profile p = [{values}] CNY/kWh\n")
    lines = once.splitlines()
    assert len(lines) > 1 and all(len(line) <= 100 for line in lines)
    assert lines[0].startswith("profile p = [0.00, 0.01,")
    assert all(line.startswith(" " * len("profile p = [")) for line in lines[1:])
    assert lines[-1].endswith("0.39] CNY/kWh")
    assert format_text(once) == once
    # where the author broke the lines does not matter
    wrapped = values.replace(", 0.1", ",\n 0.1")
    messy = f"profile p = [{wrapped}] CNY/kWh\n"
    assert format_text(messy) == once


def test_end_of_line_comments_are_aligned() -> None:
    text = ("invest mess {\n  count 0 .. 5 // a\n  depot 1 // b\n  travel 1 h    // c\n\n"
            "  moves 4 // d\n}\n")
    assert format_text(text) == ("invest mess {\n  count 0 .. 5  // a\n  depot 1       // b\n"
                                 "  travel 1 h    // c\n\n  moves 4  // d\n}\n")


def test_syntax_error_is_a_grid_error() -> None:
    with pytest.raises(GridError):
        format_text("network n {\n")


# ------------------------------------------------------------------ gridc fmt


MESSY = "model  m   \"t\"\n\n\n\neconomics {currency CNY,discount 8 %}\nhorizon 24 h step 1 h\n"
CANONICAL = 'model m "t"\n\neconomics { currency CNY, discount 8 % }\nhorizon 24 h step 1 h\n'


def test_fmt_prints_canonical_text(tmp_path: Path) -> None:
    f = tmp_path / "m.grid"
    f.write_text(MESSY, encoding="utf-8")
    code, out, _ = run("fmt", str(f))
    assert code == 0
    assert out == CANONICAL
    assert f.read_text(encoding="utf-8") == MESSY


def test_fmt_write_rewrites_atomically(tmp_path: Path) -> None:
    f = tmp_path / "m.grid"
    f.write_text(MESSY, encoding="utf-8")
    inode = f.stat().st_ino
    code, _, err = run("fmt", "--write", str(f))
    assert code == 0, err
    assert f.read_text(encoding="utf-8") == CANONICAL
    assert f.stat().st_ino != inode  # a new file renamed over the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.grid"]  # no temporary left
    code, _, _ = run("fmt", "--check", str(f))
    assert code == 0


def test_fmt_write_leaves_canonical_files_alone(tmp_path: Path) -> None:
    f = tmp_path / "m.grid"
    f.write_text(CANONICAL, encoding="utf-8")
    inode, mtime = f.stat().st_ino, f.stat().st_mtime_ns
    assert run("fmt", "--write", str(f))[0] == 0
    assert (f.stat().st_ino, f.stat().st_mtime_ns) == (inode, mtime)


def test_fmt_write_failure_keeps_the_original(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "m.grid"
    f.write_text(MESSY, encoding="utf-8")

    def broken_replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ioutil.os, "replace", broken_replace)
    code, _, err = run("fmt", "--write", str(f))
    assert code != 0
    assert "Traceback" not in err
    assert f.read_text(encoding="utf-8") == MESSY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.grid"]


def test_fmt_write_refuses_a_broken_file(tmp_path: Path) -> None:
    f = tmp_path / "m.grid"
    f.write_text("network n {\n  base 1 kV\n", encoding="utf-8")
    code, _, err = run("fmt", "--write", str(f))
    assert code == 1
    assert "GRID003" in err
    assert f.read_text(encoding="utf-8") == "network n {\n  base 1 kV\n"


def test_fmt_check_reports_each_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.grid", tmp_path / "bad.grid"
    good.write_text(CANONICAL, encoding="utf-8")
    bad.write_text(MESSY, encoding="utf-8")
    code, out, _ = run("fmt", "--check", str(good), str(bad))
    assert code == 1
    assert str(bad) in out and str(good) not in out


def test_fmt_of_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("fmt", str(tmp_path / "nope.grid"))
    assert code == 2
    assert "cannot read" in err


@pytest.mark.skipif(os.name != "posix", reason="permissions")
def test_fmt_write_keeps_file_mode(tmp_path: Path) -> None:
    f = tmp_path / "m.grid"
    f.write_text(MESSY, encoding="utf-8")
    f.chmod(0o640)
    assert run("fmt", "--write", str(f))[0] == 0
    assert f.read_text(encoding="utf-8") == CANONICAL
    assert (f.stat().st_mode & 0o777) == 0o640
