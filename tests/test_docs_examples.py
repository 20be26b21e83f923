"""Every example in docs/language.md is checked against the implementation.

Fenced code blocks are classified by their info string and first line:

* ```grid blocks whose first line is `// complete` are whole models: they must pass
  `gridc.dsl.parse(text, path)` with `path` inside the repository's `models/`
  directory, so that `import "ieee33.grid"` resolves;
* ```grid blocks whose first line is `// error GRIDnnn` must be rejected by
  `gridc.dsl.parse` with (at least) that diagnostic code;
* every other ```grid block is a fragment: it must parse syntactically
  (`gridc.dsl.syntax.parse_document`) without any diagnostic;
* ```csv blocks whose info string names a path (```csv data/lines.csv) are data
  files. A complete example that names one of them is parsed inside a temporary
  copy of `models/` holding those files, since the repository ships no such data.

Besides the examples, the document must keep a section for every statement keyword
and investment kind, show each of them in a complete example, and name only
diagnostic codes that exist.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from gridc.dsl import GridError, ir, parse
from gridc.dsl.build.invest import BUILDERS
from gridc.dsl.build.model import KEYWORDS
from gridc.dsl.diagnostics import CODES, Collector
from gridc.dsl.syntax import parse_document

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
MODELS = ROOT / "models"

_FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
_ERROR = re.compile(r"^//\s*error\s+(GRID\d{3})\s*$")


@dataclass(frozen=True)
class Example:
    lang: str
    info: str  # the rest of the info string (a data file's path for csv blocks)
    text: str
    line: int  # line of the opening fence in docs/language.md

    @property
    def first(self) -> str:
        return self.text.split("\n", 1)[0].strip()

    @property
    def complete(self) -> bool:
        return self.lang == "grid" and self.first == "// complete"

    @property
    def error_code(self) -> str | None:
        m = _ERROR.match(self.first) if self.lang == "grid" else None
        return m.group(1) if m else None

    @property
    def fragment(self) -> bool:
        return self.lang == "grid" and not self.complete and self.error_code is None


def _examples() -> list[Example]:
    text = DOC.read_text(encoding="utf-8")
    out: list[Example] = []
    for m in _FENCE.finditer(text):
        lang, _, info = m.group(1).strip().partition(" ")
        line = text.count("\n", 0, m.start()) + 1
        out.append(Example(lang=lang, info=info.strip(), text=m.group(2), line=line))
    return out


EXAMPLES = _examples()
GRID = [e for e in EXAMPLES if e.lang == "grid"]
COMPLETE = [e for e in GRID if e.complete]
ERRORS = [e for e in GRID if e.error_code is not None]
FRAGMENTS = [e for e in GRID if e.fragment]
DATA = {e.info: e.text for e in EXAMPLES if e.lang == "csv" and e.info}


def _ids(examples: list[Example]) -> list[str]:
    return [f"language.md:{e.line}" for e in examples]


def _parse_example(example: Example, tmp_path: Path) -> ir.Model:
    """Parse a model example in models/ (or in a copy of it holding the doc's data)."""
    used = {rel: body for rel, body in DATA.items() if rel in example.text}
    if not used:
        return parse(example.text, MODELS / f"_docs_example_{example.line}.grid")
    models = tmp_path / "models"
    shutil.copytree(MODELS, models)
    for rel, body in used.items():
        target = models / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    return parse(example.text, models / f"_docs_example_{example.line}.grid")


def _syntax_errors(example: Example) -> list[str]:
    diags = Collector()
    doc = parse_document(example.text, f"language.md:{example.line}", diags)
    errors = [f"{d.span.line}:{d.span.col} {d.code} {d.message}" for d in diags.items]
    if doc is None and not errors:  # pragma: no cover - parse_document always reports
        errors.append("no document")
    return errors


# ---------------------------------------------------------------- the examples


def test_the_document_has_examples() -> None:
    assert DOC.is_file(), "docs/language.md is missing"
    assert len(COMPLETE) >= 20, "expected a complete example for most constructs"
    assert FRAGMENTS, "expected syntax fragments in the lexical section"
    assert ERRORS, "expected examples of rejected models"


@pytest.mark.parametrize("example", GRID, ids=_ids(GRID))
def test_every_grid_block_parses(example: Example) -> None:
    assert _syntax_errors(example) == []


@pytest.mark.parametrize("example", COMPLETE, ids=_ids(COMPLETE))
def test_complete_example_is_a_valid_model(example: Example, tmp_path: Path) -> None:
    try:
        _parse_example(example, tmp_path)
    except GridError as exc:  # show the rendered diagnostics
        pytest.fail(f"example at docs/language.md:{example.line} is rejected:\n{exc}")


@pytest.mark.parametrize("example", ERRORS, ids=_ids(ERRORS))
def test_error_example_is_rejected_with_its_code(example: Example, tmp_path: Path) -> None:
    with pytest.raises(GridError) as info:
        _parse_example(example, tmp_path)
    codes = {d.code for d in info.value.diagnostics}
    assert example.error_code in codes, f"expected {example.error_code}, got:\n{info.value}"


def test_every_data_file_is_used_by_a_model_example() -> None:
    for rel in DATA:
        assert not Path(rel).is_absolute() and ".." not in Path(rel).parts, rel
        assert any(rel in e.text for e in COMPLETE + ERRORS), f"{rel} is used by no example"


# ---------------------------------------------------------------- coverage


def _statement_keywords(example: Example) -> set[str]:
    diags = Collector()
    doc = parse_document(example.text, "x.grid", diags)
    return {st.keyword for st in doc.statements} if doc else set()


def test_every_statement_has_a_section_and_a_complete_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    shown: set[str] = set()
    for e in COMPLETE:
        shown |= _statement_keywords(e)
    for key in KEYWORDS:
        assert re.search(rf"^#+ .*`{key}\b", text, re.M), f"no section for '{key}'"
        assert key in shown, f"no complete example uses '{key}'"


def test_every_investment_kind_has_a_section_and_a_complete_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    for kind in BUILDERS:
        assert re.search(rf"^#+ .*`{kind}`", text, re.M), f"no section for kind '{kind}'"
        pattern = re.compile(rf"^invest\s+\S+\s*:\s*{kind}\b", re.M)
        assert any(pattern.search(e.text) for e in COMPLETE), f"no example of '{kind}'"


def test_only_existing_diagnostic_codes_are_named() -> None:
    named = set(re.findall(r"GRID\d{3}", DOC.read_text(encoding="utf-8")))
    assert named, "the document names no diagnostic code"
    assert named <= set(CODES), f"unknown codes: {sorted(named - set(CODES))}"
