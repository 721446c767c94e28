"""How long the moments take to appear: the waveform's spans and the timeline's bars, after an analysis is set
and after one threshold slider move, with 200, 1,000 and 5,000 moments (issue 23 item 7).

Run: `nice -n 15 .venv/bin/python benchmarks/spans_draw.py [--baseline REF] [--repeats N] [--out PATH | --no-write]`
(offscreen). The code at REF (default: the commit before the spans were drawn one item per type) is checked
out into a temporary `git worktree` and measured in its own interpreter, then the working tree's code, in
the same sitting; the worktree is removed afterwards. Each figure is the median of N tries. Writes
benchmarks/results/spans_draw.md (or --out PATH).

What is timed: the two plots alone (WaveformView and TimelineView on one AnalysisState, x-linked as in the
main window, 1500x400 offscreen, an envelope set first as opening a file does; fresh plots for each try),
from `AnalysisState.set_analysis` (the worker's finished analysis: its decoding is not timed) through the Qt
event processing and a full paint of both plots (`grab`). A slider move is `ReviewSession.set_threshold` of
the first type between 0.5 and 0.95, which takes a fifth of the moments away (their moment probability
below the raised onset) or brings them back; it includes the review's decoding of the moments again.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "spans_draw.md"
BASELINE = "88b252a"  # the last commit with one pyqtgraph region per span
SIZES = (200, 1000, 5000)  # moments in the analysis
REPEATS = 5  # tries per figure (--repeats N); the median is reported
SPACING_SECONDS = 3  # one second of a moment, then two without
FRAME_RATE = 50  # the model's 20 ms frames
EVENT_ROUNDS = 3  # processEvents calls after the change: pyqtgraph queues its scene update, which queues the paint


def _arg(name: str, default: str) -> str:
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def spread_moments(moments: int, *, path: str):
    """Frame predictions of `moments` one-second moments 3 s apart, the four stuttering types in turn, their
    moment probabilities spread over 0.55-0.95: a slider move takes some of them away or brings them back."""
    from model.labels import LABELS
    from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
    from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions

    frame = np.arange(moments * SPACING_SECONDS * FRAME_RATE)  # (frames,)
    k = frame // (SPACING_SECONDS * FRAME_RATE)  # the moment each frame belongs to
    inside = frame % (SPACING_SECONDS * FRAME_RATE) < FRAME_RATE  # its first second
    probs = np.full((len(frame), len(FRAME_CHANNELS)), 0.05, np.float32)  # (frames, channels)
    probs[inside, 0] = 0.55 + 0.4 * (k[inside] * 7 % 10) / 9  # the moment channel
    probs[inside, 1 + k[inside] % 4] = 0.9  # LABELS[k % 4], a stuttering type
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=probs, frame_rate=float(FRAME_RATE),
                              duration=len(frame) / FRAME_RATE, windows=FrameWindows(), n_windows=1,
                              model_id="s" * 64, path=path)
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(),
                                         model_thresholds={label: 0.5 for label in LABELS})


def _settle(app, plots) -> None:
    for _ in range(EVENT_ROUNDS):
        app.processEvents()
    for plot in plots:
        plot.grab()  # a full paint of each plot, as the screen shows it


def analysis_on_screen(moments: int, recording: Path):
    """(the finished analysis of `moments` spread moments, an envelope as long): what the plots are given."""
    from app.peaks import BUCKETS_PER_SECOND, Envelope
    from model.labels import LABELS
    from model.pipeline.analysis import analyse_predictions

    analysis = analyse_predictions(spread_moments(moments, path=str(recording)),
                                   {label: 0.5 for label in LABELS})  # the worker's part, not timed
    buckets = int(moments * SPACING_SECONDS * BUCKETS_PER_SECOND)
    level = np.abs(np.sin(np.arange(buckets) / 37.0)).astype(np.float32) * 0.3  # (buckets,) any shape will do
    return analysis, Envelope(mins=-level, maxs=level, duration=buckets / BUCKETS_PER_SECOND)


def first_draw(app, analysis, envelope, recording: Path):
    """Fresh plots shown with the recording's envelope, then timed from set_analysis to both painted:
    (seconds, the state, the plots, their widget: close it when done)."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from app.qt.state import AnalysisState
    from app.qt.widgets.waveform import TimelineView, WaveformView

    state, box = AnalysisState(), QWidget()
    plots = (WaveformView(state), TimelineView(state))
    plots[1].setXLink(plots[0])  # as the main window links them
    layout = QVBoxLayout(box)
    for plot in plots:
        layout.addWidget(plot)
    box.resize(1500, 400)
    box.show()
    state.set_recording(recording)
    state.set_envelope(envelope)
    _settle(app, plots)
    t = time.perf_counter()
    state.set_analysis(analysis)
    _settle(app, plots)
    return time.perf_counter() - t, state, plots, box


