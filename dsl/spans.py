"""Source spans: where in which file a piece of the model was written.

Every IR node carries one so that any later stage (checks, compiler, solver
diagnosis) can point the user back at the `.grid` or CSV text it came from.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A 1-based, inclusive-start / exclusive-end region of one source file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def label(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other` (same file)."""
        return Span(
            file=self.file,
            line=self.line,
            col=self.col,
            end_line=other.end_line,
            end_col=other.end_col,
        )


NOWHERE = Span(file="<generated>", line=1, col=1, end_line=1, end_col=1)
