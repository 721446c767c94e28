"""Colours as a row of swatches beside a plot, never on top of what it shows."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .colors import label_color

SWATCH = "■"  # a filled square in the type's colour


class TypeLegend(QWidget):
    """One swatch and name per entry; colors maps a name to "#rrggbb" (default: the type's colour)."""

    def __init__(self, labels: tuple[str, ...], parent=None, *, colors: dict[str, str] | None = None,
                 note: str = "each type has its own lane; rejected events are faint"):
        super().__init__(parent)
        self.setObjectName("type_legend")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.entries: dict[str, QLabel] = {}
        for label in labels:
            color = (colors or {}).get(label) or label_color(label).name()
            entry = QLabel(f'<span style="color: {color}; font-size: 14pt;">{SWATCH}</span> {label}')
            entry.setAccessibleName(f"{label} colour")
            layout.addWidget(entry)
            self.entries[label] = entry
        layout.addStretch(1)
        if note:
            hint = QLabel(note)
            hint.setStyleSheet("color: #555555;")
            layout.addWidget(hint)
