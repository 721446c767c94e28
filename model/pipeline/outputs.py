"""Where results go: checked before any work, written owner-only, spreadsheet-safe, failures said in one line.

- No output path may be an input (`predict clip.wav --out clip.wav` replaced the recording).
- `predict --out` must be a .csv file; `assess --out` must be a folder (or not exist yet); both writable.
- CSV cells that begin with = + - @ (or a tab / carriage return) get a leading apostrophe, so that a
  spreadsheet shows a file name such as `=HYPERLINK(...).wav` instead of running it (OWASP's advice).
- Everything that can name a patient (results, exports, manifests) is written owner-only (0600).
- OS failures (a full disk, no permission, a folder where a file should be) become one sentence naming
  the path, for `OutputError`, which the CLI prints as a single line with exit status 2.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets take as the start of a formula


class OutputError(RuntimeError):
    """The results cannot be written where asked (full disk, no permission, wrong kind of path)."""


def safe_cell(value: object) -> object:
    """value, with a leading apostrophe if it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_not_an_input(outputs: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Refuse when an output file is one of the inputs (by file identity, so links and ./ count too)."""
    inputs = [Path(p) for p in inputs]
    for out in map(Path, outputs):
        for given in inputs:
            if _same(out, given) or out.absolute() == given.absolute():
                raise ValueError(f"{out} is one of the inputs: writing results there would destroy it; "
                                 "choose another output path")


def describe_os_error(e: OSError, path: str | Path | None = None) -> str:
    """One sentence for an OS failure while writing results, naming the path and what to do."""
    where = path or e.filename or "the output"
    if e.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"no space left on the disk holding {where}: free some space and run again (finished work is kept)"
    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {where}: permission denied (or a read-only disk); choose a folder you can write"
    if e.errno == errno.EISDIR:
        return f"{where} is a folder; give a file name"
    if e.errno in (errno.ENOTDIR, errno.EEXIST):  # mkdir of a folder where a file of that name lies
        return f"{where}: part of this path is a file, not a folder; choose another path"
    return f"cannot write {where}: {e.strerror or e}"


def _probe_write(folder: Path) -> None:
    """Create and remove a file in folder (made if missing): fails now rather than after hours of work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test.{os.getpid()}.tmp"
        fd = os.open(probe, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
        os.close(fd)
        probe.unlink()
    except OSError as e:
        raise OutputError(describe_os_error(e, folder)) from e


def check_output_file(out: Path, inputs: Iterable[Path], *, suffix: str = ".csv") -> None:
    """A results file: ends in suffix, is not a folder nor an input, and its folder is writable."""
    out = Path(out)
    if out.is_dir():
        raise OutputError(f"--out {out} is a folder; give a file name ending in {suffix}, e.g. {out / ('results' + suffix)}")
    if out.suffix.lower() != suffix:
        raise ValueError(f"--out {out} must end in {suffix} (it is written as a {suffix[1:].upper()} file); "
                         f"e.g. {out.with_suffix(suffix)}")
    check_not_an_input([out], inputs)
    _probe_write(out.parent if str(out.parent) else Path("."))


def check_output_folder(out: Path, inputs: Iterable[Path], files: Iterable[str]) -> None:
    """A results folder: not a file, none of the files written in it an input, writable."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"--out {out} is a file; assess writes a folder of results: give a folder name")
    check_not_an_input([out / name for name in files], inputs)
    _probe_write(out)
