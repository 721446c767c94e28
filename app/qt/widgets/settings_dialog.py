"""Settings: the model file, the compute device and the window hop."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ..settings import DEVICES, AppSettings


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        self.model_edit = QLineEdit(settings.model_path)
        self.model_edit.setPlaceholderText("the bundled default model")
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._browse)
        model_row = QWidget()
        row = QHBoxLayout(model_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.model_edit)
        row.addWidget(browse)
        self.device_box = QComboBox()
        self.device_box.addItems(list(DEVICES))
        self.device_box.setCurrentText(settings.device)
        self.hop_box = QDoubleSpinBox()
        self.hop_box.setRange(0.25, 3.0)
        self.hop_box.setSingleStep(0.25)
        self.hop_box.setSuffix(" s")
        self.hop_box.setValue(settings.hop_seconds)
        self.hop_box.setToolTip("Step between the 3 s analysis windows: smaller is finer and slower")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("&Model file:", model_row)
        form.addRow("&Device:", self.device_box)
        form.addRow("Window &hop:", self.hop_box)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a model file", self.model_edit.text(),
                                              "StutterScope models (*.safetensors)")
        if path:
            self.model_edit.setText(path)

    def settings(self) -> AppSettings:
        return replace(self._settings, model_path=self.model_edit.text().strip(),
                       device=self.device_box.currentText(), hop_seconds=float(self.hop_box.value()))
