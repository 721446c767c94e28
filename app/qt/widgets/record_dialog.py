"""Recording: choose a microphone, watch the level and the time, stop to analyse what was recorded."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QComboBox, QDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from ..recorder import NO_MICROPHONE, AudioSource, Microphone, Recorder


class RecordDialog(QDialog):
    """`make_source(device_id)` builds the audio source (tests pass a fake); raises ValueError when none."""

    def __init__(self, recorder: Recorder, mics: list[Microphone], make_source: Callable[[str], AudioSource],
                 *, device_id: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Record")
        self.recorder = recorder
        self.make_source = make_source
        self.path = None
        self.device_box = QComboBox()
        for mic in mics:
            self.device_box.addItem(mic.name, mic.id)
        index = self.device_box.findData(device_id)
        self.device_box.setCurrentIndex(max(index, 0))
        self.meter = QProgressBar()
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setAccessibleName("Input level")
        self.clock = QLabel("0:00")
        self.status = QLabel("" if mics else NO_MICROPHONE)
        self.status.setWordWrap(True)
        self.start_button = QPushButton("&Start")
        self.stop_button = QPushButton("S&top and analyse")
        self.stop_button.setEnabled(False)
        self.start_button.setEnabled(bool(mics))
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("&Microphone:", buddy=self.device_box))
        layout.addWidget(self.device_box)
        level = QHBoxLayout()
        level.addWidget(self.meter, 1)
        level.addWidget(self.clock)
        layout.addLayout(level)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        recorder.level.connect(lambda v: self.meter.setValue(int(100 * v)))
        recorder.elapsed.connect(self._tick)
        recorder.failed.connect(self._failed)

    def start(self) -> bool:
        try:
            source = self.make_source(self.device_box.currentData() or "")
            self.path = self.recorder.start(source)
        except (ValueError, OSError) as e:
            self.status.setText(str(e))
            return False
        self.status.setText(f"Recording to {self.path}")
        self.start_button.setEnabled(False)
        self.device_box.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.stop_button.setFocus()
        return True

    def _tick(self, seconds: float) -> None:
        self.clock.setText(f"{int(seconds // 60)}:{int(seconds % 60):02d}")

    def _failed(self, text: str) -> None:
        self.status.setText(text)
        self.stop_button.setEnabled(False)
        self.start_button.setEnabled(True)

    def stop(self) -> None:
        self.path = self.recorder.stop()
        self.accept()

    def reject(self) -> None:  # closing the dialog keeps what was recorded
        if self.recorder.recording:
            self.path = self.recorder.stop()
        super().reject()
