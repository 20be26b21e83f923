"""A model is anyone's text: it reads only regular files under its own folder (and the
folders granted with --allow-path / allow=), of bounded size, and no diagnostic echoes
more than a shortened cell of a file (docs/untrusted-models.md, dsl/access.py).

The hostile corpus is built in a temporary directory: absolute paths to /etc/passwd
and /proc/self/environ, `..` escapes, symbolic links out of and inside the folder,
/dev/zero, /dev/urandom, a FIFO, a directory, a file over the size limit, an import
bomb of 20 levels. Every case runs `gridc check` as a subprocess with a timeout: it
must end, exit 1 with its code, without a traceback and without the secret.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import gridc
from gridc.dsl import GridError
from gridc.dsl.access import Access, Refused
from gridc.dsl.tables import quote

ROOT = Path(__file__).resolve().parents[1]
MARKER = "SECRET_MARKER_7f3c9a"  # in files outside the model's folder, and in the env
#: CPU seconds a refused model may take (the issue's 10 s; CPU, not wall clock, since the
#: suite runs on shared machines) and the wall-clock seconds after which it counts as hung
TIMEOUT = 10.0
HANG_S = 120.0
BOMB_LEVELS = 20

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs, /dev and /proc")

NETWORK = """model hostile
{imports}
network feeder {{
  base 12.66 kV 10 MVA
  slack 1
  buses from "{buses}"
  lines table {{
    from to r[ohm] x[ohm]
    1    2  0.1    0.1
  }}
}}
{extra}
"""

BUSES = "id,p[kW],q[kvar]\n1,0,0\n2,10,5\n"
SECRET_BUSES = f"# {MARKER}\nid,p[kW],q[kvar]\n1,0,0\n2,10,5\n"


def model(buses: str = "data/buses.csv", imports: str = "", extra: str = "") -> str:
    return NETWORK.format(buses=buses, imports=imports, extra=extra)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tmp/outside/ (secrets) and tmp/m/ (the hostile models and their folder)."""
    top = tmp_path_factory.mktemp("hostile")
    outside = top / "outside"
    outside.mkdir()
    (outside / "buses.csv").write_text(SECRET_BUSES, encoding="utf-8")
    (outside / "secret.grid").write_text(f"// {MARKER}\nload x at 1 {{ p 1 kW }}\n",
                                         encoding="utf-8")
    m = top / "m"
    (m / "data").mkdir(parents=True)
    (m / "data" / "buses.csv").write_text(BUSES, encoding="utf-8")
    (m / "data" / "link_in.csv").symlink_to("buses.csv")
    (m / "data" / "link_out.csv").symlink_to(outside / "buses.csv")
    (m / "data" / "dir_link").symlink_to(outside, target_is_directory=True)
    (m / "data" / "loop_a.csv").symlink_to("loop_b.csv")
    (m / "data" / "loop_b.csv").symlink_to("loop_a.csv")
    (m / "data" / "zero.csv").symlink_to("/dev/zero")
    os.mkfifo(m / "fifo.csv")
    os.mkfifo(m / "pipe.grid")
    (m / "big.csv").write_text(BUSES + "# padding\n" * 250, encoding="utf-8")  # ~2.5 kB
    cases = {
        "passwd": model("/etc/passwd"),
        "environ": model("/proc/self/environ"),
        "escape": model("../outside/buses.csv"),
        "deep_escape": model("data/../../../../../../etc/hostname"),
        "link_out": model("data/link_out.csv"),
        "dir_link_out": model("data/dir_link/buses.csv"),
        "zero": model("/dev/zero"),
        "zero_link": model("data/zero.csv"),
        "urandom": model("/dev/urandom"),
        "fifo": model("fifo.csv"),
        "directory": model("data"),
        "big": model("big.csv"),
        "import_escape": model(imports='import "../outside/secret.grid"'),
        "import_abs": model(imports=f'import "{outside / "secret.grid"}"'),
        "profile_environ": model(extra='profile p from "/proc/self/environ" column HOME'),
        "history_escape": model(extra='scenarios s from history "../outside/buses.csv" '
                                      'cluster kmeans(k = 1)'),
        "loop": model("data/loop_a.csv"),
        "link_in": model("data/link_in.csv"),
        "outside_csv": model("../outside/buses.csv"),
    }
    for name, text in cases.items():
        assert not (m / f"{name}.grid").exists()
        (m / f"{name}.grid").write_text(text, encoding="utf-8")
    bomb = m / "bomb"
    bomb.mkdir()
    for i in range(BOMB_LEVELS):
        head = "model bomb\n" if i == 0 else ""
        nxt = (f'import "b{i + 1}.grid"\nimport "b{i + 1}.grid"\n'
               if i < BOMB_LEVELS - 1 else "")
        (bomb / f"b{i}.grid").write_text(f"{head}{nxt}oops {i}\n", encoding="utf-8")
    return top


