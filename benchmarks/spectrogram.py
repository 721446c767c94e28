"""How fast and how big the spectrogram under the waveform is on a long recording, and what pitch would add.

Run: `nice -n 15 .venv/bin/python benchmarks/spectrogram.py [RECORDING]` (default: a generated 1-hour WAV of
noise bursts and tones, written to a temporary folder and deleted after), offscreen.

Measures, in the app as a clinician uses it: the time from View > Spectrogram to the image (computed in the
worker while the GUI runs), the memory it keeps (its arrays) and the process's peak growth while computing,
and the redraw of a 10 s view (scrolled) and of the whole recording. Then, on one 30 s block: the STFT, the
intensity beside it, and an autocorrelation F0 (what pitch would cost).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEATS = 5


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux gives kB


def _wait(app, done) -> None:
    while not done():
        app.processEvents()
        time.sleep(0.005)


def in_the_app(recording: Path) -> dict:
    from PySide6.QtWidgets import QApplication

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(AppSettings(device="cpu"))
    window.resize(1280, 720)
    window.show()
    window.open_file(recording, analyse=False)
    _wait(app, lambda: window.state.envelope is not None and not window.state.busy)
    view = window.page.spectrogram

    def redraw(lo: float, hi: float) -> float:
        t = time.perf_counter()
        window.page.waveform.setXRange(lo, hi, padding=0)
        view.redraw()  # what the view's range timer does (nothing while it is off)
        app.processEvents()
        window.grab()
        return time.perf_counter() - t

    rss_before = _peak_rss_mb()
    duration = window.state.duration
    ten_without = [redraw(s, s + 10.0) for s in np.linspace(60.0, duration - 70.0, REPEATS)]
    whole_without = [redraw(0.0, duration) for _ in range(REPEATS)]
    t0, cpu0 = time.perf_counter(), time.process_time()
    window.spectrogram_action.trigger()
    _wait(app, lambda: view.spectrogram is not None)
    compute_s, compute_cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    rss_growth = _peak_rss_mb() - rss_before


    ten = [redraw(s, s + 10.0) for s in np.linspace(60.0, duration - 70.0, REPEATS)]
    whole = [redraw(0.0, duration) for _ in range(REPEATS)]
    return {"duration_s": duration, "compute_s": compute_s, "compute_cpu_s": compute_cpu_s,
            "redraw_10s_without_ms": 1000 * statistics.median(ten_without),
            "redraw_whole_without_ms": 1000 * statistics.median(whole_without), "kept_mb": view.spectrogram.nbytes / 1e6,
            "levels": [level.shape for level in view.spectrogram.levels], "peak_rss_growth_mb": rss_growth,
            "redraw_10s_ms": 1000 * statistics.median(ten), "redraw_whole_ms": 1000 * statistics.median(whole)}


def autocorrelation_f0(frames: np.ndarray) -> np.ndarray:
    """F0 per frame (0 = unvoiced) from the autocorrelation's highest peak at 2.5-20 ms (400-50 Hz)."""
    from model.audio.decode import SAMPLE_RATE

    spectrum = np.fft.rfft(frames, n=1024, axis=1)  # (n, 513): zero-padded, so the correlation is not circular
    acf = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, : SAMPLE_RATE // 50 + 1]  # (n, 321) lags 0..20 ms
    lo = SAMPLE_RATE // 400
    lag = lo + acf[:, lo:].argmax(axis=1)
    voiced = acf[np.arange(len(acf)), lag] > 0.45 * np.maximum(acf[:, 0], 1e-12)
    return np.where(voiced, SAMPLE_RATE / lag, 0.0)


def per_block_costs() -> dict:
    """Seconds per 30 s block (median of REPEATS): the STFT, the intensity, and what pitch would add."""
    from app.spectrogram import STFT_HOP_SAMPLES, STFT_WINDOW_SAMPLES, frame_spectra
    from model.audio.decode import SAMPLE_RATE

    block = np.random.default_rng(0).normal(0, 0.1, 30 * SAMPLE_RATE).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(block, STFT_WINDOW_SAMPLES)[::STFT_HOP_SAMPLES]  # (3000, 400)

    def median_time(fn) -> float:
        times = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    return {"spectrogram_s": median_time(lambda: frame_spectra(block)),
            "intensity_s": median_time(lambda: np.einsum("ij,ij->i", frames, frames)),
            "pitch_s": median_time(lambda: autocorrelation_f0(frames))}


def main() -> None:
    from benchmarks.inference import write_long_wav

    tmp = Path(tempfile.mkdtemp(prefix="stutterscope-spectrogram-"))
    os.environ["STUTTERSCOPE_DATA_DIR"] = str(tmp / "data")
    try:
        recording = Path(sys.argv[1]) if len(sys.argv) > 1 else tmp / "one_hour.wav"
        if not recording.exists():
            write_long_wav(recording, 3600.0)
        app = in_the_app(recording)
        block = per_block_costs()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{recording.name}: {app['duration_s']:.0f} s of audio")
    print(f"spectrogram: {app['compute_s']:.1f} s to the image ({app['compute_cpu_s']:.1f} s CPU, all threads); "
          f"kept {app['kept_mb']:.0f} MB "
          f"(levels {app['levels']}); peak RSS grew {app['peak_rss_growth_mb']:.0f} MB while computing")
    print(f"redraw, median of {REPEATS}: 10 s view {app['redraw_10s_ms']:.0f} ms; "
          f"whole recording {app['redraw_whole_ms']:.0f} ms (spectrogram off: {app['redraw_10s_without_ms']:.0f} ms "
          f"and {app['redraw_whole_without_ms']:.0f} ms)")
    s = block["spectrogram_s"]
    print(f"per 30 s block: spectrogram {1000 * s:.0f} ms; intensity {1000 * block['intensity_s']:.1f} ms "
          f"({100 * block['intensity_s'] / s:.1f} %); autocorrelation pitch {1000 * block['pitch_s']:.0f} ms "
          f"({100 * block['pitch_s'] / s:.0f} %)")
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
