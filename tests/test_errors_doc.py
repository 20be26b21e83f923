"""docs/errors.md documents exactly the diagnostic codes of `CODES`, its examples
trigger the code they are written for, and the corpus of broken models in tests/bad
triggers every code that a `.grid` file can trigger."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gridc.dsl import GridError, parse
from gridc.dsl.diagnostics import CODES

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "errors.md"
BAD = ROOT / "tests" / "bad"

#: Codes that no `.grid` file can make `gridc check` report, and why.
NOT_TRIGGERABLE: dict[str, str] = {
    "GRID050": "raised only by the compiler (gridc.compile / gridc solve) for IR the "
               "language itself never produces: an empty scenario set or an empty "
               "history are already rejected while reading (GRID012, GRID030)",
    "GRID062": "needs a file over the size limit (64 MiB unless GRIDC_MAX_FILE_MB is set); "
               "tests/test_file_access.py triggers it with a small limit",
    "GRID052": "needs tables of more than 200,000 rows in all (unless GRIDC_MAX_TABLE_ROWS "
               "is set); tests/test_budgets.py triggers it with a small limit",
    "GRID059": "needs more than 100 errors in one model; tests/test_hostile_models.py "
               "triggers it",
    **{code: "raised when a study is compiled or solved (gridc solve), not by gridc "
             "check: each is triggered by a .grid model in tests/test_compile_diagnostics.py"
       for code in ("GRID070", "GRID071", "GRID072", "GRID073", "GRID074", "GRID075",
                    "GRID076")},
}

_SECTION = re.compile(r"^### (GRID\d{3})\s*$", re.M)
_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
_ERROR = re.compile(r"^//\s*error\s+(GRID\d{3})\s*$")


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def sections() -> dict[str, str]:
    """Code -> the text of its section (up to the next heading)."""
    text = doc_text()
    marks = list(_SECTION.finditer(text))
    out: dict[str, str] = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        nxt = text.find("\n## ", m.end(), end)
        out[m.group(1)] = text[m.end(): nxt if nxt >= 0 else end]
    return out


def examples() -> list[tuple[str, str, int]]:
    """(code, example text, line in docs/errors.md) of every `// error` block."""
    text = doc_text()
    out = []
    for m in _FENCE.finditer(text):
        lang, body = m.group(1).strip(), m.group(2)
        first = body.split("\n", 1)[0].strip()
        found = _ERROR.match(first)
        if lang == "grid" and found:
            out.append((found.group(1), body, text.count("\n", 0, m.start()) + 1))
    return out


def golden_codes() -> set[str]:
    codes: set[str] = set()
    for golden in BAD.glob("*.expected"):
        codes |= set(re.findall(r"error\[(GRID\d{3})\]", golden.read_text(encoding="utf-8")))
    return codes


def test_doc_sections_are_the_codes() -> None:
    headings = _SECTION.findall(doc_text())
    assert len(headings) == len(set(headings)), "a code has two sections"
    assert set(headings) == set(CODES)


def test_doc_names_only_real_codes() -> None:
    mentioned = set(re.findall(r"GRID\d{3}", doc_text()))
    assert mentioned <= set(CODES), mentioned - set(CODES)


def test_each_section_has_title_example_and_fix() -> None:
    for code, body in sections().items():
        assert CODES[code] in body, f"{code}: the section should quote the title"
        assert "Fix:" in body, f"{code}: the section should say how to fix it"
        assert "```" in body, f"{code}: the section should show an example"
        if code not in NOT_TRIGGERABLE:
            assert f"// error {code}" in body, f"{code}: the example should be checked"


@pytest.mark.parametrize("code,text,line", examples(),
                         ids=[f"{c}@{n}" for c, _, n in examples()])
def test_doc_example_triggers_its_code(code: str, text: str, line: int) -> None:
    with pytest.raises(GridError) as info:
        parse(text, ROOT / "docs" / "example.grid")
    found = {d.code for d in info.value.diagnostics}
    assert code in found, f"docs/errors.md:{line}: expected {code}, got {sorted(found)}"


def test_corpus_triggers_every_triggerable_code() -> None:
    assert set(NOT_TRIGGERABLE) <= set(CODES)
    missing = set(CODES) - set(NOT_TRIGGERABLE) - golden_codes()
    assert not missing, f"no broken model in tests/bad triggers {sorted(missing)}"


def test_untriggerable_codes_are_really_untriggered() -> None:
    """Keep the exemption list honest: once the corpus triggers a code, drop it."""
    assert not set(NOT_TRIGGERABLE) & golden_codes()
    for reason in NOT_TRIGGERABLE.values():
        assert reason.strip()
