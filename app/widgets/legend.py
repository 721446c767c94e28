"""The types' colours as a row of swatches beside the plots, never on top of the waveform."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .colors import label_color

SWATCH = "■"  # a filled square in the type's colour


class TypeLegend(QWidget):
    def __init__(self, labels: tuple[str, ...], parent=None):
        super().__init__(parent)
        self.setObjectName("type_legend")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.entries: dict[str, QLabel] = {}
        for label in labels:
            entry = QLabel(f'<span style="color: {label_color(label).name()}; font-size: 14pt;">{SWATCH}</span> '
                           f"{label}")
            entry.setAccessibleName(f"{label} colour")
            layout.addWidget(entry)
            self.entries[label] = entry
        layout.addStretch(1)
        note = QLabel("each type has its own lane; rejected events are faint")
        note.setStyleSheet("color: #555555;")
        layout.addWidget(note)
