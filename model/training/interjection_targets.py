"""Interjection frame targets from FluencyBank Timestamped's hand-timed filled pauses.

CASA's SLPs did not mark interjections, so the frame head's Interjection channel had no frame targets.
FluencyBank Timestamped (`words.csv`: every word of the person who stutters with its start and end in
seconds of the interview media, and 0/1 flags; `fp` = filled pause, um/uh) times them on the same media
and the same clock as CASA, so a `prep casa` run that starts at `episode_start` seconds of the media
holds the filled pauses inside [episode_start, episode_start + duration), moved by -episode_start.
Frames are marked by model.frame_targets' rule (a frame at least half covered).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE
from ..frame_targets import frame_marks, seconds_to_frames

Span = tuple[float, float]
FILLED_PAUSE = "fp"  # words.csv's flag of a filled pause
_COLUMNS = ("EpId", "start", "end", FILLED_PAUSE)


def episode_name(ep_id: str) -> str:
    """words.csv's EpId ("10", "010") -> the manifest's episode ("FluencyBank/010")."""
    if not ep_id.strip().isdigit():
        raise ValueError(f"EpId {ep_id!r} is not a FluencyBank episode number; give e.g. 010")
    return f"FluencyBank/{int(ep_id):03d}"


def read_filled_pauses(words_csv: Path) -> dict[str, list[Span]]:
    """Episode -> its filled pauses' (start, end) in seconds of the interview media, sorted."""
    with open(words_csv, newline="") as f:
        rows = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (rows.fieldnames or ())]
        if missing:
            raise ValueError(f"{words_csv}: no column(s) {missing}; give FluencyBank Timestamped's words.csv")
        out: dict[str, list[Span]] = {}
        for row in rows:
            if row[FILLED_PAUSE].strip() == "1":
                out.setdefault(episode_name(row["EpId"]), []).append((float(row["start"]), float(row["end"])))
    return {ep: sorted(spans) for ep, spans in out.items()}


def record_filled_pauses(record: Mapping, pauses: Mapping[str, Sequence[Span]]) -> list[Span]:
    """The filled pauses inside the record, in seconds from its start (cut at its edges)."""
    start, duration = float(record["episode_start"]), float(record["duration"])
    return [(max(0.0, a - start), min(duration, b - start)) for a, b in pauses.get(record["episode"], ())
            if b > start and a < start + duration]


def interjection_frames(record: Mapping, pauses: Mapping[str, Sequence[Span]]) -> np.ndarray:
    """(frames,) uint8: 1 on the record's frames that a filled pause covers at least half of."""
    n = seconds_to_frames(float(record["duration"]))
    samples = [(round(a * SAMPLE_RATE), round(b * SAMPLE_RATE)) for a, b in record_filled_pauses(record, pauses)]
    return frame_marks(samples, n)
