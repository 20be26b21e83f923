"""The one-file HTML report: headline, plan, cost tables, every picture, the model's words.

Why one self-contained file: a planner e-mails it. Pictures are embedded as data URIs
(SVG by default: sharp when printed; PNG on request), the style sheet is inline, there is
no script and nothing is fetched (not even a favicon), so it opens offline in any browser
and prints on A4 (print CSS: no navigation, one study per page, no figure or table split
across pages).

The document is assembled from plain data (`ReportDoc`): the command line fills the
tables from the same views the terminal prints, so the report says what `gridc solve`
said; this module only lays it out and escapes every string.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from typing import Any

from gridc.viz.result import Case

MIME = {"png": "image/png", "svg": "image/svg+xml"}
_NUMBER = re.compile(r"^[−\-+]?[\d,.]+(\s?(%|×10\^-?\d+|[A-Za-z/²]+(/[a-z]+)?))?$")


@dataclass
class TableData:
    title: str
    header: list[str] | None
    rows: list[list[str]]
    section_ends: set[int] = field(default_factory=set)  # rows after which a rule goes


@dataclass
class FigureData:
    kind: str
    caption: str
    fmt: str  # png | svg
    data: bytes


@dataclass
class CaseSection:
    anchor: str
    title: str
    headline: list[tuple[str, str]]
    tables: list[TableData] = field(default_factory=list)
    figures: list[FigureData] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # pictures that do not apply, and why


@dataclass
class ReportDoc:
    title: str
    subtitle: str
    comments: list[str]
    source: str  # where the results were read from
    overview_tables: list[TableData] = field(default_factory=list)
    overview_figures: list[FigureData] = field(default_factory=list)
    cases: list[CaseSection] = field(default_factory=list)


# ---------------------------------------------------------------------- headline


def _money(x: Any, unit: str) -> str:
    return "–" if x is None else f"{float(x):,.2f} {unit}"


def headline(case: Case) -> list[tuple[str, str]]:
    """The few numbers a planner reads first, from the summary."""
    s = case.summary
    rows: list[tuple[str, str]] = []
    status = str(s.get("status", "?"))
    rows.append(("status", status + (f" ({s['message']})" if s.get("message") else "")))
    pricing = s.get("pricing") or {}
    unit = "kWh/day" if s.get("objective_kind") == "losses" else \
        (case.model.economics.currency if case.model is not None and case.model.economics
         else "CNY")
    what = pricing.get("objective_is") or ("expected losses of one day"
                                           if s.get("objective_kind") == "losses" else "")
    rows.append(("objective" + (f" ({what})" if what else ""), _money(s.get("objective"), unit)))
    plan = s.get("planning") or {}
    if plan.get("total_comprehensive") is not None:
        rows.append(("total comprehensive cost (CRF × objective)",
                     _money(plan["total_comprehensive"], f"{unit}/y")))
    elif pricing.get("annual_equivalent_cny_per_y") is not None \
            and pricing.get("rule") == "present_value":
        rows.append(("annual equivalent", _money(pricing["annual_equivalent_cny_per_y"],
                                                 f"{unit}/y")))
    rows.append(("dual bound", _money(s.get("bound"), unit)))
    gap = s.get("gap")
    rows.append(("MIP gap", "–" if gap is None else f"{100 * float(gap):.2f} %"))
    shed = s.get("shed")
    if shed:
        rows.append(("expected shed load", f"{float(shed['expected_kwh']):,.1f} kWh per day"))
    volt = s.get("voltage") or {}
    for key in ("min", "max"):
        v = volt.get(key)
        if v:
            h = float(v["time"]) * case.step_h
            rows.append((f"{key} voltage", f"{float(v['v_pu']):.4f} p.u. at bus {v['bus']} "
                         f"({v['scenario']}, {int(h):02d}:{round(h % 1 * 60):02d})"))
    tm = s.get("timings") or {}
    total = tm.get("wall_s") or sum(float(tm.get(k, 0.0)) for k in ("parse_s", "compile_s",
                                                                     "solve_s"))
    if total:
        rows.append(("time", f"{float(total):,.1f} s (parse, compile and solve)"))
    return rows


# ---------------------------------------------------------------------- HTML

CSS = """
:root { --fg: #1b1b1b; --muted: #5a5a5a; --rule: #d9d9d9; --accent: #1f4e79; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 1.4rem 2rem 4rem; }
h1 { font-size: 1.55rem; margin: 0 0 .2rem; color: var(--accent); }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.02rem; margin: 1.4rem 0 .4rem; }
p.sub { color: var(--muted); margin: 0 0 1rem; }
nav.toc { background: #f5f7fa; border: 1px solid var(--rule); padding: .6rem 1rem;
  margin: 1rem 0; font-size: .9rem; }
