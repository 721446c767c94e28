"""Atomic writes of the corpus files: a temporary file beside the target, then os.replace."""

from __future__ import annotations

import csv
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

from model.audio import SAMPLE_RATE


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """A temporary path to write; it replaces path only if the block finishes, so no half file is seen."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Named by process and thread rather than by mkstemp, whose private 0600 mode would outlive the rename.
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_wav(path: Path, audio: np.ndarray) -> None:
    """16-bit PCM WAV at SAMPLE_RATE."""
    with atomic(path) as tmp:
        sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with atomic(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def write_text(path: Path, text: str) -> None:
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def seconds(samples: int) -> str:
    """A sample count as seconds, written so that round(float(text) * SAMPLE_RATE) gives it back exactly."""
    return f"{samples / SAMPLE_RATE:.6f}"
