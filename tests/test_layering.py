"""Layering: each room of gridc imports only what it may (docs/architecture.md).

    dsl/       text -> IR          never linopy, highspy, xarray, or a later room
    data/      scenario data       never linopy, highspy, gridc.compiler/runtime/cli
    compiler/  IR -> problem       never gridc.runtime/cli, argparse, rich, highspy; never solves
    runtime/   problem -> result   never gridc.viz/cli, argparse, rich; highspy and linopy's
                                   internals only in runtime/backend/
    viz/       pictures, report    never gridc.cli, argparse, rich, highspy, linopy
    interop/   import networks     never gridc.compiler/runtime/viz/cli, argparse, rich, highspy,
                                   linopy (it may check its output with gridc.dsl)
    cli/       commands, views     anything

and the flow is one-way without cycles, deferred imports included (`test_no_import_cycles`).

The check reads every file with `ast` (nothing is imported or executed), resolves
relative imports against the file's package, and also sees `importlib.import_module`
and `__import__` with a constant name. A small self-test runs the checker on
synthetic snippets, so that a broken checker cannot pass silently.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: room directory -> (installed package, forbidden modules, forbidden call names)
LATER = {"dsl": ("gridc.data", "gridc.compiler", "gridc.runtime", "gridc.viz", "gridc.interop",
                 "gridc.cli"),
         "data": ("gridc.compiler", "gridc.runtime", "gridc.viz", "gridc.interop", "gridc.cli"),
         "compiler": ("gridc.runtime", "gridc.viz", "gridc.interop", "gridc.cli"),
         "runtime": ("gridc.viz", "gridc.interop", "gridc.cli"),
         "viz": ("gridc.interop", "gridc.cli"),
         "interop": ("gridc.cli",)}
RULES: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {
    "dsl": ("gridc.dsl", ("linopy", "highspy", "xarray", *LATER["dsl"]), frozenset()),
    "data": ("gridc.data", ("linopy", "highspy", *LATER["data"]), frozenset()),
    "compiler": ("gridc.compiler",
                 (*LATER["compiler"], "argparse", "rich", "highspy", "linopy.solvers"),
                 # linopy's Model.solve, highspy's Highs / passModel / run, a generic optimize
                 frozenset({"solve", "Highs", "passModel", "optimize", "available_solvers"})),
    "runtime": ("gridc.runtime", (*LATER["runtime"], "argparse", "rich"), frozenset()),
    "viz": ("gridc.viz", (*LATER["viz"], "argparse", "rich", "highspy", "linopy"),
            frozenset({"solve", "Highs", "passModel", "optimize"})),
    # the importers: the language to check what they wrote, never the solver stack
    "interop": ("gridc.interop", ("gridc.compiler", "gridc.runtime", "gridc.viz",
                                  *LATER["interop"], "argparse", "rich", "highspy", "linopy"),
                frozenset({"solve", "Highs", "passModel", "optimize"})),
}
#: solver internals: only runtime/backend/ may import these
INTERNALS = ("highspy", "linopy.io", "linopy.solvers", "linopy.constants", "linopy.matrices")
ROOMS = {"dsl": "gridc.dsl", "data": "gridc.data", "compiler": "gridc.compiler",
         "runtime": "gridc.runtime", "viz": "gridc.viz", "interop": "gridc.interop",
         "cli": "gridc.cli", "gridc": "gridc"}


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


def module_name(path: Path, root_dir: Path, package: str) -> str:
    rel = path.relative_to(root_dir).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([package, *parts])


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import in `tree`."""
    pkg_parts = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = pkg_parts[: len(pkg_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            yield node.lineno, base
            for alias in node.names:
                if alias.name != "*":
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args \
                and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else \
                func.id if isinstance(func, ast.Name) else ""
            if name in ("import_module", "__import__"):
                yield node.lineno, node.args[0].value


def _calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                yield node.lineno, func.attr
            elif isinstance(func, ast.Name):
                yield node.lineno, func.id


def check_source(source: str, file: str, module: str, forbidden: tuple[str, ...],
                 forbidden_calls: frozenset[str] = frozenset(),
                 is_package: bool = False) -> list[Violation]:
    tree = ast.parse(source, filename=file)
    found: list[Violation] = []
    for line, name in _imports(tree, module, is_package):
        for bad in forbidden:
            if name == bad or name.startswith(bad + "."):
                found.append(Violation(file, line, f"imports {name} (forbidden: {bad})"))
                break
    for line, name in _calls(tree):
        if name in forbidden_calls:
            found.append(Violation(file, line, f"calls {name}() (a solver call)"))
    return found


def check_room(room: str) -> list[Violation]:
    package, forbidden, calls = RULES[room]
    root_dir = ROOT / room
    found: list[Violation] = []
    for path in sorted(root_dir.rglob("*.py")):
        module = module_name(path, root_dir, package)
        found += check_source(path.read_text(encoding="utf-8"),
                              str(path.relative_to(ROOT)), module, forbidden, calls,
                              is_package=path.name == "__init__.py")
    return found


@pytest.mark.parametrize("room", sorted(RULES))
def test_room_respects_layering(room: str) -> None:
    files = list((ROOT / room).rglob("*.py"))
    assert files, f"no Python files in {room}/"
    violations = check_room(room)
    assert not violations, "layering violated:\n" + "\n".join(map(str, violations))


def test_solver_internals_only_in_the_backend() -> None:
    found: list[Violation] = []
    for path in sorted((ROOT / "runtime").rglob("*.py")):
        if "backend" in path.relative_to(ROOT / "runtime").parts:
            continue
        module = module_name(path, ROOT / "runtime", "gridc.runtime")
        found += check_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)),
                              module, INTERNALS, is_package=path.name == "__init__.py")
    assert not found, "solver internals outside runtime/backend:\n" + "\n".join(map(str, found))


