"""Praat TextGrids in text format (long or short), read strictly: every number checked, every problem named.

Why not praatio's reader: it drops a minus sign (`xmin = -1` reads as 1), fails on `nan` or `1e-3` with
"Expected field in Textgrid missing", and its errors name neither the tier nor the interval. A sidecar that
decides which speech is measured must be read exactly or refused with the row to fix.

Praat's text formats are one stream of values: numbers, quoted texts ("" is a quote inside) and the flags
`<exists>`/`<absent>`; the long format adds labels (`xmin =`, `intervals [3]:`) that carry no value, and
`!` starts a comment. So both formats are read by skipping labels and taking values in Praat's order:
"ooTextFile", "TextGrid", xmin, xmax, <exists>, size, then per tier: class, name, xmin, xmax, size and its
entries (interval: xmin, xmax, text; point: time, mark).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

INTERVAL_TIER, POINT_TIER = "IntervalTier", "TextTier"
_RESAVE = "open it in Praat and save it again (Save as text file)"
_TOKEN = re.compile(r'"(?P<text>(?:[^"]|"")*)"'  # a quoted text
                    r"|!(?P<comment>[^\n]*)"
                    r"|<(?P<flag>exists|absent)>"
                    r"|\[\s*\d+\s*\]"  # an index label: item [1], intervals [3]
                    r"|(?<![\w.])(?P<number>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf(?:inity)?|nan)(?![\w.])"
                    r"|\S", re.IGNORECASE)


@dataclass(frozen=True)
class Tier:
    kind: str  # INTERVAL_TIER or POINT_TIER
    name: str
    entries: tuple[tuple, ...]  # intervals: (start, end, label); points: (time, mark); numbers as written


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith(b"ooBinaryFile"):
        raise ValueError(f"{path}: a binary TextGrid; save it from Praat as a text file (Save as text file)")
    # Praat writes UTF-16 (with its byte-order mark) when a label is not ASCII.
    codec = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text TextGrid ({e}); save it from Praat as a text file") from e


def _values(text: str) -> Iterator[tuple[str, object]]:
    for m in _TOKEN.finditer(text):
        if m.group("text") is not None:
            yield "text", m.group("text").replace('""', '"')
        elif m.group("flag") is not None:
            yield "flag", m.group("flag").lower()
        elif m.group("number") is not None:
            yield "number", float(m.group("number"))


class _Reader:
    def __init__(self, text: str, path: Path):
        self.values, self.path = _values(text), path

    def take(self, kind: str, what: str):
        got = next(self.values, None)
        if got is None:
            raise ValueError(f"{self.path}: not a TextGrid Praat can write: the file ends before {what} (cut "
                             f"short?); {_RESAVE}")
        if got[0] != kind:
            raise ValueError(f"{self.path}: not a TextGrid Praat can write: {what} is {got[1]!r}, not a {kind}; "
                             f"{_RESAVE}")
        return got[1]

    def count(self, what: str) -> int:
        n = self.take("number", what)
        if not (math.isfinite(n) and n >= 0 and n == int(n)):
            raise ValueError(f"{self.path}: not a TextGrid Praat can write: {what} is {n}, not a count; {_RESAVE}")
        return int(n)


def read_textgrid_text(path: str | Path) -> list[Tier]:
    """The tiers of a text-format TextGrid, numbers as written (unchecked). ValueError naming what is wrong."""
    path = Path(path)
    r = _Reader(_decode(path.read_bytes(), path), path)
    if (r.take("text", "the file type"), r.take("text", "the object class")) != ("ooTextFile", "TextGrid"):
        raise ValueError(f"{path}: not a TextGrid (its header names another Praat object)")
    r.take("number", "the TextGrid's xmin")
    r.take("number", "the TextGrid's xmax")
    if r.take("flag", "the tiers flag") == "absent":
        return []
    tiers = []
    for t in range(1, r.count("the number of tiers") + 1):
        kind = r.take("text", f"tier {t}'s class")
        name = r.take("text", f"tier {t}'s name")
        if kind not in (INTERVAL_TIER, POINT_TIER):
            raise ValueError(f"{path}: tier {t} ({name!r}) has the class {kind!r}, not an interval or point tier")
        r.take("number", f"tier {name!r}'s xmin")
        r.take("number", f"tier {name!r}'s xmax")
        entries = []
        for i in range(1, r.count(f"tier {name!r}'s size") + 1):
            where = f"tier {name!r}, {'interval' if kind == INTERVAL_TIER else 'point'} {i}"
            if kind == INTERVAL_TIER:
                entries.append((r.take("number", f"{where}'s xmin"), r.take("number", f"{where}'s xmax"),
                                r.take("text", f"{where}'s text")))
            else:
                entries.append((r.take("number", f"{where}'s time"), r.take("text", f"{where}'s mark")))
        tiers.append(Tier(kind, name, tuple(entries)))
    return tiers


def check_intervals(tier: Tier, path: Path) -> None:
    """Each interval finite, from 0 s, ending after it starts, none overlapping the one before: else ValueError."""
    previous = None
    for i, (start, end, _label) in enumerate(tier.entries, start=1):
        where = f"{path.name}: tier {tier.name!r}, interval {i} ({start:g}-{end:g} s)"
        if not (math.isfinite(start) and math.isfinite(end)):
            why = "its times must be numbers of seconds"
        elif start < 0:
            why = "it starts before 0 s"
        elif end < start:
            why = "its end comes before its start"
        elif end == start:
            why = "it has no length"
        elif previous is not None and start < previous[1]:
            why = f"it overlaps interval {i - 1} ({previous[0]:g}-{previous[1]:g} s)"
        else:
            previous = (start, end)
            continue
        raise ValueError(f"{where}: {why}; correct it in Praat and save the TextGrid again ({path})")
