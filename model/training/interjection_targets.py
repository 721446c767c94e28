"""Interjection frame targets from FluencyBank Timestamped's hand-timed filled pauses.

CASA's SLPs did not mark interjections, so the frame head's Interjection channel had no frame targets.
FluencyBank Timestamped (`words.csv`: every word of the person who stutters with its start and end in
seconds of the interview media, and 0/1 flags; `fp` = filled pause, um/uh) times them on the same media
and the same clock as CASA, so a `prep casa` run that starts at `episode_start` seconds of the media
holds the filled pauses inside [episode_start, episode_start + duration), moved by -episode_start.
Frames are marked by model.moments.frame_targets' rule (a frame at least half covered).

The same words carry repetition flags (`rp` repetition, `pw` partial word; the authors' sound repetition is
`rp` and `pw` together, a repeated whole word `rp` alone): `read_repetitions` gives them as SoundRep and
WordRep spans, for trying them as frame targets of those channels (issue 24, item 4's open question).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from ..audio.decode import SAMPLE_RATE
from ..moments.frame_targets import frame_marks, seconds_to_frames

Span = tuple[float, float]
FILLED_PAUSE = "fp"  # words.csv's flag of a filled pause
REPETITION, PARTIAL_WORD = "rp", "pw"  # ...of a repetition, of a partial word
_COLUMNS = ("EpId", "start", "end", FILLED_PAUSE)


def episode_name(ep_id: str) -> str:
    """words.csv's EpId ("10", "010") -> the manifest's episode ("FluencyBank/010")."""
    if not ep_id.strip().isdigit():
        raise ValueError(f"EpId {ep_id!r} is not a FluencyBank episode number; give e.g. 010")
    return f"FluencyBank/{int(ep_id):03d}"


def read_word_spans(words_csv: Path, keep: Callable[[Mapping[str, str]], bool], columns: Sequence[str] = _COLUMNS,
                    ) -> dict[str, list[Span]]:
    """Episode -> the (start, end) in seconds of the interview media of the words `keep` accepts, sorted."""
    with open(words_csv, newline="") as f:
        rows = csv.DictReader(f)
        missing = [c for c in columns if c not in (rows.fieldnames or ())]
        if missing:
            raise ValueError(f"{words_csv}: no column(s) {missing}; give FluencyBank Timestamped's words.csv")
        out: dict[str, list[Span]] = {}
        for row in rows:
            if keep(row):
                out.setdefault(episode_name(row["EpId"]), []).append((float(row["start"]), float(row["end"])))
    return {ep: sorted(spans) for ep, spans in out.items()}


def read_filled_pauses(words_csv: Path) -> dict[str, list[Span]]:
    """Episode -> its filled pauses' (start, end) in seconds of the interview media, sorted."""
    return read_word_spans(words_csv, lambda row: row[FILLED_PAUSE].strip() == "1")


def read_repetitions(words_csv: Path) -> dict[str, dict[str, list[Span]]]:
    """{"SoundRep": episode -> spans of repeated partial words, "WordRep": episode -> repeated whole words}."""
    columns = (*_COLUMNS, REPETITION, PARTIAL_WORD)

    def flagged(row: Mapping[str, str], partial: bool) -> bool:
        return row[REPETITION].strip() == "1" and (row[PARTIAL_WORD].strip() == "1") == partial

    return {"SoundRep": read_word_spans(words_csv, lambda row: flagged(row, True), columns),
            "WordRep": read_word_spans(words_csv, lambda row: flagged(row, False), columns)}


def record_filled_pauses(record: Mapping, pauses: Mapping[str, Sequence[Span]]) -> list[Span]:
    """The filled pauses inside the record, in seconds from its start (cut at its edges)."""
    start, duration = float(record["episode_start"]), float(record["duration"])
    return [(max(0.0, a - start), min(duration, b - start)) for a, b in pauses.get(record["episode"], ())
            if b > start and a < start + duration]


def interjection_frames(record: Mapping, pauses: Mapping[str, Sequence[Span]]) -> np.ndarray:
    """(frames,) uint8: 1 on the record's frames that one of the spans (filled pauses, flagged words) covers at
    least half of."""
    n = seconds_to_frames(float(record["duration"]))
    samples = [(round(a * SAMPLE_RATE), round(b * SAMPLE_RATE)) for a, b in record_filled_pauses(record, pauses)]
    return frame_marks(samples, n)
