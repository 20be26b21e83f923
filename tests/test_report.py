"""The commands: `gridc plot` (files, usage errors, no matplotlib, lazy imports), `gridc
solve --plot`, and `gridc report`: one self-contained HTML file per result, which renders
in a real browser.

The static checks parse the file: every section, every picture embedded (data URIs that
decode to PNG or SVG), the tables the terminal prints, no script and nothing fetched from
anywhere. The browser check (`test_browser_*`) renders it with headless Chromium when
`chromium` is installed (skipped with the reason otherwise; `scripts/browser_check.sh`
sets GRIDC_REQUIRE_BROWSER=1 so that CI fails instead): no console message, every image
decoded, a page that is not blank, every section in the rendered DOM.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from test_plots import FEEDER8, ROOT, solved  # noqa: F401  (solved: the session fixture)

from gridc.cli.main import main


class Page(HTMLParser):
    """Ids, images, links, scripts and table text of an HTML document."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images: list[dict[str, str]] = []
        self.urls: list[str] = []
        self.scripts = 0
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.images.append(a)
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if key in a:
                self.urls.append(a[key])
        self._in_cell = tag in ("td", "th", "dd")
        if self._in_cell:
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "dd"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell and self.cells:
            self.cells[-1] += data


def _parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _report(solved: Callable[[str], Path], name: str, tmp_path: Path,  # noqa: F811
            *extra: str) -> Path:
    target = tmp_path / f"{name}.html"
    assert main(["report", str(solved(name)), "-o", str(target), *extra]) == 0
    return target


def _decoded(img: dict[str, str]) -> tuple[str, bytes]:
    m = re.fullmatch(r"data:(image/png|image/svg\+xml);base64,([A-Za-z0-9+/=]+)", img["src"])
    assert m, img["src"][:60]
    return m.group(1), base64.b64decode(m.group(2), validate=True)


def test_report_of_one_study_is_self_contained(solved: Callable[[str], Path],  # noqa: F811
                                               tmp_path: Path) -> None:
    path = _report(solved, "stations5", tmp_path)
    page = _parse(path)
    text = path.read_text(encoding="utf-8")
    assert page.scripts == 0
    assert all(u.startswith(("data:", "#")) for u in page.urls), page.urls
    assert "@media print" in text and "<title>Five-bus area with an EV station to place" in text
    for section in ("contents", "about", "stations5-headline", "stations5-tables",
                    "stations5-figures"):
        assert section in page.ids, section
    kinds = {i.split("-", 1)[1] for i in page.ids if i.startswith("stations5-")
             and i.split("-", 1)[1] not in ("headline", "tables", "figures")}
    assert kinds == {"map", "dispatch", "costs", "stations", "ac", "forecast"}
    for img in page.images:
        mime, data = _decoded(img)
        assert img["alt"]
        if mime == "image/png":
            assert data.startswith(b"\x89PNG")
        else:
            assert ET.fromstring(data).tag.endswith("svg")
    # the model's own words and the terminal's tables
    assert "A five-bus area for the plotting tests" in text
    summary = json.loads((solved("stations5") / "summary.json").read_text())
    assert f"{summary['objective']:,.2f}" in " ".join(page.cells)
    assert any(c.startswith(summary["status"]) for c in page.cells)


def test_report_of_several_studies_puts_them_side_by_side(
        solved: Callable[[str], Path], tmp_path: Path) -> None:  # noqa: F811
    path = _report(solved, "mess6", tmp_path, "--format", "png")
    page = _parse(path)
    assert {"overview", "overview-compare", "main", "no_mess", "main-mess",
            "main-headline", "no_mess-headline"} <= set(page.ids)
    assert "no_mess-mess" not in page.ids  # no MESS without MESS: said, not drawn
    assert "mess: no mobile storage (MESS) in this result" in path.read_text(encoding="utf-8")
    assert all(_decoded(i)[0] == "image/png" for i in page.images)


