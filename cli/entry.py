"""The `gridc` console script: answers `gridc --version` before importing anything.

The full command line (`gridc.cli.main`) imports the language (pint, lark, pydantic:
about a second of CPU) and, for solving commands, the solver stack; asking for the
version should cost neither (issue 13: `gridc --version` ≤ 0.3 s, measured by
`bench/startup.py`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from gridc import __version__


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["--version"], ["-V"]):
        sys.stdout.write(f"gridc {__version__}\n")
        return 0
    from gridc.cli.main import main as full_main

    return full_main(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
