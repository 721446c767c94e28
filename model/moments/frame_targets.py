"""Frame-level targets at the encoder's resolution, and the optional manifest fields that carry them.

A record with moment-level annotations (made by `prep casa`) points at arrays in a compressed `.npz` beside
the manifest (`"frames": {"file", "key", "rate", "count"}`) and lists its annotations in seconds from the
record's start (`moments`, `exclude`, `chat`, `clips`). This module owns the frame grid, turns time
intervals into frame marks, checks those fields and loads the arrays, so training, decoding and evaluation
share one definition of "frame i".

Frame i covers samples [i * SAMPLES_PER_FRAME, (i + 1) * SAMPLES_PER_FRAME) of the record: one Whisper
encoder token (20 ms). A record of n samples has round-half-up(n / SAMPLES_PER_FRAME) frames, i.e. every
frame at least half of which is audio; a 3 s record has WINDOW_TOKENS = 150. A frame is marked when the
union of the intervals covers at least half of it (MARK_FRACTION), so an onset half-way into a frame still
marks it and a boundary exactly on a frame edge marks the frames on one side only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio.decode import SAMPLE_RATE, TOKEN_SAMPLES, TOKENS_PER_SECOND, WINDOW_SAMPLES, WINDOW_TOKENS
from ..labels import LABELS
from .decoding import FRAME_CHANNELS  # moment, then the five types: the channel order of every frame array
from .decoding import MOMENT_CHANNEL as MOMENT  # noqa: F401 - re-exported for data_prep.recipes.casa

FRAME_RATE = TOKENS_PER_SECOND  # 50 frames per second: one per encoder token
SAMPLES_PER_FRAME = TOKEN_SAMPLES  # 320 samples = 20 ms
assert WINDOW_SAMPLES // SAMPLES_PER_FRAME == WINDOW_TOKENS  # 3 s -> 150 frames, the encoder's own count
MARK_FRACTION = 0.5  # a frame is marked when intervals cover at least this share of it
ANNOTATORS = ("A1", "A2", "A3")  # the per-annotator axis of the frame arrays
FRAME_ARRAYS = ("soft", "annotators", "mask", "supervised")  # always in the npz per record; "gold" may be

Fail = Callable[[dict, str, str], None]  # fail(record, field, why) raises ValueError


def frame_count(n_samples: int) -> int:
    """Frames of a record of n_samples: those at least half inside the audio (round half up)."""
    if n_samples < 0:
        raise ValueError(f"n_samples is {n_samples}; give a sample count >= 0")
    return (n_samples + SAMPLES_PER_FRAME // 2) // SAMPLES_PER_FRAME


def seconds_to_frames(seconds: float) -> int:
    """frame_count of a duration given in seconds (rounded to the nearest sample first)."""
    return frame_count(int(round(seconds * SAMPLE_RATE)))


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of [start, end) intervals, sorted, touching ones merged; empty ones dropped."""
    merged: list[list[int]] = []
    for start, end in sorted((int(s), int(e)) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def frame_coverage(intervals: Iterable[tuple[int, int]], n_frames: int) -> np.ndarray:
    """Samples of each frame covered by the union of [start, end) sample intervals: (n_frames,) int64."""
    covered = np.zeros(n_frames, np.int64)
    edges = np.arange(n_frames + 1, dtype=np.int64) * SAMPLES_PER_FRAME  # (n_frames + 1,) frame boundaries
    for start, end in merge_intervals(intervals):
        lo = max(start // SAMPLES_PER_FRAME, 0)
        hi = min(-(-end // SAMPLES_PER_FRAME), n_frames)  # ceil: the last frame the interval touches
        if hi <= lo:
            continue
        overlap = np.minimum(edges[lo + 1:hi + 1], end) - np.maximum(edges[lo:hi], start)
        covered[lo:hi] += np.maximum(overlap, 0)
    return covered


def frame_marks(intervals: Iterable[tuple[int, int]], n_frames: int) -> np.ndarray:
    """1 where the union of [start, end) sample intervals covers at least MARK_FRACTION of a frame: (n_frames,) uint8."""
    need = math.ceil(MARK_FRACTION * SAMPLES_PER_FRAME)  # 160 samples
    return (frame_coverage(intervals, n_frames) >= need).astype(np.uint8)


# --- optional manifest fields -------------------------------------------------------------------------------

def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _check_interval(rec: dict, fail: Fail, where: str, start, end, *, inside: bool = True) -> None:
    if not _is_number(start) or not _is_number(end) or end < start:
        fail(rec, where, f"must have numeric start <= end in seconds, got {start!r}..{end!r}")
    # Small slack: times are rounded to the microsecond when written.
    if inside and (start < -1e-6 or end > rec["duration"] + 1e-3):
        fail(rec, where, f"must lie within the record (0..{rec['duration']} s), got {start}..{end}")


def _check_frames(rec: dict, fail: Fail) -> None:
    frames = rec["frames"]
    if not isinstance(frames, dict):
        fail(rec, "frames", "must be an object {file, key, rate, count}")
    for key in ("file", "key"):
        if not isinstance(frames.get(key), str) or not frames[key]:
            fail(rec, f"frames.{key}", "must be a non-empty string")
    if frames.get("rate") != FRAME_RATE:
        fail(rec, "frames.rate", f"must be {FRAME_RATE} (frames per second, one per encoder token), "
                                 f"got {frames.get('rate')!r}")
    count = frames.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count != seconds_to_frames(rec["duration"]):
        fail(rec, "frames.count", f"must be the record's frame count {seconds_to_frames(rec['duration'])}, "
                                  f"got {count!r}")
    channels = frames.get("channels", list(FRAME_CHANNELS))
    if list(channels) != list(FRAME_CHANNELS):
        fail(rec, "frames.channels", f"must be {list(FRAME_CHANNELS)}")
    supervised = frames.get("supervised")
    if not isinstance(supervised, list) or not supervised or not set(supervised) <= set(FRAME_CHANNELS):
        fail(rec, "frames.supervised", f"must list the supervised channels, a subset of {list(FRAME_CHANNELS)}")


def _check_moments(rec: dict, fail: Fail) -> None:
    if not isinstance(rec["moments"], list):
        fail(rec, "moments", "must be a list of {annotator, start, end, types, lbdl}")
    for i, m in enumerate(rec["moments"]):
        where = f"moments[{i}]"
        if not isinstance(m, dict) or not isinstance(m.get("annotator"), str) or not m["annotator"]:
            fail(rec, where, "must be an object with a non-empty annotator")
        _check_interval(rec, fail, where, m.get("start"), m.get("end"))
        types = m.get("types")
        if not isinstance(types, list) or not set(types) <= set(LABELS):
            fail(rec, f"{where}.types", f"must be a list of type names from {', '.join(LABELS)}")
        if not isinstance(m.get("lbdl"), list) or not all(isinstance(c, str) for c in m["lbdl"]):
            fail(rec, f"{where}.lbdl", "must be a list of LBDL codes (strings)")


def _check_exclude(rec: dict, fail: Fail) -> None:
    if not isinstance(rec["exclude"], list):
        fail(rec, "exclude", "must be a list of [start, end] pairs in seconds")
    for i, span in enumerate(rec["exclude"]):
        if not isinstance(span, list) or len(span) != 2:
            fail(rec, f"exclude[{i}]", "must be a [start, end] pair in seconds")
        _check_interval(rec, fail, f"exclude[{i}]", *span)


def _check_chat(rec: dict, fail: Fail) -> None:
    if not isinstance(rec["chat"], list):
        fail(rec, "chat", "must be a list of {start, end, speaker, text, inside}")
    for i, u in enumerate(rec["chat"]):
        where = f"chat[{i}]"
        if not isinstance(u, dict):
            fail(rec, where, "must be an object {start, end, speaker, text, inside}")
        # Utterances reach past the record: start and end are where the whole utterance lies.
        _check_interval(rec, fail, where, u.get("start"), u.get("end"), inside=False)
        if u.get("speaker") not in ("PAR", "INV"):
            fail(rec, f"{where}.speaker", f"must be PAR or INV, got {u.get('speaker')!r}")
        if not isinstance(u.get("text"), str):
            fail(rec, f"{where}.text", "must be the utterance's CHAT text")
        if not _is_number(u.get("inside")) or not 0 <= u["inside"] <= 1:
            fail(rec, f"{where}.inside", f"must be the share of the utterance inside the record (0..1), "
                                         f"got {u.get('inside')!r}")


def _check_clips(rec: dict, fail: Fail) -> None:
    if not isinstance(rec["clips"], list) or not rec["clips"]:
        fail(rec, "clips", "must be a non-empty list of {id, start, end}")
    for i, c in enumerate(rec["clips"]):
        if not isinstance(c, dict) or not isinstance(c.get("id"), str) or not c["id"]:
            fail(rec, f"clips[{i}]", "must be an object with the clip's record id")
        _check_interval(rec, fail, f"clips[{i}]", c.get("start"), c.get("end"))


_CHECKS = {"frames": _check_frames, "moments": _check_moments, "exclude": _check_exclude, "chat": _check_chat,
           "clips": _check_clips}


def check_annotation_fields(rec: dict, fail: Fail) -> None:
    """Check the optional moment-level fields present in rec; fail(rec, field, why) raises."""
    for name, check in _CHECKS.items():
        if name in rec:
            check(rec, fail)


# --- loading ------------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _open_npz(path: str, mtime: float):
    # One open archive per file version: records of a manifest share it, and a rewritten file is reopened.
    try:
        return np.load(path)
    except (OSError, ValueError) as e:
        raise RuntimeError(f"{path}: cannot read the frame targets ({e}); rebuild them with `prep casa`") from e


def load_frame_targets(record: dict, root: str | Path) -> dict[str, np.ndarray]:
    """The record's frame arrays: soft (6, T) float32, annotators (3, 6, T) uint8, mask (T,) uint8,
    supervised (6,) uint8 and, where a consensus exists, gold (6, T) uint8; channels in FRAME_CHANNELS order.

    root is the manifest's folder (the npz's path in the record is relative to it).
    """
    frames = record.get("frames")
    if not frames:
        raise ValueError(f"record {record.get('id')!r} has no frame targets; use a manifest made by `prep casa`")
    path = Path(frames["file"])
    path = path if path.is_absolute() else Path(root) / path
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the frame targets of {record['id']!r} are missing; re-run `prep casa`")
    npz = _open_npz(str(path), path.stat().st_mtime)
    key = frames["key"]
    out = {name: npz[f"{key}/{name}"] for name in (*FRAME_ARRAYS, "gold") if f"{key}/{name}" in npz.files}
    missing = [name for name in FRAME_ARRAYS if name not in out]
    if missing:
        raise ValueError(f"{path}: no {', '.join(missing)} for {key!r}; the npz and the manifest don't match, "
                         "re-run `prep casa`")
    return out
