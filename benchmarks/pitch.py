"""The spectrogram's pitch curve (app.pitch, numpy) against Praat's own (praat-parselmouth), in one run.

Run: `nice -n 10 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/pitch.py` (parselmouth is in the dev extra).

Accuracy: generated 1 s sounds of known F0 between 0.5 s silences (a 150 Hz tone of 7 harmonics, a 150 Hz
sine, a 120 -> 240 Hz glide of 7 harmonics): the largest error where voiced, the share of the sound found
voiced, and the frames called voiced in the silences. Speed, median of REPEATS: F0 of 10 s of speech (an
espeak-ng sentence, and 10 s of FluencyBank clips where ../shared/data is present), both with Praat's
defaults (75-500 Hz, 10 ms steps); then what a 10 s view costs in the app (`pitch_of_range`: read the file,
resample, compute, with the view's margin). Agreement with Praat on the speech: the frames both call voiced
or unvoiced, and the F0 difference in cents where both call them voiced. Then in the widgets (offscreen, the
main window, 1280 x 720, as benchmarks/spectrogram.py): from scrolling a 10 s view past the cached pitch to the new
line drawn (the worker and the GUI thread), and a scrolled 10 s view's redraw (set range, draw, grab) with the
pitch line against without it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.pitch import MAX_VIEW_SECONDS, PitchOptions, pitch_of_range, pitch_track  # noqa: E402
from model.audio.decode import SAMPLE_RATE, load_audio  # noqa: E402

REPEATS = 9
HARMONICS = 7
SILENCE_SECONDS, SOUND_SECONDS = 0.5, 1.0
EDGE_SECONDS = 0.03  # frames whose 40 ms window straddles an edge are not scored
CLIPS = ROOT.parent / "shared" / "data" / "fluencybank" / "clips" / "FluencyBank" / "010"
SENTENCE = ("When the sunlight strikes raindrops in the air, they act as a prism and form a rainbow. "
            "The rainbow is a division of white light into many beautiful colors.")
OPTIONS = PitchOptions()
VARIANTS = {"ours": OPTIONS, "ours at 16 kHz": PitchOptions(rate_hz=SAMPLE_RATE),
            "ours, Praat's 15 candidates": PitchOptions(candidates=15)}  # the shipped one first; the others: why not them


def praat_f0(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Praat's "To Pitch (ac)" with the same range and step: (times, F0 with NaN where unvoiced)."""
    import parselmouth

    pitch = parselmouth.Sound(samples.astype(np.float64), SAMPLE_RATE).to_pitch_ac(
        time_step=OPTIONS.hop_seconds, pitch_floor=OPTIONS.floor_hz, pitch_ceiling=OPTIONS.ceiling_hz)
    f0 = pitch.selected_array["frequency"]
    return pitch.xs(), np.where(f0 > 0, f0, np.nan)


def ours_f0(samples: np.ndarray, options: PitchOptions = OPTIONS) -> tuple[np.ndarray, np.ndarray]:
    track = pitch_track(samples, SAMPLE_RATE, options=options)
    return track.times, track.f0_hz.astype(np.float64)


