"""Diagnostics for tools: `gridc check --format short|json|sarif`.

The default text form is for people (rustc style: header, source line, caret, help).
Editors and CI read other forms:

* `short` — one line per diagnostic, `file:line:col: error: message [GRIDnnn]`, the
  form the usual problem matchers (gcc-style, VS Code's `$gcc`, GitHub Actions'
  matchers) recognise;
* `json` — every file checked with its diagnostics (code, title, message, span, help,
  notes), for scripts;
* `sarif` — SARIF 2.1.0, the format code-scanning tools read (GitHub code scanning,
  SARIF viewers): one run, each GRID code a rule with its title and its page in
  docs/errors.md.

Each diagnostic appears once (`tidy`), with control characters removed, as in the text
form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gridc import __version__
from gridc.dsl.access import tidy
from gridc.dsl.diagnostics import CODES, Diagnostic

FORMATS = ("text", "short", "json", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ERRORS_DOC = "docs/errors.md"


@dataclass
class Checked:
    """One file given to `gridc check` and what was found in it."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    summary: dict[str, int] | None = None  # buses, lines, studies when it is valid


def _one_line(text: str) -> str:
    return " ".join(text.split())


def short(checked: Iterable[Checked]) -> str:
    lines = []
    for c in checked:
        for d in tidy(c.diagnostics):
            s = d.span
            lines.append(f"{s.file}:{s.line}:{s.col}: error: {_one_line(d.message)} [{d.code}]")
    return "\n".join(lines)


def _span(d: Diagnostic) -> dict[str, Any]:
    s = d.span
    return {"file": s.file, "line": s.line, "col": s.col, "end_line": s.end_line,
            "end_col": s.end_col}


def as_json(checked: Iterable[Checked]) -> str:
    files = []
    for c in checked:
        diags = [{"code": d.code, "title": CODES[d.code], "severity": "error",
                  "message": d.message, "span": _span(d), "help": d.help,
                  "notes": list(d.notes)} for d in tidy(c.diagnostics)]
        entry: dict[str, Any] = {"path": c.path, "ok": not diags, "diagnostics": diags}
        if c.summary is not None:
            entry["model"] = c.summary
        files.append(entry)
    return json.dumps({"gridc": __version__, "files": files}, indent=2)


def sarif(checked: Iterable[Checked]) -> str:
    results, used = [], set()
    for c in checked:
        for d in tidy(c.diagnostics):
            used.add(d.code)
            s = d.span
            text = d.message + (f"\nhelp: {d.help}" if d.help else "") + \
                "".join(f"\nnote: {n}" for n in d.notes)
            end_col = s.end_col if (s.end_line, s.end_col) > (s.line, s.col) else s.col + 1
            results.append({
                "ruleId": d.code, "level": "error", "message": {"text": text},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": _uri(s.file)},
                    "region": {"startLine": s.line, "startColumn": s.col,
                               "endLine": max(s.end_line, s.line), "endColumn": end_col}}}],
            })
    rules = [{"id": code, "name": code,
              "shortDescription": {"text": CODES[code]},
              "help": {"text": f"{ERRORS_DOC}, section {code}"},
              "defaultConfiguration": {"level": "error"}} for code in sorted(used)]
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "gridc", "version": __version__,
                                         "rules": rules}},
                     "columnKind": "unicodeCodePoints", "results": results}]}
    return json.dumps(log, indent=2)


def _uri(file: str) -> str:
    """SARIF locations are URIs: `file://` for absolute paths, a relative reference
    (percent-encoded, forward slashes) otherwise."""
    path = Path(file)
    if path.is_absolute():
        return path.as_uri()
    return quote(path.as_posix())


def render(fmt: str, checked: list[Checked]) -> str:
    """`checked` in format `fmt` (one of FORMATS except "text")."""
    return {"short": short, "json": as_json, "sarif": sarif}[fmt](checked)
