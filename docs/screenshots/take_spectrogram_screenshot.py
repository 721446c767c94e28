"""A screenshot of the main window with the spectrogram under the waveform, at 1280x720 (Xvfb).

    xvfb-run -a -s "-screen 0 1280x720x24" .venv/bin/python docs/screenshots/take_spectrogram_screenshot.py [--model M]

Writes spectrogram_1280x720.png next to this script: the generated espeak-ng sample analysed, View >
Spectrogram on, zoomed to a few seconds around the first event so that the words' formants show, with the
pitch line (drawn for views of 10 s or less, computed in a worker: the shot waits for it).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from take_screenshots import HERE, _model  # after the path is set

SIZE = (1280, 720)
VIEW_SECONDS = 5.0  # a few words: the formants and the gaps between words are visible


def _wait(app, done) -> None:
    while not done():
        app.processEvents()
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model file (default: the bundled one, or a tiny random one)")
    model = parser.parse_args().model
    tmp = Path(tempfile.mkdtemp(prefix="stutterscope-spectrogram-shot-"))
    os.environ["STUTTERSCOPE_DATA_DIR"] = str(tmp / "data")  # before the app reads it
    from PySide6.QtWidgets import QApplication

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings
    from app.sample import make_sample

    app = QApplication([])
    settings = AppSettings(model_path=_model(model, tmp), device="cpu", show_spectrogram=True)  # as left on
    window = MainWindow(settings)
    window.resize(*SIZE)
    window.show()
    window.open_file(make_sample(tmp / "sample.wav"))
    _wait(app, lambda: window.state.review is not None and not window.state.busy)
    _wait(app, lambda: window.page.spectrogram.spectrogram is not None)
    rows = window.state.rows
    centre = (rows[0].start + rows[0].end) / 2 if rows else window.state.duration / 2
    if rows:
        window.state.select(rows[0].key)
    start = max(0.0, centre - VIEW_SECONDS / 2)
    window.page.waveform.setXRange(start, start + VIEW_SECONDS, padding=0)
    window.state.set_playhead(centre)
    _wait(app, window.page.spectrogram.pitch_drawn)
    for _ in range(20):
        app.processEvents()
        time.sleep(0.02)
    out = HERE / f"spectrogram_{SIZE[0]}x{SIZE[1]}.png"
    window.grab().save(str(out))
    print("saved", out, window.size().width(), "x", window.size().height())


if __name__ == "__main__":
    main()
