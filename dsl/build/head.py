"""The head of a statement: `keyword name : kind at bus extends base over study`.

Most constructs share this shape; `read_head` pulls the parts out and reports any
atom it does not expect, naming what the construct accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridc.dsl.build.reader import KIND_WORDS, Context, ref_text
from gridc.dsl.syntax import Atom, Stmt


@dataclass
class Head:
    name: str | None = None
    kind: str | None = None
    kind_atom: Atom | None = None
    at: str | None = None
    extends: str | None = None
    over: str | None = None

    @property
    def named(self) -> str:
        """" 'NAME'" to follow the construct's keyword in messages, or "" if unnamed."""
        return f" '{self.name}'" if self.name is not None else ""


#: what must follow each linking keyword of a head
_NEEDS = {"at": "a bus", "extends": "the name of a study", "over": "the name of a study"}


def read_head(ctx: Context, st: Stmt, allow: Iterable[str] = ("name",),
              usage: str = "") -> Head:
    """Read `name`, `: kind`, `at bus`, `extends x`, `over y` from atoms[1:]."""
    allowed = set(allow)
    head = Head()
    atoms = list(st.atoms[1:])
    i = 0
    while i < len(atoms):
        a = atoms[i]
        nxt = atoms[i + 1] if i + 1 < len(atoms) else None
        if a.kind == "name" and head.name is None and "name" in allowed and i == 0:
            head.name = str(a.value)
            i += 1
        elif a.kind == "sym" and a.value == ":" and "kind" in allowed and nxt is not None \
                and nxt.kind == "name":
            head.kind, head.kind_atom = str(nxt.value), nxt
            i += 2
        elif a.kind == "kw" and a.value == "at" and "at" in allowed and nxt is not None \
                and ref_text(nxt) is not None:
            head.at = ref_text(nxt)
            i += 2
        elif a.kind == "kw" and a.value in ("extends", "over") and a.value in allowed \
                and nxt is not None and nxt.kind == "name":
            setattr(head, str(a.value), str(nxt.value))
            i += 2
        elif a.kind == "kw" and a.value in allowed and a.value in _NEEDS:
            shown = f"found {KIND_WORDS.get(nxt.kind, nxt.kind)}" if nxt is not None \
                else "found nothing"
            ctx.error("GRID014", f"'{a.value}' needs {_NEEDS[str(a.value)]}, {shown}",
                      nxt.span if nxt is not None else a.span,
                      help=f"write it as: {usage}" if usage else None)
            break
        else:
            what = f"'{a.text}'" if a.text else KIND_WORDS.get(a.kind, a.kind)
            ctx.error("GRID014", f"unexpected {what} in '{st.keyword}'", a.span,
                      help=f"write it as: {usage}" if usage else None)
            break
    if "name" in allowed and head.name is None and "name?" not in allowed:
        ctx.error("GRID016", f"'{st.keyword}' needs a name", st.atoms[0].span,
                  help=f"write it as: {usage}" if usage else None)
    return head
