"""`stutterscope predict`: clip-level probabilities as CSV rows, one per path given or found.

A clip longer than the model's 30 s receptive field is not silently cut: its row's `warning` says that
only the first MAX_SECONDS were used (and `stutterscope assess` reads whole recordings); a truncated WAV
says so too. Rows are built before anything is written, so that a failed write can still hand them over.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from pathlib import Path

from .audio import MAX_SECONDS, SAMPLE_RATE, audio_info
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
            probs = predictor.predict_clip(item.path)
        except ValueError as e:
            failed += 1
            row["error"] = path_text(str(e))
        else:
            row["warning"] = "; ".join(w for w in (clip_warning(item.path, info.duration),
                                                   path_text(info.truncation_warning())) if w)
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
