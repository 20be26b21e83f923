"""Safe file output: nothing finished is lost, nothing half-written is left behind.

* `atomic_write(path, write)`: one file, written to a temporary sibling and renamed
  over `path` — `path` is the old file or the new one, whatever happens.
* `write_pair(out, data, write_data, manifest, fields)`: a data file and the JSON
  manifest that describes it (`solution.nc` + `summary.json` of a result, `plan.grid`
  + `summary.json` of a PSO search), replaced as a pair; `read_pair` reads a pair
  back and trusts it only if its manifest vouches for the data file beside it.
* `check_output_dir(out, files)`: is `out` a folder where these files can be
  written? Asked by every command before it solves anything (`OutputError`).

The pair protocol. Two files cannot be renamed in one operation, so the manifest is
the commit record: it carries the sha256 and size of its data file
(`"files": {"solution.nc": {"sha256": ..., "bytes": ...}}`), and its rename is the
one directory-entry operation that commits the pair:

1. both new files are written (and fsynced) into a fresh staging folder
   `OUT/.gridc-tmp-<random suffix>/`, next to the targets; the data file being replaced is
   hard-linked there as a backup (copied where hard links are not available);
2. the new data file is renamed into place (`os.replace`);
3. the new manifest is renamed into place: the commit;
4. the staging folder is removed.

An exception anywhere (Ctrl-C included) before step 3 completes rolls back (the
backup is renamed back): the old pair stays, and the staging folder is removed on
every path. A process killed between steps 2 and 3 leaves the new data file beside
the old manifest — a mix that is *detectable* (the manifest's sha256 does not match)
and *repairable*: the staging folder still holds the new manifest, and the next write
or read of the folder (`recover_pair`) completes the commit, since the new data file
it vouches for is in place; a staging folder that vouches for nothing is removed. So
after any kill the folder holds the old pair or the new pair, or a mix that no reader
of `read_pair` accepts and that the next access turns into the new pair.

Writers of one folder are serialised by an advisory lock on the folder itself
(`flock`, no lock file), so the clean-up of stale temporaries never removes the
staging folder of a live writer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

#: prefix of the staging folders of `write_pair` (and of `check_output_dir`'s probe)
STAGE_PREFIX = ".gridc-tmp-"
#: the manifest's entry that vouches for its data file
FILES_KEY = "files"
_BACKUP_PREFIX = "old-"


class OutputError(Exception):
    """An output location that cannot be written (a usage error, found before solving)."""


class MismatchedPair(ValueError):
    """A manifest that does not vouch for the data file beside it (an interrupted or
    foreign write), or a pair with a file missing."""


# ---------------------------------------------------------------------- locking, syncing


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Serialise the writers of `directory`: an advisory lock on the folder itself
    (no lock file is left behind). Without `fcntl` (Windows) or where the file
    system refuses, writers are not serialised."""
    fd: int | None = None
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
    try:
        if fd is not None:
            try:
                import fcntl
            except ImportError:  # pragma: no cover (Windows)
                pass
            else:
                with contextlib.suppress(OSError):
                    fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system syncs a folder
        _sync(directory)


def _umask_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


# ---------------------------------------------------------------------- one file


def _stale_temps(directory: Path, name: str) -> Iterator[Path]:
    """Temporaries of `atomic_write(directory / name)` (mkstemp: prefix, 8 characters,
    suffix) left by a killed process."""
    prefix = f".{name}."
    for p in directory.glob(f"{prefix}*.tmp"):
        if len(p.name) == len(prefix) + 8 + len(".tmp"):
            yield p


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` on a temporary file next to `path`, then rename it over `path`.
    The temporary file is removed on every path out of here; one left behind by a
    killed process is removed by the next write of `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        for stale in _stale_temps(path.parent, path.name):
            stale.unlink(missing_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                        dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write(tmp)
            # mkstemp creates 0600; give the result the usual permissions (umask applied),
            # or keep those of the file being replaced
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else _umask_mode())
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_write(path, write)


# ---------------------------------------------------------------------- a pair of files


def fingerprint(path: Path) -> dict[str, Any]:
    """What a manifest records of its data file: sha256 and size in bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"sha256": h.hexdigest(), "bytes": path.stat().st_size}


def _vouches(manifest: Path, data: Path, data_name: str) -> bool:
    """Does the JSON manifest at `manifest` describe the file at `data`?"""
    try:
        entry = json.loads(manifest.read_text(encoding="utf-8"))[FILES_KEY][data_name]
        return bool(entry == fingerprint(data))
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _stages(out: Path) -> list[Path]:
    return sorted(p for p in out.glob(STAGE_PREFIX + "*") if p.is_dir())


def _discard(stage: Path) -> None:
    shutil.rmtree(stage, ignore_errors=True)


def recover_pair(out_dir: str | Path, data_name: str, manifest_name: str) -> None:
    """Repair what a killed `write_pair` left in `out_dir`: a staged manifest that
    vouches for the data file in place is renamed in (the write had passed step 2, the
    new pair is completed); every staging folder is then removed. Call it with the
    folder locked (`write_pair` and `read_pair` do)."""
    out = Path(out_dir)
    for stage in _stages(out):
        staged = stage / manifest_name
        if staged.is_file() and _vouches(staged, out / data_name, data_name):
            os.replace(staged, out / manifest_name)
            _sync_dir(out)
        _discard(stage)


def _keep_modes(out: Path, stage: Path, names: Iterable[str]) -> None:
    """New files get the permissions of the files they replace, else the umask's."""
    for name in names:
        old = out / name
        os.chmod(stage / name, old.stat().st_mode & 0o777 if old.is_file() else _umask_mode())


