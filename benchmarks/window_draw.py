"""Seconds from an analysis of N moments being set to the whole main window painted (median of repeats).

Issue 23 item 7: the events table read every cell of every row to size its columns (Qt's default resize
precision is 1,000 rows), most of a 1,000-moment analysis's time to appear. Run from the repository root:
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/window_draw.py --moments 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moments", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(root), str(root / "tests" / "app")]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    folder = Path(tempfile.mkdtemp(prefix="stutterscope-window-draw-"))
    os.environ["STUTTERSCOPE_DATA_DIR"], os.environ["STUTTERSCOPE_LOG_DIR"] = str(folder / "data"), str(folder / "log")
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from test_main_window import ScriptedDialogs

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings
    from benchmarks.review_repaint import many_moments_predictions
    from model.folders import default_model_path
    from model.labels import LABELS

    win = MainWindow(AppSettings(model_path=str(default_model_path()), device="cpu"), dialogs=ScriptedDialogs())
    win.resize(1500, 940)
    win.show()
    app.processEvents()
    recording = folder / "moments.wav"
    recording.write_bytes(b"")  # only named: the analysis is put on directly
    times = []
    for _ in range(args.repeats):
        predictions = many_moments_predictions(args.moments, path=str(recording))
        win.state.set_recording(recording)
        start = time.perf_counter()
        win.state.set_predictions(predictions, {label: 0.5 for label in LABELS})
        app.processEvents()
        win.repaint()
        app.processEvents()
        times.append(time.perf_counter() - start)
    win.state.review = None
    print(f"{args.moments} moments on the whole window: median {statistics.median(times):.3f} s "
          f"({', '.join(f'{t:.3f}' for t in times)}); load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
