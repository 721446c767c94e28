"""One colour per disfluency type, as hex text (Okabe-Ito: told apart with the common colour-vision deficiencies).

Qt-free, so that the reports (app/reports/style.py) and the widgets (app/qt/widgets/colors.py) share it.
"""

from __future__ import annotations

LABEL_COLORS = {
    "Prolongation": "#E69F00",
    "Block": "#D55E00",
    "SoundRep": "#0072B2",
    "WordRep": "#009E73",
    "Interjection": "#CC79A7",
}
