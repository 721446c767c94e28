"""Stretches of a recording that are not the client (the interviewer, a parent), read from sidecar files.

Batch runs find them next to the recording `<name>.<ext>`:
  - `<name>.exclude.csv`: a header with the columns `start_s,end_s` (others are ignored), one stretch
    per row, in seconds;
  - `<name>.TextGrid`: an interval tier named `exclude`; each interval with a label (any text, e.g.
    "interviewer") is a stretch. Unlabelled intervals are the gaps Praat fills a tier with, so they
    are not stretches. A TextGrid without that tier excludes nothing (it may hold other tiers).
When both exist, their stretches are joined. Overlapping stretches are merged. A sidecar that cannot
be read is an error (ValueError naming the file, the row and the fix), never silently ignored:
measures over the wrong speaker would be wrong without a sign.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from .clinical import merge_stretches
from .praat_text import INTERVAL_TIER, check_intervals, read_textgrid_text

EXCLUDE_TIER = "exclude"
CSV_SUFFIX = ".exclude.csv"
TEXTGRID_SUFFIX = ".TextGrid"
CSV_COLUMNS = ("start_s", "end_s")


@dataclass(frozen=True)
class Exclusions:
    """The stretches that are not the client, and where they were read from."""

    stretches: tuple[tuple[float, float], ...]  # (start, end) seconds, sorted, not overlapping
    sources: tuple[Path, ...]  # the sidecar files read; empty when there were none

    @property
    def seconds(self) -> float:
        return sum(e - s for s, e in self.stretches)


def sidecar_paths(recording: str | Path) -> tuple[Path, Path]:
    """The CSV and TextGrid sidecar paths of a recording (they need not exist)."""
    recording = Path(recording)
    stem = recording.with_suffix("")
    return stem.with_name(stem.name + CSV_SUFFIX), stem.with_name(stem.name + TEXTGRID_SUFFIX)


def _number(text: str, path: Path, row: int, column: str) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{path}, row {row}: {column} is {text!r}, not a number of seconds "
                         f"(write e.g. 12.5)") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"{path}, row {row}: {column} is {value}; give seconds from the start (>= 0)")
    return value


def read_exclude_csv(path: str | Path) -> list[tuple[float, float]]:
    """Stretches from a `start_s,end_s` CSV (see the module doc)."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in reader.fieldnames or ()]
            missing = [c for c in CSV_COLUMNS if c not in header]
            if missing:
                raise ValueError(f"{path}: no column {', '.join(missing)} in the header {header}; the first row "
                                 f"must be 'start_s,end_s' and each row one stretch in seconds")
            stretches = []
            for row_no, row in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                if not any(row.values()):
                    continue  # a blank line
                start = _number(row["start_s"], path, row_no, "start_s")
                end = _number(row["end_s"], path, row_no, "end_s")
                if not end > start:
                    raise ValueError(f"{path}, row {row_no}: end_s {end} is not after start_s {start}")
                stretches.append((start, end))
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a text CSV file ({e}); save it as UTF-8 CSV") from e
    except csv.Error as e:  # a field over the csv module's size limit, a quote left open at the end
        raise ValueError(f"{path}: not a CSV file of stretches ({e}); write one 'start_s,end_s' row per "
                         "stretch") from e
    except OSError as e:  # an unreadable sidecar is this recording's problem: the batch goes on
        raise ValueError(f"{path}: cannot be read ({e.strerror or e}); make it readable or move it "
                         "away") from e
    return stretches


def read_textgrid_exclusions(path: str | Path) -> list[tuple[float, float]]:
    """Stretches from the `exclude` interval tier of a Praat TextGrid (see the module doc).

    Every interval of that tier is checked (model.measures.praat_text): a reversed, negative, non-finite or
    overlapping one is a ValueError naming the file, the tier and the interval.
    """
    path = Path(path)
    try:
        tiers = [t for t in read_textgrid_text(path) if t.name == EXCLUDE_TIER]
    except OSError as e:
        raise ValueError(f"{path}: cannot be read ({e.strerror or e}); make it readable or move it "
                         "away") from e
    if not tiers:
        return []
    if len(tiers) > 1:
        raise ValueError(f"{path}: {len(tiers)} tiers are named {EXCLUDE_TIER!r}; keep one (join them in Praat)")
    tier = tiers[0]
    if tier.kind != INTERVAL_TIER:
        raise ValueError(f"{path}: the tier {EXCLUDE_TIER!r} is a point tier; make it an interval tier whose "
                         f"labelled intervals are the stretches that are not the client")
    check_intervals(tier, path)
    return [(start, end) for start, end, label in tier.entries if label.strip()]


def _sidecar_file(path: Path) -> bool:
    """Whether the sidecar is there; a folder (or other non-file) in its place is an error, not nothing."""
    if path.is_file():
        return True
    if path.exists() or path.is_symlink():
        raise ValueError(f"{path}: has a sidecar's name but is not a file (a folder, or a broken link); rename or "
                         "move it away, or put the stretches in a file of that name")
    return False


def read_exclusions(recording: str | Path, *, duration: float | None = None) -> Exclusions:
    """The stretches that are not the client, from the recording's sidecars (none: no stretches).

    duration clips them to the recording. Raises ValueError for a sidecar that cannot be used.
    """
    csv_path, grid_path = sidecar_paths(recording)
    stretches: list[tuple[float, float]] = []
    sources = []
    if _sidecar_file(csv_path):
        stretches += read_exclude_csv(csv_path)
        sources.append(csv_path)
    if _sidecar_file(grid_path):
        stretches += read_textgrid_exclusions(grid_path)
        sources.append(grid_path)
    return Exclusions(tuple(merge_stretches(stretches, duration=duration)), tuple(sources))
