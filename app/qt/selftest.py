"""`stutterscope --self-test`: prove that an installed (frozen) app works, without a user.

It shows the main window (offscreen too) and times it from process start, loads the default model,
analyses a generated recording (numpy only: no espeak or network in a frozen app), checks that the
windows, probabilities, events and summary are sane, and prints one line of JSON. Exit status 0 means
every check passed. installer/smoke.sh runs it on the built app; it is also useful on a user's machine.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from model.folders import selftest_out
from model.jsonable import dumps

log = logging.getLogger(__name__)

_IMPORTED_AT = time.perf_counter()  # fallback clock where the process start time is unknown
WINDOW_LIMIT_S = 5.0  # the main window must be shown within this many seconds of launch
RECORDING_SECONDS = 15.0  # the generated recording's length
RECORDING_RATE = 22_050  # Hz; not the model's rate, so resampling is exercised too
_SHOW_WAIT_S = 2.0  # how long to pump events for the window's first show


class SelfTestFailure(RuntimeError):
    """A check of the self-test did not hold; the message says which and what was seen."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestFailure(message)


def seconds_since_launch() -> tuple[float, str]:
    """Seconds since this process started, and what they count from.

    On Linux the kernel's start time of the process covers the frozen app's bootloader and Python's
    start-up; elsewhere the clock starts when this module was imported.
    """
    try:
        stat = Path("/proc/self/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return time.perf_counter() - _IMPORTED_AT, "selftest-import"
    fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd on; the command name may hold spaces
    start_ticks = int(fields[19])  # field 22: start time in clock ticks after boot
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK"), "process-start"


def synthetic_speech(seconds: float = RECORDING_SECONDS, rate: int = RECORDING_RATE, seed: int = 0) -> np.ndarray:
    """A speech-like mono float32 signal: voiced syllables (harmonics of a gliding pitch) and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120.0 + 15.0 * np.sin(2 * np.pi * 0.4 * t)  # Hz, a slow intonation contour
    phase = 2 * np.pi * np.cumsum(f0) / rate
    # Harmonics with a falling spectrum, and two formant-like peaks near 500 and 1500 Hz.
    voiced = sum((1.0 / k + 0.6 * np.exp(-((k * 120 - 500) / 150) ** 2)
                  + 0.3 * np.exp(-((k * 120 - 1500) / 250) ** 2)) * np.sin(k * phase) for k in range(1, 25))
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0.0, None) ** 0.5  # ~4 syllables per second
    pauses = ((t % 5.0) < 4.0).astype(np.float64)  # speak 4 s, pause 1 s
    audio = voiced * syllables * pauses + 0.003 * rng.standard_normal(len(t))
    return (0.5 * audio / np.abs(audio).max()).astype(np.float32)


def write_recording(path: Path) -> Path:
    import soundfile as sf

    sf.write(str(path), synthetic_speech(), RECORDING_RATE, subtype="PCM_16")
    return path


def show_main_window() -> dict:
    """Create the app's main window (as a launch does), show it and time it; returns the timings."""
    from PySide6.QtWidgets import QApplication

    from app.qt.workers import collect_garbage_on_gui_thread

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    qapp._gc_timer = collect_garbage_on_gui_thread()  # as a launch does (app/qt/launch.py)
    started = time.perf_counter()
    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings

    # Default settings kept in memory (store=None): the test never touches the user's settings.
    window = MainWindow(AppSettings(), store=None)
    window.resize(1400, 900)
    window.show()
    deadline = time.perf_counter() + _SHOW_WAIT_S
    while not window.isVisible() and time.perf_counter() < deadline:
        qapp.processEvents()
    qapp.processEvents()
    since_launch, clock = seconds_since_launch()
    _check(window.isVisible(), "the main window was not shown")
    build_s = time.perf_counter() - started
    window.close()
    qapp.processEvents()
    return {"window_shown_s": round(since_launch, 3), "window_clock": clock, "window_build_s": round(build_s, 3),
            "qt_platform": qapp.platformName()}


def check_predictions(preds, labels: tuple[str, ...], duration: float) -> None:
    """The frame predictions (model.moments.frame_inference.MomentPredictions): one row per 20 ms encoder token."""
    from model.audio.decode import SAMPLE_RATE, TOKEN_SAMPLES

    expected = -(-int(round(duration * SAMPLE_RATE)) // TOKEN_SAMPLES)
    _check(preds.probs.shape == (expected, len(labels)),
           f"probabilities have shape {preds.probs.shape}, expected {(expected, len(labels))}")
    _check(bool(np.isfinite(preds.probs).all()), "some probabilities are NaN or infinite")
    _check(bool(((preds.probs >= 0) & (preds.probs <= 1)).all()), "some probabilities lie outside [0, 1]")
    _check(abs(preds.duration - duration) < 0.05, f"decoded {preds.duration:.3f} s of a {duration:.3f} s recording")
    _check(bool((np.diff(preds.starts) > 0).all()) and preds.starts[0] == 0.0, "frame starts are not increasing from 0")


def check_events(events, summary, preds) -> None:
    for e in events:
        _check(e.label in preds.labels and 0.0 <= e.start < e.end <= preds.duration + 1e-6
               and 0.0 <= e.confidence <= 1.0, f"implausible event {e}")
    _check(summary.duration == round(preds.duration, 3), f"summary over {summary.duration} s, not {preds.duration}")
    _check(summary.sld_count + summary.interjection_count == len(events), "summary counts disagree with the events")
    _check(0.0 <= summary.sld_time_share <= 1.0, f"SLD time share {summary.sld_time_share} outside [0, 1]")
    values = [summary.sld_per_minute, summary.interjection_per_minute, *summary.per_minute.values()]
    _check(all(math.isfinite(v) and v >= 0 for v in values), "summary rates are negative or not finite")


def analyse_recording() -> dict:
    """Load the default model, analyse a generated recording and check everything; returns facts.

    Never imports torch: the desktop build has none (installer/README.md); the engine is in the result.
    """
    from model.encoder.bundle import default_model_path, load_bundle
    from model.pipeline.analysis import analyse_recording as analyse
    from model.pipeline.inference import InferenceOptions, Predictor

    path = default_model_path()
    if not path.is_file():
        raise SelfTestFailure(f"the default model {path} is missing: the installation is incomplete "
                              "(or set STUTTERSCOPE_MODEL to a model file)")
    started = time.perf_counter()
    bundle = load_bundle(path, build_model=False)
    load_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="stutterscope-selftest-") as tmp:
        wav = write_recording(Path(tmp) / "selftest.wav")
        started = time.perf_counter()
        predictor = Predictor(bundle, options=InferenceOptions(device="cpu"))
        analysis = analyse(wav, predictor)  # the path every front end takes
        analyse_s = time.perf_counter() - started
    preds, events = analysis.predictions, analysis.events
    check_predictions(preds, predictor.labels, RECORDING_SECONDS)
    check_events(events, analysis.summary, preds)
    return {"model": str(path), "model_id": bundle.model_id, "model_app_version": bundle.metadata.get("app_version"),
            "engine": predictor.settings.get("engine"), "precision": predictor.settings["precision"],
            "frames": len(preds.starts), "duration_s": preds.duration, "events": len(events),
            "max_prob": round(float(preds.probs.max()), 4), "model_load_s": round(load_s, 3),
            "analysis_s": round(analyse_s, 3)}


def report(result: dict) -> None:
    """Print the result as one JSON line, and write it to $STUTTERSCOPE_SELFTEST_OUT when set.

    A windowed Windows or macOS app has no standard output, so the file is how a script reads it there.
    """
    line = dumps(result)
    print(line, flush=True)
    out = selftest_out()
    if out is not None:
        out.write_text(line + "\n", encoding="utf-8")


def run() -> int:
    """Run every check; report one JSON line; 0 when all passed."""
    from model import __version__

    result: dict = {"selftest": "stutterscope", "version": __version__, "frozen": bool(getattr(sys, "frozen", False))}
    try:
        result.update(show_main_window())
        result.update(analyse_recording())
        _check(result["window_shown_s"] <= WINDOW_LIMIT_S, f"the main window took {result['window_shown_s']:.2f} s "
               f"from launch to show (limit {WINDOW_LIMIT_S} s)")
    except (SelfTestFailure, ValueError, OSError) as e:
        log.error("self-test failed: %s", e)
        result.update(ok=False, error=f"{type(e).__name__}: {e}")
        report(result)
        return 1
    result["ok"] = True
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(run())
