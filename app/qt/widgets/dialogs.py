"""Every question and message the window puts to the user, in one replaceable object.

The tests give the window a scripted stand-in, so that no modal dialog ever blocks them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from model.audio.decode import AUDIO_EXTENSIONS
from model.folders import APP_NAME

AUDIO_FILTER = "Recordings ({});;All files (*)".format(" ".join(f"*{ext}" for ext in AUDIO_EXTENSIONS))


class Dialogs:
    def __init__(self, parent: QWidget | None = None):
        self.parent = parent

    def message(self, level: str, text: str) -> None:
        box = {"error": QMessageBox.critical, "warning": QMessageBox.warning}.get(level, QMessageBox.information)
        box(self.parent, APP_NAME, text)

    def ask(self, text: str) -> bool:
        answer = QMessageBox.question(self.parent, APP_NAME, text)
        return answer == QMessageBox.StandardButton.Yes

    def open_recording(self, folder: str) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open a recording", folder, AUDIO_FILTER)
        return Path(path) if path else None

    def open_model(self, folder: str) -> Path | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Choose a model file", folder,
                                              "StutterScope models (*.safetensors)")
        return Path(path) if path else None

    def save_path(self, title: str, suggested: str, file_filter: str) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return Path(path) if path else None
