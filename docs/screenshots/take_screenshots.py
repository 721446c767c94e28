"""Screenshots of the main window after analysing a generated recording, at 1280x720 and 1920x1080 (Xvfb).

    xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python docs/screenshots/take_screenshots.py [--model M]

Writes main_window_1280x720.png and main_window_1920x1080.png next to this script (the README shows them).

Without the default model, a tiny random model is made so that the layout can still be shown.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

HERE = Path(__file__).resolve().parent
SIZES = ((1280, 720), (1920, 1080))  # the smallest screen the layout is made for, and a common desktop


def _model(arg: str | None, tmp: Path) -> str:
    from model.encoder.bundle import default_model_path, save_bundle

    if arg:
        return arg
    if default_model_path().is_file():
        return str(default_model_path())
    import torch

    from model.encoder.classifier import ClassifierConfig, EncoderDims, StutterClassifier
    from model.labels import LABELS

    torch.manual_seed(3)
    config = ClassifierConfig(dims=EncoderDims(n_audio_state=64, n_audio_head=2, n_audio_layer=2), head_hidden=32)
    path = tmp / "demo.safetensors"
    save_bundle(StutterClassifier(config).eval(), path, thresholds={label: 0.5 for label in LABELS})
    return str(path)


def _transcribe(window, app) -> None:
    """Transcribe as a clinician would (the Transcribe button) and put the playhead on a word, so the shots
    show the words, the moments on them and the word being played; without the offline weights the pane stays
    one line and the shots say nothing of words."""
    import time

    window.transcript.transcribe_button.click()
    while window.clinical.running:
        app.processEvents()
        time.sleep(0.05)
    words = window.clinical.data.words
    if not words:
        print("no words (is the Whisper base model installed?): the transcript pane is shown empty")
        return
    window.state.set_playhead(words[min(5, len(words) - 1)].start)  # as a click on the sixth word does
    print(len(words), "words; playhead on", repr(words[min(5, len(words) - 1)].text))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model")
    parser.add_argument("--recording", help="recording to analyse (default: the generated espeak-ng sample)")
    args = parser.parse_args()
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.qt.main_window import MainWindow
    from app.qt.settings import AppSettings
    from app.sample import make_sample

    tmp = Path(tempfile.mkdtemp(prefix="stutterscope-shots-"))
    os.environ["STUTTERSCOPE_DATA_DIR"] = str(tmp / "data")
    app = QApplication([])
    model_path = _model(args.model, tmp)
    demo_model = model_path == str(tmp / "demo.safetensors")
    window = MainWindow(AppSettings(model_path=model_path, device="cpu"))
    window.resize(*SIZES[0])
    window.show()
    window.open_file(args.recording or make_sample(tmp / "sample.wav"))
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if window.state.review is not None and not window.state.busy else None)
    timer.start(100)
    loop.exec()
    review = window.state.review
    if demo_model and review is not None:
        import numpy as np

        # The random demo model's probabilities sit near 0.5: cut each type at its own upper quartile
        # so that the spans are local, as a trained model's are.
        for j, label in enumerate(review.labels):
            review.set_threshold(label, round(float(np.quantile(review.preds.probs[:, j], 0.8)), 4))
    rows = window.state.rows
    if len(rows) > 2:
        review.accept(rows[0].key)
        review.reject(rows[1].key)
        window.state.select(rows[2].key)
        window.page.waveform.fit()
    _transcribe(window, app)
    for width, height in SIZES:
        window.resize(width, height)
        for _ in range(20):
            app.processEvents()
        window.page.waveform.fit()
        app.processEvents()
        out = HERE / f"main_window_{width}x{height}.png"
        window.grab().save(str(out))
        print("saved", out, window.size().width(), "x", window.size().height())


if __name__ == "__main__":
    main()
