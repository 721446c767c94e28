"""A generated sample recording, for the headless demo and the screenshots: espeak-ng speech, or a tone.

No Qt, no network: espeak-ng is a local program; without it a numpy signal stands in.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from model.audio.decode import SAMPLE_RATE

log = logging.getLogger(__name__)

SAMPLE_TEXT = ("Well, I I I want to to go to the the shop. Um, it is is a a nice day today, "
               "and and we we can walk there together, you know, slowly.")


def make_sample(path: str | Path, *, text: str = SAMPLE_TEXT) -> Path:
    """Write about 12 s of speech (espeak-ng) or of a numpy stand-in to path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is not None:
        done = subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(path), text],
                              capture_output=True, check=False, stdin=subprocess.DEVNULL)
        if done.returncode == 0 and path.is_file() and path.stat().st_size > 1000:
            return path
        log.warning("espeak-ng failed (%s); using a generated signal", done.stderr.decode(errors="replace")[-200:])
    sf.write(str(path), synthetic_signal(12.0), SAMPLE_RATE)
    return path


def synthetic_signal(seconds: float, *, seed: int = 0) -> np.ndarray:
    """Voiced-sounding bursts (a 140 Hz buzz with harmonics) separated by pauses: float32, mono."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    buzz = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 6))
    gate = (np.sin(2 * np.pi * 0.7 * t) > -0.2).astype(np.float32)  # ~70 % "speech", then a pause
    noise = rng.standard_normal(len(t)) * 0.02
    return (0.25 * buzz * gate + noise).astype(np.float32)
