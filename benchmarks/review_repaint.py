"""How long one review decision takes on screen: accept, reject or retype with 200 and 1,000 moments.

Run: `nice -n 15 .venv/bin/python benchmarks/review_repaint.py [--repeats N] [--out PATH | --no-write]` (offscreen).
Each decision is timed end to end: the review's change, every widget's reaction to it (spans, timeline,
table, summary, the draft written to disk) and the Qt event processing that follows, repaints included,
as the clinician waits for it. Prints the medians and writes benchmarks/results/review_repaint.md
(or --out PATH).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "review_repaint.md"
SIZES = (200, 1000)  # moments in the analysis
REPEATS = 15  # decisions of each kind per size (--repeats N), the median reported
EVENT_ROUNDS = 3  # processEvents calls after a decision: pyqtgraph queues its scene update, which queues the paint
SPACING_SECONDS = 3  # one second of a moment, then two without: every moment apart from the next


def many_moments_predictions(moments: int, *, path: str):
    """Frame predictions that decode into `moments` one-second moments, the four stuttering types in turn,
    each two seconds apart from the next."""
    from model.labels import LABELS
    from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
    from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions

    rate = 50  # 20 ms frames
    n = moments * SPACING_SECONDS * rate
    probs = np.full((n, len(FRAME_CHANNELS)), 0.05, np.float32)  # (frames, channels)
    for k in range(moments):
        rows = slice(k * SPACING_SECONDS * rate, (k * SPACING_SECONDS + 1) * rate)
        probs[rows, 0] = probs[rows, 1 + k % 4] = 0.9  # the moment channel, and LABELS[k % 4]: a stuttering type
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=probs, frame_rate=float(rate), duration=n / rate,
                              windows=FrameWindows(), n_windows=1, model_id="b" * 64, path=path)
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(),
                                         model_thresholds={label: 0.5 for label in LABELS})


def show_moments(window, moments: int, recording: Path) -> None:
    """Put an analysis of `moments` moments of `recording` on the window, as opening it would."""
    from model.labels import LABELS

    window.state.set_recording(recording)
    window.state.set_predictions(many_moments_predictions(moments, path=str(recording)),
                                 {label: 0.5 for label in LABELS})
    assert len(window.state.rows) == moments, f"{len(window.state.rows)} rows for {moments} moments"


def decide(window, kind: str, i: int) -> None:
    """The i-th decision of a kind, on a row in the middle of the recording (each on a fresh row)."""
    review, rows = window.state.review, window.state.rows
    row = rows[len(rows) // 4 + i]
    if kind == "accept":
        review.accept(row.key)
    elif kind == "reject":
        review.reject(row.key)
    else:
        review.retype(row.key, "Block" if row.label != "Block" else "Prolongation")


def time_decision(app, window, kind: str, i: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one decision (the CPU time says the same on a loaded machine)."""
    t, cpu = time.perf_counter(), time.process_time()
    decide(window, kind, i)
    for _ in range(EVENT_ROUNDS):
        app.processEvents()  # the queued updates, then the repaint of what they marked, as on screen
    return time.perf_counter() - t, time.process_time() - cpu


class Unattended:
    """The window's dialogs, answered No without a modal box: nothing waits for a person."""

    def message(self, level: str, text: str) -> None:
        print(f"{level}: {text}", file=sys.stderr)

    def ask(self, text: str) -> bool:
        return False


def measure(app, window, moments: int, folder: Path, repeats: int) -> dict[str, tuple[float, float]]:
    recording = folder / f"moments-{moments}.wav"
    recording.write_bytes(b"")  # the analysis is put on directly; the file only has to exist for the draft
    show_moments(window, moments, recording)
    app.processEvents()
    window.grab()  # everything painted once before the decisions
    out = {}
    for n, kind in enumerate(("accept", "reject", "retype")):
        times = [time_decision(app, window, kind, n * repeats + i) for i in range(repeats)]
        out[kind] = tuple(statistics.median(t[j] for t in times) for j in (0, 1))
        print(f"{moments} moments, {kind}: median {out[kind][0] * 1000:.0f} ms ({out[kind][1] * 1000:.0f} ms CPU)",
              file=sys.stderr)
    return out


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cpu = platform.processor() or platform.machine()
    try:
        names = [ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                 if ln.startswith("model name")]
        cpu = f"{names[0]} x {len(names)}" if names else cpu
    except OSError:
        pass
    return f"{cpu}; load average {load}"


def main() -> None:
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="stutterscope-repaint-"))
    os.environ["STUTTERSCOPE_DATA_DIR"] = str(tmp / "data")

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    window = MainWindow(AppSettings(device="cpu"), dialogs=Unattended())
    window.resize(1500, 940)
    window.show()
    repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else REPEATS
    where = machine()
    results = {m: measure(app, window, m, tmp, repeats) for m in SIZES}
    window.state.review = None  # nothing to ask about on closing
    lines = ["# One review decision, end to end (benchmarks/review_repaint.py)", "",
             f"Machine: {where}. Offscreen window 1500x940; median of {repeats} decisions of each kind; "
             "each from the review's change through every widget's update and the Qt event processing (repaints "
             f"included, {EVENT_ROUNDS} rounds).",
             "", "Wall-clock ms (CPU ms of the process in brackets: less sensitive to the load).", "",
             "| moments | accept | reject | retype |", "|---|---|---|---|"]
    for m, r in results.items():
        lines.append(f"| {m} | " + " | ".join(f"{r[k][0] * 1000:.0f} ({r[k][1] * 1000:.0f})"
                                              for k in ("accept", "reject", "retype")) + " |")
    text = "\n".join(lines) + "\n"
    print(text)
    if "--no-write" not in sys.argv:
        out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else RESULTS
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
