"""Measure the voice-activity check (model/audio/speech_activity.py) on generated speech, silence and noise.

Run: `python benchmarks/speech_activity.py` (needs espeak-ng). Prints, for each signal, the share of 3 s
windows (hop 1 s) judged to hold speech and the seconds of voice-like frames. Everything is generated here.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.audio.decode import SAMPLE_RATE, WINDOW_SAMPLES, load_audio
from model.audio.speech_activity import (
    frame_features,
    speech_frames,
    speech_seconds,
    window_has_speech,
    windows_with_speech,
)

TEXT = ("Well I I I went to the the store and um bought some bread. Then we walked home slowly along the river, "
        "and my brother told a long story about the summer he spent working on a farm.")


def _coloured(rng, n: int, exponent: float) -> np.ndarray:
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= np.maximum(np.arange(len(spec)), 1) ** (exponent / 2)
    x = np.fft.irfft(spec, n)
    return (0.1 * x / x.std()).astype(np.float32)


def signals(speech: np.ndarray) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = len(speech)
    white = _coloured(rng, n, 0.0)
    t = np.arange(n) / SAMPLE_RATE
    return {
        "speech": speech, "speech -40 dB": speech * 0.01,
        "speech + white 10 dB SNR": speech + white * speech.std() / white.std() / np.sqrt(10),
        "speech + white 0 dB SNR": speech + white * speech.std() / white.std(),
        "speech + pink 10 dB SNR": speech + (p := _coloured(rng, n, 1.0)) * speech.std() / p.std() / np.sqrt(10),
        "digital silence": np.zeros(n, np.float32), "dither (-80 dBFS)": 1e-4 * rng.standard_normal(n),
        "white noise": white, "pink noise": _coloured(rng, n, 1.0), "brown noise": _coloured(rng, n, 2.0),
        "50 Hz hum": (0.1 * np.sin(2 * np.pi * 50 * t)).astype(np.float32),
        "1 kHz tone": (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32),
    }


def fluencybank(data: Path) -> None:
    """Real clips judged to hold no speech, per label (clips are 3 s: one window each)."""
    labels = ["Prolongation", "Block", "SoundRep", "WordRep", "Interjection", "NoStutteredWords", "NoSpeech"]
    with open(data / "sep28k" / "fluencybank_labels.csv", newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f)]
    col = {h: i for i, h in enumerate(rows[0])}
    counts = {label: [0, 0] for label in ["all", *labels]}
    for r in rows[1:]:
        path = data / "fluencybank" / "clips" / "FluencyBank" / r[col["EpId"]] / \
            f"FluencyBank_{r[col['EpId']]}_{r[col['ClipId']]}.flac"
        if not path.exists():
            continue
        f = frame_features(load_audio(path))
        silent = not window_has_speech(f.level_db, f.voiced)
        for label in ["all", *(x for x in labels if int(r[col[x]]) >= 2)]:
            counts[label][0] += 1
            counts[label][1] += silent
    print(f"\n{'FluencyBank clips (>= 2 votes)':32s} {'clips':>6s} {'judged without speech':>22s}")
    for label, (n, silent) in counts.items():
        print(f"{label:32s} {n:6d} {silent:14d} ({silent / max(n, 1):.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fluencybank", type=Path, default=None, help="the shared data folder (optional)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(wav), TEXT], check=True)
        speech = load_audio(wav)
    print(f"{'signal':28s} {'windows with speech':>20s} {'speech s':>9s} {'length s':>9s}")
    for name, x in signals(speech).items():
        f = frame_features(x)
        starts = np.arange(0, max(1, len(x) - WINDOW_SAMPLES + 1), SAMPLE_RATE)
        windows = windows_with_speech(f, starts, WINDOW_SAMPLES)
        seconds = speech_seconds(speech_frames(f, starts, WINDOW_SAMPLES, windows))
        print(f"{name:28s} {windows.mean():20.2f} {seconds:9.2f} {len(x) / SAMPLE_RATE:9.2f}")
    if args.fluencybank is not None:
        fluencybank(args.fluencybank)


if __name__ == "__main__":
    main()
