"""The recordings a batch is given: every path given or found becomes one entry, a problem or a file to analyse.

A batch must never abort on one odd path, nor drop one silently. So a folder is walked with os.scandir
and every failure is kept as an entry with a message instead of raised: a sub-folder the process may
not enter, a link whose target is gone, a link that loops, a path given on the command line that
does not exist, a folder given that holds no audio file at all (issue 23: it was passed over, exit 0).
Folders reached twice (given twice, inside another given, or through a link back up the tree) are walked
once. Hidden files and folders (a leading dot: results' own `.done`, editors' temporaries) are skipped.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..audio.decode import AUDIO_EXTENSIONS, is_audio_file

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    path: Path  # as given or as found under a given folder (never resolved: it is what the user knows)
    problem: str = ""  # why it cannot be analysed; "" for a file to analyse


def path_text(path: str | Path) -> str:
    """A path as text that can always be written (a name that is not valid UTF-8 keeps its bytes as \\xNN)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _why(e: OSError) -> str:
    if e.errno == errno.ELOOP:
        return "a symbolic link that loops back on itself"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if e.errno == errno.ENOENT:
        return "no such file or folder"
    return e.strerror or str(e)


def _link_problem(path: Path) -> str:
    """For a path that is not a readable file or folder: what is wrong with it."""
    try:
        os.stat(path)
    except OSError as e:
        if path.is_symlink() and e.errno == errno.ENOENT:
            return f"{path_text(path)}: a broken link (its target {path_text(os.readlink(path))} is missing)"
        return f"{path_text(path)}: {_why(e)}"
    return ""


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Found]:
    try:
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in seen:
            return  # reached again through a link: walked already
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: os.fsencode(e.name))
    except OSError as e:
        yield Found(folder, f"{path_text(folder)}: cannot read this folder ({_why(e)}); its recordings were not "
                            "assessed")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows links
            is_file = not is_dir and entry.is_file()
        except OSError as e:
            is_dir = is_file = False
            log.debug("stat of %s failed: %s", path, e)
        if is_dir:
            yield from _walk(path, seen)
        elif is_file:
            if is_audio_file(path):
                yield Found(path)
        elif is_audio_file(path) or entry.is_symlink():
            # Neither a file nor a folder: a broken or looping link (or a socket, a fifo...). Say so.
            yield Found(path, _link_problem(path) or f"{path_text(path)}: not a regular file")


def _walked_already(folder: Path, seen: set[tuple[int, int]]) -> bool:
    try:
        st = os.stat(folder)
    except OSError:
        return False  # the walk says what is wrong with it
    return (st.st_dev, st.st_ino) in seen


def _no_audio(folder: Path) -> Found:
    return Found(folder, f"{path_text(folder)}: no audio files in this folder or its sub-folders (looked for "
                         f"{', '.join(AUDIO_EXTENSIONS)}); choose the folder that holds the recordings")


def find_recordings(paths: Iterable[str | Path]) -> list[Found]:
    """Files as given, audio files found in folders (recursively), and problems, in a stable order.

    A file given explicitly is kept whatever its extension (the decoder will say if it is not audio);
    each physical file appears once even if given twice or reached through a link.
    """
    found: list[Found] = []
    seen_dirs: set[tuple[int, int]] = set()
    for p in map(Path, paths):
        try:
            is_dir = p.is_dir()
        except OSError:  # Python < 3.12 raises for some errors is_dir() should swallow
            is_dir = False
        if is_dir:
            if _walked_already(p, seen_dirs):
                continue  # given twice, or inside a folder given before: its recordings are listed once
            # A folder with nothing to assess is said, not passed over: the user expected recordings there.
            found.extend(list(_walk(p, seen_dirs)) or [_no_audio(p)])
        elif p.is_file():
            found.append(Found(p))
        else:
            found.append(Found(p, _link_problem(p) or f"{path_text(p)}: not a regular file"))
    unique, seen_files = [], set()
    for f in found:
        try:
            st = os.stat(f.path)
            key: object = (st.st_dev, st.st_ino) if not f.problem else ("problem", os.fsencode(f.path))
        except OSError:
            key = ("problem", os.fsencode(f.path))
        if key not in seen_files:
            seen_files.add(key)
            unique.append(f)
    return unique
