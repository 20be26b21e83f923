"""Confined file access: the one way the files of a model are opened.

A model is anyone's text, so what it names is read only if it is

* under an allowed root: the folder of the top-level `.grid` file (for
  `parse(text, path)` the folder of `path`), the folders the user grants
  (`--allow-path DIR`, `gridc.load(path, allow=[DIR])`, the environment variable
  GRIDC_ALLOW_PATH) and the models bundled with gridc (`models/` next to the
  package). Symbolic links are resolved before the check, so neither an absolute
  path, nor `..`, nor a link leads out;
* a regular file (checked with `os.stat` before it is opened, and opened
  non-blocking, so a FIFO never blocks and a device is never read);
* at most GRIDC_MAX_FILE_MB MiB (default 64; `max_file_mb=` in the API), and a .grid
  file at most GRIDC_MAX_GRID_KB KiB (default 256; `max_grid_kb=`), since .grid text
  is parsed word by word; read with a bounded read that never takes more than the
  limit plus one byte.

A refusal is a diagnostic (GRID060, GRID061, GRID062; GRID004 for a missing or
unreadable file) that names the path as the model wrote it and never the file's
content. See docs/untrusted-models.md.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gridc.dsl.diagnostics import Diagnostic
from gridc.dsl.spans import Span
from gridc.dsl.tables import QUOTE_LIMIT, escape, quote

DEFAULT_MAX_FILE_MB = 64.0
MAX_FILE_MB_ENV = "GRIDC_MAX_FILE_MB"
#: A .grid file is parsed token by token (about 16 us a byte here, 1 kB of memory per
#: byte at the peak): a file of 256 KiB takes ~4 s. Data belong in CSV files.
DEFAULT_MAX_GRID_KB = 256.0
MAX_GRID_KB_ENV = "GRIDC_MAX_GRID_KB"
ALLOW_PATH_ENV = "GRIDC_ALLOW_PATH"
DOC = "docs/untrusted-models.md"
#: The example models shipped with gridc (the repository's `models/`): always readable.
BUNDLED_MODELS = Path(__file__).resolve().parents[1] / "models"

_MIB = 1024 * 1024
_CHUNK = _MIB


@dataclass(frozen=True)
class Refused:
    """Why a file may not be read: a diagnostic code, the reason and a help line.

    For GRID004 `reason` completes "cannot read 'PATH': ..."; for the other codes it
    follows the path as the model wrote it ("'PATH' is outside ...")."""

    code: str
    reason: str
    hint: str | None = None

    def explain(self, written: str, shown: str, default_help: str) -> tuple[str, str, str]:
        """(code, message, help) of the diagnostic for the file named `written`
        (displayed as `shown` in the GRID004 message, as before)."""
        if self.code == "GRID004":
            return self.code, f"cannot read '{shown}': {self.reason}", \
                self.hint or default_help
        return self.code, f"'{written}' {self.reason}", self.hint or default_help


def positive_limit(value: float | str | None, env: str, default: float, what: str,
                   unit: str = "") -> float:
    """A limit given in the call (`value`, named `what`), else in the environment
    variable `env`, else `default`: one rule for every size limit of a load (files here,
    memory and table rows in `dsl.budgets`). Raises ValueError, naming where the value
    came from, for a limit that is not a positive number."""
    source = what
    if value is None:
        raw = os.environ.get(env, "").strip()
        value, source = (raw, env) if raw else (default, "")
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        of = f" of {unit}" if unit else ""
        raise ValueError(f"{source} must be a positive number{of} (e.g. {default:g}), "
                         f"found {value!r}")
    return number


def max_file_bytes(max_file_mb: float | None = None) -> int:
    """The size limit in bytes: `max_file_mb`, else GRIDC_MAX_FILE_MB, else 64 MiB.
    Raises ValueError for a limit that is not a positive number."""
    mb = positive_limit(max_file_mb, MAX_FILE_MB_ENV, DEFAULT_MAX_FILE_MB, "max_file_mb",
                        "MiB")
    return max(1, int(mb * _MIB))


def max_grid_bytes(max_grid_kb: float | None = None) -> int:
    """The size limit of a .grid file in bytes: `max_grid_kb`, else GRIDC_MAX_GRID_KB,
    else 256 KiB. Raises ValueError for a limit that is not a positive number."""
    kb = positive_limit(max_grid_kb, MAX_GRID_KB_ENV, DEFAULT_MAX_GRID_KB, "max_grid_kb",
                        "KiB")
    return max(1, int(kb * 1024))


def env_grants() -> list[str]:
    """The folders granted by GRIDC_ALLOW_PATH (separated by os.pathsep)."""
    raw = os.environ.get(ALLOW_PATH_ENV, "")
    return [p for p in raw.split(os.pathsep) if p.strip()]


def _resolve(path: Path, strict: bool = False) -> Path:
    return path.resolve(strict=strict)  # a model's "~/x" is no home directory


def _size(n: int) -> str:
    if n >= _MIB:
        return f"{n / _MIB:g} MiB"
    return f"{n / 1024:g} KiB" if n >= 1024 and n % 1024 == 0 else f"{n:,} bytes"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def _strerror(exc: OSError | RuntimeError) -> str:
    if isinstance(exc, RuntimeError):  # pathlib's "Symlink loop" before Python 3.13
        return "too many levels of symbolic links"
    return exc.strerror or "unreadable"


class Access:
    """The file policy of one load (allowed roots, size limit) and the files it has
    read: each file is opened once per load, however many statements name it."""

    def __init__(self, folder: str | Path, allow: Iterable[str | Path] | None = None,
                 max_file_mb: float | None = None, *, use_env: bool = True,
                 max_grid_kb: float | None = None):
        self.folder = _resolve(Path(folder))
        grants = [*(env_grants() if use_env else []), *(allow or [])]
        self.granted = tuple(dict.fromkeys(_resolve(Path(g).expanduser()) for g in grants))
        bundled = (BUNDLED_MODELS,) if BUNDLED_MODELS.is_dir() else ()
        self.roots = (self.folder, *self.granted, *bundled)
        self.max_bytes = max_file_bytes(max_file_mb)
        self.max_source_bytes = min(self.max_bytes, max_grid_bytes(max_grid_kb))
        self._read: dict[tuple[Path, bool], tuple[Path, str] | Refused] = {}

    @classmethod
    def for_model(cls, path: str | Path, allow: Iterable[str | Path] | None = None,
                  max_file_mb: float | None = None, max_grid_kb: float | None = None
                  ) -> Access:
        """The policy of the model whose top-level file is `path`."""
        return cls(Path(path).parent, allow, max_file_mb, max_grid_kb=max_grid_kb)

    def inside(self, real: Path) -> bool:
        return any(real == root or root in real.parents for root in self.roots)

    def _outside(self, path: Path) -> Refused:
        lexical = Path(os.path.abspath(path))
        through_link = self.inside(lexical)
        what = ("leads outside the model's folder through a symbolic link" if through_link
                else "is outside the model's folder")
        return Refused("GRID060", what,
                       f"a model reads only files under its own folder ({_shown(self.folder)})"
                       " and the folders you grant: run gridc with --allow-path DIR, or "
                       f"gridc.load(path, allow=[DIR]); see {DOC}")

    def read(self, path: Path, confined: bool = True, source: bool = False
             ) -> tuple[Path, str] | Refused:
        """The resolved path and the text of the file at `path`, or why it may not be
        read. `confined=False` for the top-level file, which the user named; `source`
        for .grid text (the top-level file and imports), held to the smaller limit."""
        if "\x00" in str(path):
            return Refused("GRID004", "a path cannot hold a NUL character")
        try:
            near = _resolve(path)
        except (OSError, RuntimeError):
            near = Path(os.path.abspath(path))
        if confined and not self.inside(near):
            return self._outside(path)  # whether it exists or not: nothing is revealed
        try:
            real = _resolve(path, strict=True)
        except (OSError, RuntimeError) as exc:
            return Refused("GRID004", _strerror(exc))
        if confined and not self.inside(real):
            return self._outside(path)
        got = self._read.get((real, source))
        if got is None:
            got = self._read[(real, source)] = self._open(real, source)
        return got

    def _open(self, real: Path, source: bool = False) -> tuple[Path, str] | Refused:
        limit = self.max_source_bytes if source else self.max_bytes
        try:
            st = os.stat(real)
        except OSError as exc:
            return Refused("GRID004", _strerror(exc))
        if not stat.S_ISREG(st.st_mode):
            return _not_regular(_kind(st.st_mode))
        if st.st_size > limit:
            return self._too_large(_size(st.st_size), source)
        flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
        try:
            fd = os.open(real, flags)
        except OSError as exc:
            return Refused("GRID004", _strerror(exc))
        chunks: list[bytes] = []
        total = 0
        try:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev,
                                                                            st.st_ino):
                return _not_regular(_kind(now.st_mode) if not stat.S_ISREG(now.st_mode)
                                    else "a file replaced while it was being opened")
            while total <= limit:
                chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            return Refused("GRID004", _strerror(exc))
        finally:
            os.close(fd)
        if total > limit:
            return self._too_large("more", source)
        data = b"".join(chunks)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Refused("GRID004", f"it is not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                           f"at offset {exc.start})", "save the file with UTF-8 encoding")
        if "\r" in text:  # universal newlines, as text-mode reading did
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return real, text

    def _too_large(self, size: str, source: bool = False) -> Refused:
        if source and self.max_source_bytes < self.max_bytes:
            limit = _size(self.max_source_bytes)
            return Refused("GRID062", f"is larger than the limit of {limit} for a .grid file "
                           f"({size})", "a .grid file is parsed word by word (about 4 s for "
                           "256 KiB): put long lists of numbers into CSV files (profile NAME "
                           "from \"file.csv\" column C), or raise the limit with the "
                           f"environment variable {MAX_GRID_KB_ENV} (e.g. "
                           f"{MAX_GRID_KB_ENV}=1024) or gridc.load(path, max_grid_kb=1024); "
                           f"see {DOC}")
        limit = _size(self.max_bytes)
        return Refused("GRID062", f"is larger than the limit of {limit} ({size})",
                       f"a model reads files of at most {limit}; raise the limit with the "
                       f"environment variable {MAX_FILE_MB_ENV} (e.g. {MAX_FILE_MB_ENV}=256)"
                       f" or gridc.load(path, max_file_mb=256); see {DOC}")


def _not_regular(kind: str) -> Refused:
    return Refused("GRID061", f"is {kind}, not a regular file",
                   "a model reads regular files only: name a file, not a directory, "
                   f"device, FIFO or socket; see {DOC}")


def _shown(folder: Path) -> str:
    try:
        return str(folder.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(folder)


#: A data file's line is shown under a diagnostic only if it is ordinary text.
SNIPPET_LINE_LIMIT = 200
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"


def snippet_view(text: str) -> str:
    """What of a data file diagnostics may show as source lines: its lines up to the
    first one that is longer than SNIPPET_LINE_LIMIT characters or holds a
    non-printable character (later diagnostics show no source line, only their
    message, which quotes at most the offending cell, shortened)."""
    lines = text.split("\n")
    if text.isascii() and not text.encode("ascii").translate(None, _PRINTABLE_ASCII) \
            and max(map(len, lines)) <= SNIPPET_LINE_LIMIT:
        return text  # the common case: 5 ms for 30,000 lines (bench/parse.py)
    kept = 0
    for i, line in enumerate(lines):
        body = line.removeprefix("\ufeff") if i == 0 else line
        if len(line) > SNIPPET_LINE_LIMIT or not body.replace("\t", " ").isprintable():
            return text[:kept]
        kept += len(line) + 1
    return text


#: Control characters (but tab, newline, carriage return) and C1 controls: shown as
#: U+FFFD in source lines, one character for one, so carets stay in their columns.
_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20),
                           *range(0x7F, 0xA0)], 0xFFFD)


def printable_sources(sources: Mapping[str, str]) -> dict[str, str]:
    """The source texts as diagnostics may print them: no escape sequence of a model
    reaches the terminal."""
    return {name: text.translate(_CONTROLS) for name, text in sources.items()}


#: Diagnostics shown of one load; the rest are counted in one GRID059 (a hostile model
#: can have a hundred thousand errors, and each costs a source line to print).
MAX_DIAGNOSTICS = 100


def tidy(diagnostics: Iterable[Diagnostic], long_cells: Iterable[str] = ()
         ) -> list[Diagnostic]:
    """The diagnostics as they may be shown: each (code, span, message) once, in file
    order, at most MAX_DIAGNOSTICS of them (then one GRID059 saying how many more);
    data-file cells longer than QUOTE_LIMIT shortened wherever a message, help or note
    quotes them; non-printable characters escaped."""
    by_prefix: dict[str, list[str]] = {}
    for cell in sorted(set(long_cells), key=len, reverse=True):
        by_prefix.setdefault(cell[: QUOTE_LIMIT + 1], []).append(cell)

    def clean(text: str | None) -> str | None:
        if text is None:
            return None
        if by_prefix and len(text) > QUOTE_LIMIT:
            text = _shorten(text, by_prefix)
        return escape(text)

    seen: set[tuple[str, Span, str]] = set()
    unique: list[Diagnostic] = []
    for d in diagnostics:
        key = (d.code, d.span, d.message)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    unique.sort(key=lambda d: (d.span.file, d.span.line, d.span.col, d.code))
    shown = MAX_DIAGNOSTICS + sum(d.code == "GRID059" for d in unique)  # tidied before
    out = [replace(d, message=clean(d.message) or "", help=clean(d.help),
                   notes=tuple(clean(n) or "" for n in d.notes))
           for d in unique[:shown]]
    if len(unique) > shown:
        hidden = len(unique) - shown
        out.append(Diagnostic("GRID059", f"{hidden:,} more error{'s' if hidden > 1 else ''} "
                              "not shown", unique[shown].span,
                              help=f"gridc shows the first {MAX_DIAGNOSTICS} errors (in file "
                                   "order): fix them and check again"))
    return out


def _shorten(text: str, by_prefix: dict[str, list[str]]) -> str:
    parts: list[str] = []
    i = last = 0
    while i <= len(text) - QUOTE_LIMIT - 1:
        cells = by_prefix.get(text[i: i + QUOTE_LIMIT + 1])
        cell = next((c for c in cells or () if text.startswith(c, i)), None)
        if cell is None:
            i += 1
            continue
        parts += [text[last:i], quote(cell)]
        i = last = i + len(cell)
    return "".join(parts) + text[last:]
