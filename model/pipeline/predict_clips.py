"""`stutterscope predict`: clip-level probabilities as CSV rows, one per path given or found.

A clip longer than the model's 30 s receptive field is not silently cut: its row's `warning` says that
only the first MAX_SECONDS were used (and `stutterscope assess` reads whole recordings); a truncated WAV
says so too. A clip with too little speech (silence, noise, a tone) is flagged as `assess` flags it: its row
says so and holds no probabilities nor decisions, which would mean nothing there. Rows are built before
anything is written, so that a failed write can still hand them over.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..audio.decode import MAX_SECONDS, SAMPLE_RATE, audio_info, load_audio
from ..audio.speech_activity import SpeechActivity, frame_speech, too_little_speech, too_little_speech_warning
from .find_recordings import find_recordings, path_text
from .inference import Predictor
from .outputs import safe_cell

log = logging.getLogger(__name__)


def clip_warning(path: Path, duration: float) -> str:
    """What a row must say about a clip longer than the model reads ("" for one that fits)."""
    if duration <= MAX_SECONDS + 1 / SAMPLE_RATE:
        return ""
    return (f"{path_text(path)}: the clip is {duration:.1f} s; only its first {MAX_SECONDS:g} s were used "
            "(use `stutterscope assess` for whole recordings)")


def clip_speech_seconds(audio: np.ndarray, hop_seconds: float) -> float:
    """Seconds of speech in a clip, by the check `assess` makes (model.audio.speech_activity, 3 s windows)."""
    activity = SpeechActivity()
    activity.feed(audio)
    return frame_speech(activity.finish(), len(audio), round(hop_seconds * SAMPLE_RATE)).speech_seconds


def predict_rows(paths: Iterable[str | Path], predictor: Predictor, *,
                 progress=None) -> tuple[list[str], list[dict], int]:
    """(CSV fields, rows, number failed): one row per path given or found, errors and warnings included."""
    labels, thresholds = predictor.labels, predictor.bundle.thresholds
    fields = ["path", *(f"p_{label}" for label in labels), *labels, "model_id", "error", "warning"]
    rows, failed = [], 0
    found = find_recordings(paths)
    for item in (progress(found) if progress is not None else found):
        row = {"path": path_text(item.path), "model_id": predictor.bundle.model_id, "error": "", "warning": ""}
        try:
            if item.problem:
                raise ValueError(item.problem)
            info = audio_info(item.path)
            audio = load_audio(item.path, max_seconds=MAX_SECONDS)
            speech = clip_speech_seconds(audio, predictor.options.hop_seconds)
            probs = None if too_little_speech(speech) else predictor.predict_clip_audio(audio)
        except ValueError as e:
            failed += 1
            row["error"] = path_text(str(e))
        else:
            flag = too_little_speech_warning(row["path"], speech) if probs is None else ""
            row["warning"] = "; ".join(w for w in (clip_warning(item.path, info.duration),
                                                   path_text(info.truncation_warning()), flag) if w)
            if probs is not None:
                for label, p in zip(labels, probs, strict=True):
                    row[f"p_{label}"] = f"{p:.4f}"
                    row[label] = int(p >= thresholds[label])
        rows.append(row)
    return fields, rows, failed


def rows_csv(fields: list[str], rows: list[dict]) -> str:
    """The rows as CSV text, every text cell spreadsheet-safe."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return buf.getvalue()
