"""Is this Qt binding safe? A check for the reference-count bug that aborted the app.

PySide6 6.12.0 drops one reference to None each time C++ calls a Python override that returns None
(`paint`, `itemChange`, ...): every repaint of a pyqtgraph item does that, so on Python 3.11 (where
None is not immortal) None's count reaches zero after a few minutes of use and the process aborts
with `Fatal Python error: none_dealloc` wherever it happens to be (pyqtgraph's AxisItem.drawPicture,
the waveform's span rebuild, ...). Measured with this module (tests/app/test_crash_guard.py): 3.0
references lost per render of one Python item on 6.12.0, 0.0 on 6.11.3 (docs/crashes.md). pyproject.toml pins a good version; this check tells a user whose
environment has a bad one, instead of letting it abort later.
"""

from __future__ import annotations

import gc
import sys

PAINTS = 40  # enough to tell -1 per paint from noise; ~10 ms


def none_refs_lost_per_paint(paints: int = PAINTS) -> float:
    """References to None lost per Python paint() override call (0.0 for a sound binding).

    Needs a QGuiApplication. Paints one Python QGraphicsObject into an image `paints` times.
    """
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QGraphicsObject, QGraphicsScene

    class _Probe(QGraphicsObject):
        def boundingRect(self) -> QRectF:
            return QRectF(0, 0, 4, 4)

        def paint(self, painter, option, widget=None) -> None:
            painter.drawRect(self.boundingRect())

    scene = QGraphicsScene()
    probe = _Probe()
    scene.addItem(probe)
    image = QImage(8, 8, QImage.Format.Format_RGB32)

    def render() -> None:
        painter = QPainter(image)
        scene.render(painter)
        painter.end()

    render()  # first paint: caches filled outside the measurement
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(paints):
        render()
    gc.collect()
    lost = (before - sys.getrefcount(None)) / paints
    scene.removeItem(probe)
    return max(lost, 0.0)


def binding_problem() -> str | None:
    """A sentence for the user when the Qt binding has the bug, else None."""
    import PySide6

    lost = none_refs_lost_per_paint()
    if lost < 0.5:
        return None
    return (f"This installation's PySide6 {PySide6.__version__} has a reference-count bug (it loses "
            f"{lost:.1f} reference to None per repaint) that makes StutterScope abort after some minutes "
            "of use. Reinstall StutterScope, or run `pip install PySide6-Essentials==6.11.3 "
            "PySide6-Addons==6.11.3`. Save your work often until then.")
