"""gridc: declarative planning of power distribution networks.

The three public arrows of the pipeline (see docs/python-api.md):

    model = gridc.load("models/ieee33_operation.grid")       # .grid text -> IR
    problem = gridc.compile(model, study="base")              # IR -> linopy model
    result = problem.solve(time_limit=60)                     # HiGHS -> Result

`import gridc` itself is cheap: the language (`gridc.dsl`, which pulls in pint, lark
and pydantic) is imported on first use of `load`, `parse`, `ir` or `GridError`, so that
`gridc --version` and tools that only read `gridc.__version__` start at once.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below, for type checkers; resolved lazily at run time
    from gridc.dsl import GridError, ir, load, parse
    from gridc.interop import import_network

__version__ = "0.1.0"

#: public names served from gridc.dsl on first access
_FROM_DSL = ("GridError", "ir", "load", "parse")


def __getattr__(name: str) -> Any:
    if name in _FROM_DSL or name == "import_network":  # the latter: gridc.interop
        module = "gridc.dsl" if name in _FROM_DSL else "gridc.interop"
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later look-ups skip this hook
        return value
    raise AttributeError(f"module 'gridc' has no attribute {name!r}")


def compile(model: ir.Model, study: str | None = None, **options: Any) -> Any:
    """Lower a model (for one study) to a `gridc.runtime.problem.Problem`; call its
    `.solve()` to get a `Result`. See gridc.compiler for the model it builds."""
    from gridc.runtime.problem import Problem

    return Problem.from_ir(model, study=study, **options)


__all__ = ["GridError", "__version__", "compile", "import_network", "ir", "load", "parse"]