def _backup(target: Path, backup: Path) -> bool:
    """Keep the data file about to be replaced reachable until the commit."""
    if not target.is_file():
        return False
    try:
        os.link(target, backup)
    except OSError:  # no hard links here: a copy does
        shutil.copy2(target, backup)
    return True


def write_pair(out_dir: str | Path, data_name: str, write_data: Callable[[Path], None],
               manifest_name: str, fields: dict[str, Any]) -> None:
    """Write the data file `out_dir/data_name` with `write_data(tmp)` and the JSON
    manifest `out_dir/manifest_name` (`fields`, plus the data file's sha256 and size
    under "files"), replacing an earlier pair as a pair: see the module docstring for
    the protocol and its guarantee. `fields` must be JSON-serialisable."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        recover_pair(out, data_name, manifest_name)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
        keep_stage = False
        try:
            new_data, new_manifest = stage / data_name, stage / manifest_name
            write_data(new_data)
            _sync(new_data)
            text = json.dumps({**fields, FILES_KEY: {data_name: fingerprint(new_data)}},
                              indent=2) + "\n"
            with open(new_manifest, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            _keep_modes(out, stage, (data_name, manifest_name))
            target, backup = out / data_name, stage / (_BACKUP_PREFIX + data_name)
            had_old = _backup(target, backup)
            os.replace(new_data, target)  # step 2: the data file
            try:
                os.replace(new_manifest, out / manifest_name)  # step 3: the commit
            except BaseException:
                try:  # roll back to the old pair
                    if had_old:
                        os.replace(backup, target)
                    else:
                        target.unlink()
                except BaseException:
                    keep_stage = True  # what recover_pair needs to complete the pair
                raise
            _sync_dir(out)
        finally:
            if not keep_stage:
                _discard(stage)


def read_pair(out_dir: str | Path, data_name: str, manifest_name: str,
              repair: bool = True) -> dict[str, Any]:
    """The manifest of the pair in `out_dir`, once checked to vouch for the data file
    beside it. A pair left mixed by a killed write is first repaired where the folder
    allows (`recover_pair`; not with `repair=False`). Raises `MismatchedPair` for a
    mix or a missing file."""
    out = Path(out_dir)
    if repair and _stages(out):
        with contextlib.suppress(OSError), _locked(out):
            recover_pair(out, data_name, manifest_name)
    manifest, data = out / manifest_name, out / data_name
    if not manifest.is_file() or not data.is_file():
        raise MismatchedPair(f"{out}: no {manifest_name} and {data_name} pair there")
    try:
        fields = json.loads(manifest.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise MismatchedPair(f"{manifest} is not JSON: {exc}") from None
    entry = fields.get(FILES_KEY, {}).get(data_name) if isinstance(fields, dict) else None
    if entry is None:
        raise MismatchedPair(f"{manifest} does not describe a {data_name} (written by an "
                             "older gridc, or not a gridc manifest)")
    if entry != fingerprint(data):
        raise MismatchedPair(f"{data} is not the file {manifest} describes (sha256 "
                             "differs): an interrupted or foreign write")
    return fields  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- checking --out


def check_output_dir(path: str | Path, files: Iterable[str] = ()) -> None:
    """Raise `OutputError` (naming the path) unless `path` is a folder, or can be
    created as one, in which `files` can be written: not a file, not under a file,
    writable (tried: a probe folder is created and removed), and none of `files`
    an existing folder. Nothing is left behind."""
    out = Path(path)
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"cannot write results to {out}: it is a file, not a folder")
        for name in files:
            if (out / name).is_dir():
                raise OutputError(f"cannot write {out / name}: it is a folder")
        base = out
        while not base.exists() and base.parent != base:
            base = base.parent
        if not base.is_dir():
            raise OutputError(f"cannot create the folder {out}: {base} is a file")
        try:
            probe = tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=base)
        except OSError as exc:
            raise OutputError(f"cannot write results to {out}: {base} is not writable "
                              f"({exc.strerror or exc})") from None
        os.rmdir(probe)
    except OSError as exc:
        raise OutputError(f"cannot write results to {out}: {exc}") from None
