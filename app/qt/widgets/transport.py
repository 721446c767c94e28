"""The transport bar: play/pause, where the playhead is (m:ss.s of m:ss.s), speed, and looping an event."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from ...reports.html import clock  # m:ss.s, as the reports print times
from ..player import RATES, Player
from ..state import AnalysisState


class TransportBar(QWidget):
    def __init__(self, state: AnalysisState, player: Player, parent=None):
        super().__init__(parent)
        self.setObjectName("transport")
        self.state = state
        self.player = player
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play or pause from the playhead (Space)")
        self.play_button.clicked.connect(player.toggle)
        self.event_button = QPushButton("Play event")
        self.event_button.setToolTip("The selected event with half a second either side (E)")
        self.event_button.clicked.connect(lambda: player.play_event(state.selected_key))
        self.time = QLabel()
        self.time.setObjectName("transport_time")
        self.time.setAccessibleName("Playhead time")
        self.speed = QComboBox()
        self.speed.setAccessibleName("Playback speed")
        for rate in RATES:
            self.speed.addItem(f"{rate:g}x", rate)
        self.speed.setToolTip("Slower playback keeps the pitch")
        self.speed.currentIndexChanged.connect(lambda i: player.set_rate(self.speed.itemData(i)))
        self.loop = QCheckBox("&Loop event")
        self.loop.setToolTip("Play the selected event again and again until paused")
        self.loop.toggled.connect(lambda on: setattr(player, "loop", on))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for w in (self.play_button, self.event_button, self.time):
            layout.addWidget(w)
        layout.addStretch(1)
        layout.addWidget(QLabel("Speed"))
        layout.addWidget(self.speed)
        layout.addWidget(self.loop)
        state.playhead_changed.connect(self._show_time)
        state.recording_changed.connect(self._show_time)
        state.envelope_changed.connect(self._show_time)
        state.selection_changed.connect(lambda _key: self._enable())
        player.playing_changed.connect(lambda playing: self.play_button.setText("Pause" if playing else "Play"))
        self._show_time()

    def _show_time(self, *_) -> None:
        self.time.setText(f"{clock(self.state.playhead)} / {clock(self.state.duration)}")
        self._enable()

    def _enable(self) -> None:
        self.play_button.setEnabled(self.state.path is not None)
        self.event_button.setEnabled(bool(self.state.selected_key))
