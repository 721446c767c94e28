"""The types' colours (app/palette.py) as QColor."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.palette import LABEL_COLORS

__all__ = ["LABEL_COLORS", "label_color"]
_FALLBACK = "#777777"


def label_color(label: str, alpha: int = 255) -> QColor:
    color = QColor(LABEL_COLORS.get(label, _FALLBACK))
    color.setAlpha(alpha)
    return color
