"""How fast the app shows a long recording: envelope computation, zoom and full-view redraws.

Run: `.venv/bin/python benchmarks/waveform.py [RECORDING]` (default: a generated 1-hour WAV), offscreen.
The waveform draws a min/max envelope (10 ms bins, computed in blocks), never the raw samples.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.inference import write_long_wav

    tmp = Path(tempfile.mkdtemp(prefix="stutterscope-wave-"))
    os.environ["STUTTERSCOPE_DATA_DIR"] = str(tmp / "data")
    recording = Path(sys.argv[1]) if len(sys.argv) > 1 else tmp / "one_hour.wav"
    if not recording.exists():
        write_long_wav(recording, 3600.0)

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings

    app = QApplication([])
    window = MainWindow(AppSettings(device="cpu"))
    window.resize(1500, 940)
    window.show()
    t0 = time.perf_counter()
    window.open_file(recording, analyse=False)
    loop, timer = QEventLoop(), QTimer()
    timer.timeout.connect(lambda: loop.quit() if window.state.envelope is not None and not window.state.busy else None)
    timer.start(10)
    loop.exec()
    envelope_s = time.perf_counter() - t0

    def redraw(action) -> float:
        t = time.perf_counter()
        action()
        app.processEvents()
        window.grab()
        return time.perf_counter() - t

    zooms = [redraw(lambda f=f: window.page.waveform.zoom(f)) for f in (4, 4, 4, 0.25, 0.25, 0.25)]
    fits = [redraw(window.page.waveform.fit) for _ in range(3)]
    print(f"{recording.name}: envelope {envelope_s:.2f} s; zoom + redraw median {statistics.median(zooms) * 1000:.0f} ms; "
          f"whole-recording redraw median {statistics.median(fits) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