def test_report_usage_errors(solved: Callable[[str], Path], tmp_path: Path,  # noqa: F811
                             capsys: pytest.CaptureFixture[str]) -> None:
    out = solved("feeder8")
    assert main(["report", str(out), "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "none")]) == 2
    assert main(["report", str(out), "-o", str(tmp_path / "r.html"), "--scenario", "x"]) == 2
    assert not (tmp_path / "r.html").exists()


# ---------------------------------------------------------------------- gridc plot, solve --plot


def test_gridc_plot_writes_every_picture(solved: Callable[[str], Path], tmp_path: Path,  # noqa: F811
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = solved("mess6")
    assert main(["plot", str(out), "--dir", str(tmp_path), "--format", "svg"]) == 0
    for sub in ("main", "no_mess"):
        names = {p.name for p in (tmp_path / sub).iterdir()}
        assert {"map.svg", "dispatch.svg", "costs.svg", "ac_check.svg"} <= names
    assert "mess_routes.svg" in {p.name for p in (tmp_path / "main").iterdir()}
    assert (tmp_path / "comparison.svg").is_file()
    text = capsys.readouterr().out
    assert "no_mess: mess not drawn: no mobile storage" in text
    assert main(["plot", str(out / "main"), "--what", "map", "--scenario", "storm",
                 "--time", "3:00", "--dir", str(tmp_path / "one")]) == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["map_storm_03h.png"]


def test_gridc_plot_forecast_reuses_gridc_forecast(solved: Callable[[str], Path],  # noqa: F811
                                                   tmp_path: Path) -> None:
    assert main(["plot", str(solved("stations5")), "--what", "forecast,stations",
                 "--dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.png", "stations.png"]


def test_gridc_plot_usage_errors(solved: Callable[[str], Path], tmp_path: Path,  # noqa: F811
                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = str(solved("feeder8"))
    assert main(["plot", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert main(["plot", str(tmp_path)]) == 2
    assert "no summary.json here" in capsys.readouterr().err
    assert main(["plot", out, "--scenario", "gale"]) == 2
    assert "its scenarios: calm, storm" in capsys.readouterr().err
    assert main(["plot", out, "--time", "24"]) == 2
    assert "outside the horizon" in capsys.readouterr().err
    assert main(["plot", out, "--what", "maps"]) == 2
    assert "unknown picture maps" in capsys.readouterr().err
    assert main(["plot", out, "--model", str(tmp_path / "gone.grid")]) == 2
    assert main(["solve", str(FEEDER8), "--plot"]) == 2
    assert "give --out" in capsys.readouterr().err


def test_a_mismatched_pair_is_refused(solved: Callable[[str], Path], tmp_path: Path,  # noqa: F811
                                      capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(solved("feeder8"), copy)
    summary = json.loads((copy / "summary.json").read_text())
    summary["files"]["solution.nc"]["sha256"] = "0" * 64
    (copy / "summary.json").write_text(json.dumps(summary))
    assert main(["plot", str(copy)]) == 1
    assert "solve again" in capsys.readouterr().err


def test_without_matplotlib_the_commands_say_how_to_get_it(
        solved: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    out = str(solved("feeder8"))
    for argv in (["plot", out], ["report", out], ["solve", str(FEEDER8), "--out", out,
                                                  "--plot"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "pip install 'gridc[plot]'" in err and "Traceback" not in err


def test_matplotlib_is_imported_lazily() -> None:
    """Building the whole command line (every subcommand, viz included) imports no
    matplotlib, and no module of viz/ or cli/plots.py imports it at module level."""
    code = ("import sys; from gridc.cli.main import build_parser; build_parser(); "
            "import gridc.cli.plots, gridc.viz.figures, gridc.viz.report; "
            "print('matplotlib' in sys.modules)")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert got.stdout.strip() == "False"
    for path in [*sorted((ROOT / "viz").glob("*.py")), ROOT / "cli" / "plots.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] in ("matplotlib", "mpl_toolkits") for n in names), \
                f"{path.name}:{node.lineno} imports matplotlib at module level"


# ---------------------------------------------------------------------- a real browser


def _browser() -> str | None:
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(b)), None)


def _need_browser() -> str:
    found = _browser()
    if found is None:
        if os.environ.get("GRIDC_REQUIRE_BROWSER"):
            pytest.fail("GRIDC_REQUIRE_BROWSER is set but no chromium is installed "
                        "(apt-get install -y chromium)")
        pytest.skip("no chromium on this machine (apt-get install -y chromium; "
                    "scripts/browser_check.sh runs this in CI)")
    return found


#: added to a copy of the report (the report itself has no script): says, in the console,
#: how many images the browser could not decode
PROBE = """<script>window.addEventListener("load", function () {
  var bad = 0, imgs = document.images;
  for (var i = 0; i < imgs.length; i++) { if (!imgs[i].complete || !imgs[i].naturalWidth) bad++; }
  console.log("gridc-probe images=" + imgs.length + " broken=" + bad);
});</script>"""


def _chromium(browser: str, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                           f"--user-data-dir={page.parent / 'chromium-profile'}", *args,
                           page.resolve().as_uri()],
                          capture_output=True, text=True, timeout=180)


def console_messages(stderr: str) -> list[str]:
    """The page's console messages in Chromium's log (`INFO:CONSOLE(...)] "..."`)."""
    return re.findall(r":CONSOLE(?:\(\d+\)|:\d+)\] \"(.*?)\", source", stderr)


def check_in_browser(browser: str, report: Path, sections: list[str]) -> dict[str, Any]:
    """Render `report` (a copy with the image probe) and return what was found."""
    probed = report.with_name("probed.html")
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                      encoding="utf-8")
    dom = _chromium(browser, probed, "--dump-dom")
    shot = report.with_name("shot.png")
    _chromium(browser, report, f"--screenshot={shot}", "--window-size=1280,2000",
              "--hide-scrollbars")
    messages = console_messages(dom.stderr)
    probe = [m for m in messages if m.startswith("gridc-probe")]
    return {"dom": dom.stdout, "messages": [m for m in messages if m not in probe],
            "probe": probe, "shot": shot,
            "missing": [s for s in sections if f'id="{s}"' not in dom.stdout]}


def test_browser_console_check_catches_errors(tmp_path: Path) -> None:
    """The checker itself: a page with a console error and a broken image is caught."""
    browser = _need_browser()
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"><title>bad</title>'
                   '</head><body><p id="a">x</p><img src="missing.png">'
                   '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    found = check_in_browser(browser, bad, ["a", "b"])
    assert "boom" in found["messages"]
    assert found["probe"] == ["gridc-probe images=1 broken=1"]
    assert found["missing"] == ["b"]


def test_browser_renders_the_report(solved: Callable[[str], Path],  # noqa: F811
                                    tmp_path: Path) -> None:
    import matplotlib.pyplot as plt
    import numpy as np

    browser = _need_browser()
    report = _report(solved, "mess6", tmp_path)
    page = _parse(report)
    sections = ["contents", "about", "overview", "overview-compare", "main-headline",
                "main-tables", "main-figures", "main-map", "main-dispatch", "main-mess",
                "main-costs", "no_mess-headline", "no_mess-map"]
    found = check_in_browser(browser, report, sections)
    assert found["messages"] == [], found["messages"]
    assert found["probe"] == [f"gridc-probe images={len(page.images)} broken=0"]
    assert found["missing"] == []
    pixels = plt.imread(found["shot"])
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    flat = pixels.reshape(-1, pixels.shape[-1])
    assert float(flat.std()) > 0.05  # not a blank page
    assert len(np.unique((flat * 255).astype(np.uint8), axis=0)) > 50  # pictures, colours