def known_sounds() -> dict[str, tuple[np.ndarray, callable]]:
    """name -> (samples with silences around, true F0 at a time inside the sound)."""
    t = np.arange(int(SOUND_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    silence = np.zeros(int(SILENCE_SECONDS * SAMPLE_RATE), np.float32)

    def harmonic(f_hz: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * np.cumsum(f_hz) / SAMPLE_RATE
        return (0.3 * sum(np.sin(k * phase) / k for k in range(1, HARMONICS + 1))).astype(np.float32)

    glide = 120.0 * 2 ** (t / SOUND_SECONDS)  # one octave up, evenly in log F0
    return {
        "150 Hz tone (7 harmonics)": (np.concatenate([silence, harmonic(np.full_like(t, 150.0)), silence]),
                                      lambda s: np.full_like(s, 150.0)),
        "150 Hz sine": (np.concatenate([silence, (0.5 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), silence]),
                        lambda s: np.full_like(s, 150.0)),
        "120 -> 240 Hz glide": (np.concatenate([silence, harmonic(glide), silence]),
                                lambda s: 120.0 * 2 ** ((s - SILENCE_SECONDS) / SOUND_SECONDS)),
    }


def accuracy(f0_fn, samples: np.ndarray, truth) -> dict:
    times, f0 = f0_fn(samples)
    inside = (times > SILENCE_SECONDS + EDGE_SECONDS) & (times < SILENCE_SECONDS + SOUND_SECONDS - EDGE_SECONDS)
    outside = (times < SILENCE_SECONDS - EDGE_SECONDS) | (times > SILENCE_SECONDS + SOUND_SECONDS + EDGE_SECONDS)
    voiced = inside & ~np.isnan(f0)
    error = np.abs(f0[voiced] / truth(times[voiced]) - 1)
    return {"voiced_inside": voiced.sum() / inside.sum(), "max_error_pct": 100 * error.max(initial=0.0),
            "voiced_in_silence": int((outside & ~np.isnan(f0)).sum())}


def median_ms(fn) -> float:
    fn()  # warm: first-call imports and FFT plans
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def agreement(samples: np.ndarray) -> dict:
    """Frame by frame on Praat's times (ours are on the same 10 ms grid, maybe shifted by under a step)."""
    p_times, p_f0 = praat_f0(samples)
    o_times, o_f0 = ours_f0(samples)
    index = np.clip(np.searchsorted(o_times, p_times - OPTIONS.hop_seconds / 2), 0, len(o_times) - 1)
    ours_there = np.where(np.abs(o_times[index] - p_times) <= OPTIONS.hop_seconds / 2, o_f0[index], np.nan)
    p_voiced, o_voiced = ~np.isnan(p_f0), ~np.isnan(ours_there)
    both = p_voiced & o_voiced
    cents = np.abs(1200 * np.log2(ours_there[both] / p_f0[both]))
    return {"frames": len(p_f0), "praat_voiced": p_voiced.mean(), "same_decision": (p_voiced == o_voiced).mean(),
            "median_cents": float(np.median(cents)) if both.any() else float("nan"),
            "over_20pct": float((cents > 1200 * np.log2(1.2)).mean()) if both.any() else float("nan")}


def speech_samples(tmp: Path) -> dict[str, np.ndarray]:
    """10 s of speech: espeak-ng always; FluencyBank clips (real interviews) where the data folder is here."""
    out = {}
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is not None:
        wav = tmp / "espeak.wav"
        subprocess.run([exe, "-v", "en-us", "-s", "150", "-w", str(wav), SENTENCE], check=True)
        audio = load_audio(wav)
        out["espeak-ng, en-us"] = np.resize(audio, int(MAX_VIEW_SECONDS * SAMPLE_RATE))  # repeated up to 10 s
    if CLIPS.is_dir():
        clips = sorted(CLIPS.glob("*.flac"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))[:4]
        audio = np.concatenate([load_audio(p) for p in clips])
        out["FluencyBank 010, 4 clips"] = audio[:int(MAX_VIEW_SECONDS * SAMPLE_RATE)]
    return out


def in_the_widgets(wav: Path, duration: float) -> dict:
    """Milliseconds, medians: a scroll to the pitch drawn (REPEATS); a 10 s redraw with and without pitch (3 x REPEATS)."""
    from PySide6.QtWidgets import QApplication

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(AppSettings(device="cpu", show_spectrogram=True, show_pitch=True))
    window.resize(1280, 720)
    window.show()
    window.open_file(wav, analyse=False)
    view, waveform = window.page.spectrogram, window.page.waveform
    _wait(app, lambda: view.spectrogram is not None)
    span = MAX_VIEW_SECONDS
    starts = np.linspace(0.0, duration - span, REPEATS + 1)  # each view 2 / 3 of a view past the last: not cached

    def to_pitch(lo: float) -> float:
        t = time.perf_counter()
        waveform.setXRange(lo, lo + span, padding=0)
        view.redraw()  # what the range timer does
        _wait(app, lambda: view.pitch_job is None and view.pitch_range[0] <= lo)
        app.processEvents()
        return time.perf_counter() - t

    def redraw(lo: float) -> float:
        t = time.perf_counter()
        waveform.setXRange(lo, lo + span, padding=0)
        view.redraw()
        app.processEvents()
        window.grab()
        return time.perf_counter() - t

    scroll = [to_pitch(lo) for lo in starts]
    # Views inside the last computed range (drawn from the cache), each scrolled from the one before; pitch on
    # and off in turn, so that a change in the machine's load hits both alike.
    near = starts[-1] - np.linspace(0.0, span / 2, 6 * REPEATS)
    with_pitch, without = [], []
    for i, lo in enumerate(near):
        view.set_pitch_shown(i % 2 == 0)
        (without if i % 2 else with_pitch).append(redraw(lo))
    window.close()
    return {"scroll_to_pitch_ms": 1000 * statistics.median(scroll[1:]),
            "redraw_with_ms": 1000 * statistics.median(with_pitch), "redraw_without_ms": 1000 * statistics.median(without)}


def _wait(app, done) -> None:
    while not done():
        app.processEvents()
        time.sleep(0.001)


def main() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    print(f"CPU: {cpu}; load average at start {os.getloadavg()}")
    print("\nAccuracy on sounds of known F0 (1 s between 0.5 s silences):")
    for name, (samples, truth) in known_sounds().items():
        for who, fn in (*((v, lambda s, o=o: ours_f0(s, o)) for v, o in VARIANTS.items()), ("Praat", praat_f0)):
            a = accuracy(fn, samples, truth)
            print(f"  {name:27s} {who:27s}: voiced {100 * a['voiced_inside']:5.1f} % of the sound, largest error "
                  f"{a['max_error_pct']:.3f} %, voiced frames in the silences {a['voiced_in_silence']}")
    tmp = Path(tempfile.mkdtemp(prefix="stutterscope-pitch-"))
    os.environ["STUTTERSCOPE_DATA_DIR"] = str(tmp / "data")  # the window's drafts and sessions: thrown away after
    try:
        speech = speech_samples(tmp)
        print(f"\nSpeed on 10 s of speech, median of {REPEATS} (ms):")
        for name, samples in speech.items():
            praat = median_ms(lambda s=samples: praat_f0(s))
            ms = {v: median_ms(lambda s=samples, o=o: ours_f0(s, o)) for v, o in VARIANTS.items()}
            print(f"  {name:27s} Praat {praat:6.1f}; " + "; ".join(f"{v} {t:6.1f} ({t / praat:.2f} of Praat's)"
                                                                for v, t in ms.items()))
            shipped = ours_f0(samples)[1]
            for v, o in list(VARIANTS.items())[1:]:
                other = ours_f0(samples, o)[1]
                differ = ~((np.isnan(shipped) & np.isnan(other)) | (np.abs(shipped - other) < 0.01 * shipped))
                print(f"  {'':27s} {v}: {differ.sum()} of {len(shipped)} frames differ from ours by over 1 %")
            a = agreement(samples)
            print(f"  {'':27s} agreement with Praat over {a['frames']} frames: same voicing decision "
                  f"{100 * a['same_decision']:.1f} % (Praat voiced {100 * a['praat_voiced']:.0f} %); where both "
                  f"voiced, median difference {a['median_cents']:.1f} cents, over 20 % apart "
                  f"{100 * a['over_20pct']:.1f} % of frames")
        wav = tmp / "view.wav"
        long = np.resize(next(iter(speech.values())), 60 * SAMPLE_RATE)
        sf.write(wav, long, SAMPLE_RATE, subtype="PCM_16")
        span = MAX_VIEW_SECONDS
        view_ms = median_ms(lambda: pitch_of_range(wav, 25.0 - span / 2, 35.0 + span / 2))  # the view's margin
        print(f"\nA {span:.0f} s view in the app (read the WAV, compute {2 * span:.0f} s: the view and half a "
              f"view each side), median of {REPEATS}: {view_ms:.1f} ms")
        w = in_the_widgets(wav, len(long) / SAMPLE_RATE)
        print(f"In the widgets, median of {REPEATS}: scrolled past the cache to the new line drawn "
              f"{w['scroll_to_pitch_ms']:.1f} ms; a 10 s view's redraw (median of {3 * REPEATS}) {w['redraw_with_ms']:.1f} ms with the pitch "
              f"line, {w['redraw_without_ms']:.1f} ms without")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average at the end {os.getloadavg()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
