"""One colour per disfluency type (Okabe-Ito: told apart with the common colour-vision deficiencies)."""

from __future__ import annotations

from PySide6.QtGui import QColor

LABEL_COLORS = {
    "Prolongation": "#E69F00",
    "Block": "#D55E00",
    "SoundRep": "#0072B2",
    "WordRep": "#009E73",
    "Interjection": "#CC79A7",
}
_FALLBACK = "#777777"


def label_color(label: str, alpha: int = 255) -> QColor:
    color = QColor(LABEL_COLORS.get(label, _FALLBACK))
    color.setAlpha(alpha)
    return color
