"""gridc: declarative planning of power distribution networks.

The three public arrows of the pipeline (see docs/python-api.md):

    model = gridc.load("models/ieee33_operation.grid")       # .grid text -> IR
    problem = gridc.compile(model, study="base")              # IR -> linopy model
    result = problem.solve(time_limit=60)                     # HiGHS -> Result
"""

from __future__ import annotations

from typing import Any

from gridc.dsl import GridError, ir, load, parse

__version__ = "0.1.0"


def compile(model: ir.Model, study: str | None = None, **options: Any) -> Any:
    """Lower a model (for one study) to a `gridc.runtime.problem.Problem`; call its
    `.solve()` to get a `Result`. See gridc.compiler for the model it builds."""
    from gridc.runtime.problem import Problem

    return Problem.from_ir(model, study=study, **options)


__all__ = ["GridError", "compile", "ir", "load", "parse"]