def gridc_cli(*args: str, cwd: Path, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("GRIDC_")}
    full["SECRET_API_KEY"] = MARKER
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "gridc", *args], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=HANG_S)


def assert_refused(proc: subprocess.CompletedProcess[str], code: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"error[{code}]" in out, out
    assert "Traceback" not in out
    assert "internal error" not in out
    assert MARKER not in out


CASES = [
    ("passwd", "GRID060"), ("environ", "GRID060"), ("escape", "GRID060"),
    ("deep_escape", "GRID060"), ("link_out", "GRID060"), ("dir_link_out", "GRID060"),
    ("zero", "GRID060"), ("zero_link", "GRID060"), ("urandom", "GRID060"),
    ("fifo", "GRID061"), ("directory", "GRID061"), ("import_escape", "GRID060"),
    ("import_abs", "GRID060"), ("profile_environ", "GRID060"),
    ("history_escape", "GRID060"), ("loop", "GRID004"),
]


@pytest.fixture(scope="module")
def refusals(corpus: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """`gridc check` of every case, four subprocesses at a time (each with its timeout)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = {name: pool.submit(gridc_cli, "check", f"m/{name}.grid", cwd=corpus)
                for name, _ in CASES}
        return {name: run.result() for name, run in runs.items()}


@pytest.mark.parametrize("name,code", CASES, ids=[c[0] for c in CASES])
def test_hostile_model_is_refused(refusals: dict[str, subprocess.CompletedProcess[str]],
                                  name: str, code: str) -> None:
    proc = refusals[name]
    assert_refused(proc, code)
    # the diagnostic points at the statement that names the file, with a caret
    assert f"m/{name}.grid:" in proc.stderr and "^" in proc.stderr
    if code in ("GRID060", "GRID061"):
        assert "docs/untrusted-models.md" in proc.stderr
    if code == "GRID060":
        assert "--allow-path DIR" in proc.stderr


def test_file_over_the_size_limit(corpus: Path) -> None:
    proc = gridc_cli("check", "m/big.grid", cwd=corpus, env={"GRIDC_MAX_FILE_MB": "0.001"})
    assert_refused(proc, "GRID062")
    assert "GRIDC_MAX_FILE_MB" in proc.stderr
    ok = gridc_cli("check", "m/big.grid", cwd=corpus)  # 64 MiB by default: read
    assert "GRID062" not in ok.stderr


def test_bad_size_limit_is_a_usage_error(corpus: Path) -> None:
    proc = gridc_cli("check", "m/link_in.grid", cwd=corpus, env={"GRIDC_MAX_FILE_MB": "lots"})
    assert proc.returncode == 2
    assert "GRIDC_MAX_FILE_MB" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("path,code", [("/dev/zero", "GRID061"), ("m/pipe.grid", "GRID061"),
                                       ("m/data", "GRID061")])
def test_top_level_file_that_is_not_regular(corpus: Path, path: str, code: str) -> None:
    assert_refused(gridc_cli("check", path, cwd=corpus), code)


def test_fmt_of_a_fifo_does_not_block(corpus: Path) -> None:
    proc = gridc_cli("fmt", "m/pipe.grid", cwd=corpus)
    assert proc.returncode == 2
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr


def test_symlink_inside_the_folder_is_read(corpus: Path) -> None:
    proc = gridc_cli("check", "m/link_in.grid", cwd=corpus)
    assert proc.returncode == 0, proc.stderr
    assert "ok (2 buses, 1 line," in proc.stdout


def test_allow_path_grants_the_outside_folder(corpus: Path) -> None:
    refused = gridc_cli("check", "m/outside_csv.grid", cwd=corpus)
    assert_refused(refused, "GRID060")
    granted = gridc_cli("check", "--allow-path", "outside", "m/outside_csv.grid", cwd=corpus)
    assert granted.returncode == 0, granted.stderr
    assert "ok (2 buses, 1 line," in granted.stdout
    # a link out of the folder into a granted folder is fine too
    linked = gridc_cli("check", "m/link_out.grid", "--allow-path", str(corpus / "outside"),
                       cwd=corpus)
    assert linked.returncode == 0, linked.stderr


def test_allow_path_does_not_make_devices_readable(corpus: Path) -> None:
    for name in ("zero", "urandom"):
        proc = gridc_cli("check", "--allow-path", "/dev", f"m/{name}.grid", cwd=corpus)
        assert_refused(proc, "GRID061")


def test_allow_path_must_exist(corpus: Path) -> None:
    proc = gridc_cli("check", "--allow-path", "no/such/dir", "m/link_in.grid", cwd=corpus)
    assert proc.returncode == 2 and "no/such/dir" in proc.stderr


def test_import_bomb_reads_each_file_once(corpus: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = gridc_cli("check", "m/bomb/b0.grid", cwd=corpus)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu < TIMEOUT
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    # one GRID010 per file, each reported once (not 2**19 times for the last file)
    assert proc.stderr.count("error[GRID010]") == BOMB_LEVELS
    for i in range(BOMB_LEVELS):
        assert proc.stderr.count(f"m/bomb/b{i}.grid:") == 1
    assert f"{BOMB_LEVELS} errors found" in proc.stderr


def test_import_bomb_in_process_is_fast(corpus: Path) -> None:
    """Each file is read once: 20 files, not 2**20 reads (CPU time, not wall clock)."""
    started = time.process_time()
    with pytest.raises(GridError) as info:
        gridc.load(corpus / "m" / "bomb" / "b0.grid")
    assert time.process_time() - started < 2.0
    assert len(info.value.diagnostics) == BOMB_LEVELS


def test_diamond_import_counts_once(tmp_path: Path) -> None:
    """a imports b and c, which both import d: d's load is in the model once."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "buses.csv").write_text(BUSES, encoding="utf-8")
    (tmp_path / "d.grid").write_text("load shop at 2 { p 5 kW }\n", encoding="utf-8")
    (tmp_path / "b.grid").write_text('import "d.grid"\n', encoding="utf-8")
    (tmp_path / "c.grid").write_text('import "./d.grid"\nimport "d.grid"\n', encoding="utf-8")
    (tmp_path / "a.grid").write_text(model(imports='import "b.grid"\nimport "c.grid"'),
                                     encoding="utf-8")
    m = gridc.load(tmp_path / "a.grid")
    assert [ld.name for ld in m.loads] == ["shop"]


def test_same_diagnostic_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("hour,load\n1,0.5\n2,x\n", encoding="utf-8")
    text = ('profile a from "p.csv" column load\nprofile b from "p.csv" column load\n'
            'profile c from "p.csv" column load\n')
    with pytest.raises(GridError) as info:
        gridc.parse(text, tmp_path / "m.grid")
    assert [d.code for d in info.value.diagnostics] == ["GRID031"]


# ------------------------------------------------------------------ Python API


def test_load_allow_keyword(corpus: Path) -> None:
    path = corpus / "m" / "outside_csv.grid"
    with pytest.raises(GridError) as info:
        gridc.load(path)
    assert [d.code for d in info.value.diagnostics] == ["GRID060"]
    assert MARKER not in str(info.value)
    m = gridc.load(path, allow=[corpus / "outside"])
    assert len(m.networks[0].buses) == 2


def test_parse_allow_keyword(corpus: Path) -> None:
    text = model("../outside/buses.csv")
    with pytest.raises(GridError):
        gridc.parse(text, corpus / "m" / "x.grid")
    m = gridc.parse(text, corpus / "m" / "x.grid", allow=[str(corpus / "outside")])
    assert len(m.networks[0].buses) == 2


def test_env_grants_and_limit(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDC_ALLOW_PATH", str(corpus / "outside"))
    gridc.load(corpus / "m" / "outside_csv.grid")
    monkeypatch.setenv("GRIDC_MAX_FILE_MB", "0.001")
    with pytest.raises(GridError) as info:
        gridc.load(corpus / "m" / "big.grid")
    assert [d.code for d in info.value.diagnostics] == ["GRID062"]
    gridc.load(corpus / "m" / "big.grid", max_file_mb=1)  # the keyword wins


def test_max_file_mb_keyword(corpus: Path) -> None:
    with pytest.raises(GridError) as info:
        gridc.load(corpus / "m" / "big.grid", max_file_mb=0.001)
    d = info.value.diagnostics[0]
    assert d.code == "GRID062" and d.span.file.endswith("big.grid") and d.span.line == 6
    with pytest.raises(ValueError, match="max_file_mb"):
        gridc.load(corpus / "m" / "big.grid", max_file_mb=0)


def test_bounded_read_of_a_file_that_lies_about_its_size() -> None:
    """/proc files say they are empty: the read itself stops at the limit."""
    assert os.stat("/proc/self/environ").st_size == 0
    access = Access("/proc/self", max_file_mb=0.00001, use_env=False)  # 10 bytes
    got = access.read(Path("/proc/self/environ"))
    assert isinstance(got, Refused) and got.code == "GRID062", got


# ------------------------------------------------------- what diagnostics may quote


def test_header_cell_is_quoted_short_and_escaped(tmp_path: Path) -> None:
    """A data file read by a model (e.g. an environment dump copied into its folder)
    shows at most ~40 characters of the offending cell, control characters escaped,
    and no source line of it."""
    blob = "\x00".join(f"VAR{i}={MARKER}{i}" for i in range(50)) + "\x1b[2J"
    (tmp_path / "env.csv").write_text(blob, encoding="utf-8")
    (tmp_path / "m.grid").write_text(model("env.csv"), encoding="utf-8")
    proc = gridc_cli("check", "m.grid", cwd=tmp_path)
    assert proc.returncode == 1 and "error[GRID030]" in proc.stderr
    header = next(ln for ln in proc.stderr.splitlines() if "GRID030" in ln)
    quoted = header.split("bad column header '", 1)[1].rsplit("'", 1)[0]
    assert quoted == quote(blob) and len(quoted) <= 40 and quoted.endswith("…")
    assert "\\x00" in quoted
    assert "\x00" not in proc.stderr and "\x1b" not in proc.stderr
    assert f"{MARKER}3" not in proc.stderr  # nothing past the first cell's 40 characters
    assert " | " not in proc.stderr  # the unprintable line is not shown


def test_long_cells_are_shortened_in_every_message(tmp_path: Path) -> None:
    long_cell = "x" * 30 + MARKER * 5
    (tmp_path / "buses.csv").write_text(f"id,p[kW],q[kvar]\n1,0,0\n2,{long_cell},5\n"
                                        f"{long_cell},1,1\n", encoding="utf-8")
    (tmp_path / "m.grid").write_text(model("buses.csv"), encoding="utf-8")
    with pytest.raises(GridError) as info:
        gridc.load(tmp_path / "m.grid")
    for d in info.value.diagnostics:
        for text in (d.message, d.help or "", *d.notes):
            assert MARKER * 2 not in text, d
    assert any(quote(long_cell) in d.message for d in info.value.diagnostics)


def test_quote() -> None:
    assert quote("q kvar") == "q kvar"
    assert quote("a\tb\x1b") == "a\\tb\\x1b"
    assert quote("y" * 41) == "y" * 39 + "…"
    assert len(quote("\x00" * 40)) == 40


def test_repository_models_still_check() -> None:
    proc = subprocess.run([sys.executable, "-m", "gridc", "check",
                           *sorted(str(p.relative_to(ROOT)) for p in
                                   (ROOT / "models").glob("*.grid"))],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_cli_grant_is_scoped_to_the_command(corpus: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """In-process: --allow-path reaches `load` (and, through GRIDC_ALLOW_PATH, the worker
    processes a command starts) only while the command runs."""
    from gridc.cli.main import main

    monkeypatch.delenv("GRIDC_ALLOW_PATH", raising=False)
    monkeypatch.chdir(corpus)
    assert main(["check", "--allow-path", "outside", "m/outside_csv.grid"]) == 0
    assert "GRIDC_ALLOW_PATH" not in os.environ
    assert main(["check", "m/outside_csv.grid"]) == 1
    assert "error[GRID060]" in capsys.readouterr().err


def test_no_control_character_reaches_the_terminal(tmp_path: Path) -> None:
    """Neither a path nor a source line of a model prints an escape sequence (ESC [2J
    would clear the screen); carets keep their columns (one U+FFFD per character)."""
    text = model("\x1b[2Jx.csv")
    with pytest.raises(GridError) as info:
        gridc.parse(text, tmp_path / "m.grid")
    shown = str(info.value)
    assert "\x1b" not in shown and "\\x1b[2Jx.csv" in shown
    line = next(ln for ln in shown.splitlines() if ln.startswith("6 |"))
    caret = next(ln for ln in shown.splitlines() if ln.strip().startswith("|") and "^" in ln)
    assert line.index('"\ufffd[2Jx.csv"') == caret.index("^")