def import_graph() -> dict[str, set[str]]:
    """gridc module -> the gridc modules it imports (anywhere in the file)."""
    files: dict[str, Path] = {}
    for room, package in ROOMS.items():
        for path in (ROOT / room).rglob("*.py"):
            files[module_name(path, ROOT / room, package)] = path
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {name for _, name in _imports(tree, module, path.name == "__init__.py")}
        # `from gridc.compiler import x` names module gridc.compiler.x or a symbol of
        # gridc.compiler: either way the edge goes to the longest known module prefix
        targets = set()
        for name in names:
            parts = name.split(".")
            for k in range(len(parts), 0, -1):
                if ".".join(parts[:k]) in files:
                    targets.add(".".join(parts[:k]))
                    break
        graph[module] = targets - {module}
    return graph


def _package_edge(src: str, dst: str) -> bool:
    """An import of a package's own __init__ from inside it (re-exports) is not a cycle
    of the flow: `gridc.compiler` re-exports `gridc.compiler.core.assemble`."""
    return src.startswith(dst + ".")


def test_no_import_cycles() -> None:
    graph = {m: {d for d in deps if not _package_edge(m, d)} for m, deps in import_graph().items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return [*stack[stack.index(d):], d]
            if d not in state:
                cycle = visit(d)
                if cycle:
                    return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            cycle = visit(m)
            assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_rooms_flow_one_way() -> None:
    order = ["gridc.dsl", "gridc.data", "gridc.compiler", "gridc.runtime", "gridc.viz",
             "gridc.interop", "gridc.cli"]
    rank = {p: k for k, p in enumerate(order)}

    def room(m: str) -> str | None:
        return next((p for p in order if m == p or m.startswith(p + ".")), None)

    back = [(m, d) for m, deps in import_graph().items() for d in deps
            if room(m) and room(d) and rank[room(d)] > rank[room(m)]]  # type: ignore[index]
    assert not back, f"imports against the flow: {back}"


# ------------------------------------------------------------------ self-test

DSL = RULES["dsl"]
COMPILER = RULES["compiler"]


def dsl_violations(source: str, module: str = "gridc.dsl.build.x") -> list[str]:
    return [v.what for v in check_source(source, "x.py", module, DSL[1], DSL[2])]


def compiler_violations(source: str, module: str = "gridc.compiler.x") -> list[str]:
    return [v.what for v in check_source(source, "x.py", module, COMPILER[1], COMPILER[2])]


@pytest.mark.parametrize("source", [
    "import linopy",
    "import xarray as xr",
    "import highspy.highs",
    "from linopy import Model",
    "from gridc.compiler import compile_model",
    "from gridc import runtime",
    "import gridc.cli.main",
    "from ... import compiler",          # gridc.dsl.build.x -> gridc.compiler
    "from ...runtime.cli import main",   # -> gridc.cli.main
    "import importlib\nimportlib.import_module('linopy')",
    "__import__('gridc.compiler')",
    "def f():\n    import xarray\n",
    "if TYPE_CHECKING:\n    from gridc.runtime.results import Result\n",
])
def test_checker_flags_forbidden_dsl_imports(source: str) -> None:
    assert dsl_violations(source), source


@pytest.mark.parametrize("source", [
    "import numpy as np\nimport pint\nimport lark",
    "from gridc.dsl import ir",
    "from . import units",
    "from .. import ir",                 # gridc.dsl.build.x -> gridc.dsl.ir
    "from ..units import POWER",
    "import linopy_helpers",             # a different module that starts alike
    "x = 'import linopy'",
])
def test_checker_accepts_allowed_dsl_imports(source: str) -> None:
    assert not dsl_violations(source), source


@pytest.mark.parametrize("source", [
    "import argparse",
    "from rich.console import Console",
    "import highspy",
    "from gridc.runtime.backend.solver import run",
    "from ..runtime import solver",       # gridc.compiler.x -> gridc.runtime
    "from linopy.solvers import Highs",
    "def go(m):\n    return m.solve(solver_name='highs')\n",
    "h = Highs()\nh.passModel(lp)",
])
def test_checker_flags_compiler_violations(source: str) -> None:
    assert compiler_violations(source), source


@pytest.mark.parametrize("source", [
    "import linopy\nimport xarray as xr\nimport numpy as np",
    "from gridc.dsl import ir\nfrom gridc.compiler.core.builder import Builder",
    "from .index import ModelIndex",
    "options = study.solve\nmerged = _merge_solve(chain)",
])
def test_checker_accepts_allowed_compiler_code(source: str) -> None:
    assert not compiler_violations(source), source


def test_checker_reports_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "dsl" / "build" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text('"""doc"""\n\nimport math\nimport xarray\n', encoding="utf-8")
    module = module_name(bad, tmp_path / "dsl", "gridc.dsl")
    assert module == "gridc.dsl.build.bad"
    found = check_source(bad.read_text(encoding="utf-8"), "dsl/build/bad.py", module,
                         DSL[1], DSL[2])
    assert [str(v) for v in found] == [
        "dsl/build/bad.py:4: imports xarray (forbidden: xarray)"]


def test_relative_imports_of_a_package_init() -> None:
    # in gridc/dsl/build/__init__.py, "from .. import x" means gridc.dsl.x
    assert check_source("from ..compiler import y", "__init__.py", "gridc.dsl.build",
                        DSL[1], is_package=True) == []
    assert check_source("from ...compiler import y", "__init__.py", "gridc.dsl.build",
                        DSL[1], is_package=True)