def _close(app, box) -> None:
    box.close()
    box.deleteLater()
    app.processEvents()


def measure_here(repeats: int) -> dict:
    """In a child interpreter whose sys.path starts at the code measured: {moments: {what: [seconds]}}."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from model.labels import LABELS

    app = QApplication.instance() or QApplication([])
    out = {}
    folder = Path(tempfile.mkdtemp(prefix="stutterscope-spans-"))
    for moments in SIZES:
        recording = folder / f"moments-{moments}.wav"
        analysis, envelope = analysis_on_screen(moments, recording)
        first, slider = [], []
        for i in range(repeats):  # each try on fresh plots: the first analysis they show
            seconds, state, plots, box = first_draw(app, analysis, envelope, recording)
            first.append(seconds)
            assert len(state.rows) == moments, f"{len(state.rows)} rows for {moments} moments"
            if i < repeats - 1:
                _close(app, box)
        for i in range(repeats):
            t = time.perf_counter()
            state.review.set_threshold(LABELS[0], 0.95 if i % 2 == 0 else 0.5)  # a fifth of the moments go or come
            _settle(app, plots)
            slider.append(time.perf_counter() - t)
            assert len(state.rows) == (moments * 4 // 5 if i % 2 == 0 else moments), len(state.rows)
        out[moments] = {"first draw": first, "slider move": slider}
        _close(app, box)
    shutil.rmtree(folder, ignore_errors=True)
    return out


def run_child(code_root: Path, repeats: int) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(code_root)}
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(code_root),
                           "--repeats", str(repeats)], env=env, capture_output=True, text=True, cwd=code_root)
    if done.returncode != 0:
        raise RuntimeError(f"the measurement of {code_root} failed:\n{done.stderr[-4000:]}")
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def machine() -> str:
    from benchmarks.review_repaint import machine as describe

    return describe()


def main() -> None:
    repeats = int(_arg("--repeats", str(REPEATS)))
    if "--child" in sys.argv:
        sys.path.insert(0, _arg("--child", str(ROOT)))
        print(json.dumps(measure_here(repeats)))
        return
    sys.path.insert(0, str(ROOT))
    baseline = _arg("--baseline", BASELINE)
    where = machine()
    tree = Path(tempfile.mkdtemp(prefix="stutterscope-baseline-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), baseline], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        before = run_child(tree, repeats)
        after = run_child(ROOT, repeats)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    where_after = machine()
    lines = ["# Moments on screen: first draw and one slider move (benchmarks/spans_draw.py)", "",
             f"Machine: {where} (at the start; {where_after.split('; ')[-1]} at the end). Offscreen, the waveform and "
             f"timeline plots (x-linked, 1500x400, fresh for each first draw); median of {repeats} tries; before = commit {baseline} (one pyqtgraph region "
             "per span), after = this code (one item per type, a region only for the selected span); both "
             "measured in the same sitting.", "",
             "| moments | first draw before | first draw after | ratio | slider move before | slider move after "
             "| ratio |", "|---|---|---|---|---|---|---|"]
    for m in SIZES:
        cells = []
        for what in ("first draw", "slider move"):
            b, a = statistics.median(before[m][what]), statistics.median(after[m][what])
            cells += [f"{b * 1000:.0f} ms", f"{a * 1000:.0f} ms", f"{b / a:.1f}x"]
        lines.append(f"| {m:,} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if "--no-write" not in sys.argv:
        out = Path(_arg("--out", str(RESULTS)))
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
