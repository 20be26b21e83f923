"""Compile errors: a model that parsed and checked but cannot be lowered.

The compiler reports problems the same way the language does, as a `GridError`
carrying diagnostics that point at the `.grid` text, so the CLI renders them
with a caret and no Python traceback ever reaches the user.
"""

from __future__ import annotations

from gridc.dsl import ir
from gridc.dsl.diagnostics import Diagnostic, GridError
from gridc.dsl.spans import Span


def compile_error(model: ir.Model, code: str, message: str, span: Span,
                  help: str | None = None) -> GridError:
    """A `GridError` with one diagnostic, rendered against the model's sources."""
    return GridError([Diagnostic(code, message, span, help)], model.sources)
