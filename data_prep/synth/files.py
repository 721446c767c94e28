"""The corpus's files, each written atomically (model.fileio): readers never see half a file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.fileio import atomic_path


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit PCM WAV at SAMPLE_RATE."""
    with atomic_path(path) as tmp:
        sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def seconds(samples: int) -> str:
    """A sample count as seconds, written so that round(float(text) * SAMPLE_RATE) gives it back exactly."""
    return f"{samples / SAMPLE_RATE:.6f}"
