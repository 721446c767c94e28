"""The official SEP-28k / FluencyBank label CSVs and the dataset's clip layout.

The CSVs separate fields with ", " (a space after each comma), FluencyBank's EpIds are zero-padded
("010") and must stay strings, and each label column holds how many of 3 annotators ticked it (0-3).
Audio is found in the layout of the dataset's own scripts: `{Show}/{EpId}/{Show}_{EpId}_{ClipId}.{ext}`
for clips, `{Show}/{EpId}.{ext}` for episodes.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from model.audio.decode import AUDIO_EXTENSIONS, SAMPLE_RATE
from model.labels import LABELS

KEY_COLUMNS = ("Show", "EpId", "ClipId", "Start", "Stop")
# Every vote column of the official CSVs, in their order: the five types and the other judgements.
VOTE_COLUMNS = ("Unsure", "PoorAudioQuality", "Prolongation", "Block", "SoundRep", "WordRep",
                "DifficultToUnderstand", "Interjection", "NoStutteredWords", "NaturalPause", "Music", "NoSpeech")
MAX_VOTES = 3  # annotators per clip
assert set(LABELS) <= set(VOTE_COLUMNS)

# SEP-28k-E's extended clip CSV: a speaker per clip and three suggested splits.
EXTENDED_SPLIT_COLUMNS = ("SEP28k-E", "SEP28k-T", "SEP28k-D")


@dataclass(frozen=True)
class ClipRow:
    show: str  # podcast / corpus name, e.g. "HeStutters", "FluencyBank"
    ep_id: str  # as written in the CSV, zero padding kept ("010")
    clip_id: str  # clip number within the episode, as written
    start: int  # first sample in the episode recording, at SAMPLE_RATE
    stop: int  # sample after the last one
    votes: dict[str, int]  # VOTE_COLUMNS -> annotator count 0..3
    line: int  # line number in the CSV, for messages

    @property
    def episode(self) -> str:
        return f"{self.show}/{self.ep_id}"

    @property
    def stem(self) -> str:
        return f"{self.show}_{self.ep_id}_{self.clip_id}"

    @property
    def duration(self) -> float:
        return (self.stop - self.start) / SAMPLE_RATE


@dataclass(frozen=True)
class ExtendedInfo:
    speaker: str  # SEP-28k-E's speaker name; "" where it has none
    splits: dict[str, str]  # EXTENDED_SPLIT_COLUMNS -> "train" / "dev" / "test" ("" where unassigned)


def _open_csv(path: Path):
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such label CSV (give the path of the official *_labels.csv)")
    return path.open(newline="", encoding="utf-8-sig")


def _check_header(path: Path, header: list[str] | None, required: tuple[str, ...]) -> None:
    if header is None:
        raise ValueError(f"{path}: the CSV is empty; expected a header line with {', '.join(required)}")
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; the official CSV header is "
                         f"{','.join(KEY_COLUMNS + VOTE_COLUMNS)}")


def _int_field(path: Path, line: int, row: dict, column: str, *, low: int = 0, high: int | None = None) -> int:
    text = row.get(column)
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise ValueError(f"{path}:{line}: column {column} is {text!r}, not a whole number; fix or delete the row") from None
    if value < low or (high is not None and value > high):
        limit = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{path}:{line}: column {column} is {value}, outside {limit}; fix or delete the row")
    return value


def _parse_row(path: Path, line: int, row: dict) -> ClipRow:
    if None in row or any(v is None for v in row.values()):
        raise ValueError(f"{path}:{line}: wrong number of fields (expected {len(KEY_COLUMNS + VOTE_COLUMNS)}); "
                         "fix or delete the row")
    names = {c: row[c].strip() for c in ("Show", "EpId", "ClipId")}
    for column, value in names.items():
        if not value or "/" in value or "\\" in value:
            raise ValueError(f"{path}:{line}: column {column} is {value!r}; it must be a non-empty name "
                             "without slashes")
    start = _int_field(path, line, row, "Start")
    stop = _int_field(path, line, row, "Stop", low=start + 1)
    votes = {c: _int_field(path, line, row, c, high=MAX_VOTES) for c in VOTE_COLUMNS}
    return ClipRow(names["Show"], names["EpId"], names["ClipId"], start, stop, votes, line)


def read_label_csv(path: str | Path) -> list[ClipRow]:
    """Read an official label CSV; ValueError names the line and column of a malformed row."""
    path = Path(path)
    with _open_csv(path) as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        _check_header(path, reader.fieldnames, KEY_COLUMNS + VOTE_COLUMNS)
        rows = [_parse_row(path, reader.line_num, row) for row in reader]
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (row.show, row.ep_id, row.clip_id)
        if key in seen:
            raise ValueError(f"{path}:{row.line}: clip {row.stem} already appears on line {seen[key]}; "
                             "delete the duplicate row")
        seen[key] = row.line
    return rows


def read_extended_csv(path: str | Path) -> dict[tuple[str, str, str], ExtendedInfo]:
    """SEP-28k-E's clip CSV: (Show, EpId, ClipId) -> speaker and suggested splits."""
    path = Path(path)
    with _open_csv(path) as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        _check_header(path, reader.fieldnames, ("Show", "EpId", "ClipId", "speaker") + EXTENDED_SPLIT_COLUMNS)
        out = {}
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise ValueError(f"{path}:{reader.line_num}: wrong number of fields; fix or delete the row")
            key = (row["Show"].strip(), row["EpId"].strip(), row["ClipId"].strip())
            splits = {c: row[c].strip() for c in EXTENDED_SPLIT_COLUMNS}
            out[key] = ExtendedInfo(row["speaker"].strip(), splits)
    return out


def index_clip_audio(clips_dir: str | Path, episodes: set[str]) -> dict[str, Path]:
    """Map clip stem -> audio file for the episodes' folders under clips_dir (any audio extension).

    One directory listing per episode instead of a stat per clip: fast on network disks.
    Where a clip exists in several formats, the first extension of AUDIO_EXTENSIONS wins.
    """
    clips_dir = Path(clips_dir)
    if not clips_dir.is_dir():
        raise FileNotFoundError(f"{clips_dir}: no such clip folder (expected {{Show}}/{{EpId}}/{{Show}}_{{EpId}}_"
                                "{ClipId}.wav inside it)")
    rank = {ext: i for i, ext in enumerate(AUDIO_EXTENSIONS)}
    found: dict[str, Path] = {}
    for episode in sorted(episodes):
        folder = clips_dir / episode
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            for entry in entries:
                stem, ext = os.path.splitext(entry.name)
                ext = ext.lower()
                if ext not in rank or not entry.is_file():
                    continue
                old = found.get(stem)
                if old is None or rank[ext] < rank[old.suffix.lower()]:
                    found[stem] = Path(entry.path)
    return found


def expected_clip_path(clips_dir: str | Path, row: ClipRow, *, ext: str = ".wav") -> Path:
    return Path(clips_dir) / row.show / row.ep_id / f"{row.stem}{ext}"


def find_episode_audio(episodes_dir: str | Path, show: str, ep_id: str) -> Path | None:
    """The recording `{Show}/{EpId}.{ext}` in any audio format, or None."""
    folder = Path(episodes_dir) / show
    for ext in AUDIO_EXTENSIONS:
        for candidate in (folder / f"{ep_id}{ext}", folder / f"{ep_id}{ext.upper()}"):
            if candidate.is_file():
                return candidate
    return None
