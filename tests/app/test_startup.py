"""Start-up: the window is built without torch; torch and the model load in a worker after it shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_CHILD = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.qt.main_window import MainWindow
from app.qt.settings import AppSettings
window = MainWindow(AppSettings(model_path=sys.argv[1]))
window.show()
app.processEvents()
print("torch" in sys.modules)
"""


def test_the_window_shows_without_importing_torch(tmp_path, frame_bundle_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STUTTERSCOPE_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(frame_bundle_path)], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr[-2000:]


def test_the_model_preloads_after_the_window_and_serves_the_first_analysis(qtbot, app_settings, speech_wav):
    from test_main_window import ScriptedDialogs, analyse, make_window

    win = make_window(qtbot, app_settings, ScriptedDialogs())
    job = win.controller.preload()
    assert job is not None and win.controller.preload() is None  # once
    assert job.wait(120) and win.controller._predictor is not None
    predictor = win.controller._predictor
    analyse(qtbot, win, speech_wav)
    assert win.controller._predictor is predictor  # not loaded twice