nav.toc ul { margin: .2rem 0; padding-left: 1.2rem; }
.comments { white-space: pre-wrap; font-family: ui-monospace, SFMono-Regular, Menlo,
  Consolas, monospace; font-size: .8rem; background: #fafafa; border-left: 3px solid
  var(--rule); padding: .6rem .9rem; margin: .4rem 0 1rem; }
dl.headline { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1.2rem;
  margin: .4rem 0 1rem; font-size: .95rem; }
dl.headline dt { color: var(--muted); }
dl.headline dd { margin: 0; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; font-size: .84rem; margin: .3rem 0 1.2rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border-bottom: 1px solid var(--rule); padding: .22rem .6rem; text-align: left;
  vertical-align: top; }
th { background: #f0f3f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.end td { border-bottom: 2px solid #9a9a9a; }
figure { margin: 1rem 0 2rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: var(--muted); font-size: .86rem; margin-top: .3rem; }
ul.notes { color: var(--muted); font-size: .86rem; }
footer { color: var(--muted); font-size: .8rem; margin-top: 3rem; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size: 10pt; }
  main { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section.case { break-before: page; }
  figure, table, dl.headline { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _table(t: TableData) -> str:
    out = ["<table>"]
    if t.title:
        out.append(f"<caption>{_e(t.title)}</caption>")
    if t.header and any(h.strip() for h in t.header):
        out.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in t.header)
                   + "</tr></thead>")
    out.append("<tbody>")
    for k, row in enumerate(t.rows):
        cls = ' class="end"' if k in t.section_ends and k < len(t.rows) - 1 else ""
        cells = "".join(f'<td class="num">{_e(c)}</td>' if k2 and _NUMBER.match(c.strip())
                        else f"<td>{_e(c)}</td>" for k2, c in enumerate(row))
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _figure(f: FigureData, anchor: str) -> str:
    uri = f"data:{MIME[f.fmt]};base64,{base64.b64encode(f.data).decode('ascii')}"
    return (f'<figure id="{_e(anchor)}-{_e(f.kind)}" data-kind="{_e(f.kind)}">'
            f'<img alt="{_e(f.caption)}" src="{uri}">'
            f"<figcaption>{_e(f.caption)}</figcaption></figure>")


def _case(c: CaseSection, several: bool) -> str:
    out = [f'<section class="case" id="{_e(c.anchor)}">',
           f"<h2>{_e(c.title)}</h2>" if several else ""]
    out.append(f'<h3 id="{_e(c.anchor)}-headline">Headline</h3>')
    out.append('<dl class="headline">' + "".join(
        f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in c.headline) + "</dl>")
    if c.tables:
        out.append(f'<h3 id="{_e(c.anchor)}-tables">Plan and costs</h3>')
        out += [_table(t) for t in c.tables]
    if c.figures:
        out.append(f'<h3 id="{_e(c.anchor)}-figures">Pictures</h3>')
        out += [_figure(f, c.anchor) for f in c.figures]
    if c.notes:
        out.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in c.notes)
                   + "</ul>")
    out.append("</section>")
    return "\n".join(x for x in out if x)


def render_html(doc: ReportDoc) -> str:
    """The report as one HTML document (module docstring)."""
    several = len(doc.cases) > 1
    toc = ['<nav class="toc" id="contents"><strong>Contents</strong><ul>']
    if doc.comments:
        toc.append('<li><a href="#about">About the model</a></li>')
    if doc.overview_tables or doc.overview_figures:
        toc.append('<li><a href="#overview">Side by side</a></li>')
    for c in doc.cases:
        toc.append(f'<li><a href="#{_e(c.anchor)}">{_e(c.title)}</a></li>')
    toc.append("</ul></nav>")
    body = [f"<header><h1>{_e(doc.title)}</h1><p class=\"sub\">{_e(doc.subtitle)}</p>"
            "</header>", "\n".join(toc)]
    if doc.comments:
        body.append('<section id="about"><h2>About the model</h2>'
                    f'<div class="comments">{_e(chr(10).join(doc.comments))}</div></section>')
    if doc.overview_tables or doc.overview_figures:
        body.append('<section id="overview"><h2>Side by side</h2>')
        body += [_table(t) for t in doc.overview_tables]
        body += [_figure(f, "overview") for f in doc.overview_figures]
        body.append("</section>")
    body += [_case(c, several) for c in doc.cases]
    body.append(f"<footer>Written by gridc report from {_e(doc.source)}. Self-contained: "
                "no network access is needed to read or print it.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"icon\" href=\"data:,\">"
            f"<title>{_e(doc.title)}</title><style>{CSS}</style></head>\n"
            "<body><main>\n" + "\n".join(body) + "\n</main></body></html>\n")
