"""Not the client, on the waveform: in this mode a left-button drag marks a stretch (interviewer, parent).

The stretches are grey bands across all lanes (blue-grey while they stand as the speakers' proposal made them:
app.clinical.ClinicalData.automatic); the counts, measures, moments and words leave them out
(app.qt.clinical_state, app.review). With the mode on, a click inside a band gives it back to the client. Off,
the waveform pans and selects as before: the mode takes the drag only while it is on. Without a mouse,
MARK_KEY at the playhead starts a stretch and MARK_KEY again ends it (`mark_at`); Ctrl+Z undoes either way.
A right-click on the waveform, in the mode or not, opens `context_menu` there: "This voice is the client" (the
voice speaking there, once the speakers are found: ClinicalState.client_at) and, on a grey band, "Give this
stretch back to the client".
"""

from __future__ import annotations

import contextlib

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMenu

from ..clinical_state import ClinicalState
from .waveform import WaveformView, snap

BAND = QColor(110, 110, 110, 90)  # see-through grey: the waveform under it stays visible
PROPOSED_BAND = QColor(95, 110, 140, 90)  # blue-grey: a stretch as the speakers' proposal made it, unchanged
PREVIEW = QColor(110, 110, 110, 50)
MARK_KEY = "S"  # the Review menu's key: a stretch's start, then its end, at the playhead


class ExcludeDrag:
    """Adds the not-the-client mode to a WaveformView."""

    def __init__(self, waveform: WaveformView, clinical: ClinicalState):
        self.waveform = waveform
        self.clinical = clinical
        self.enabled = False
        self.bands: list[pg.LinearRegionItem] = []
        self._preview: pg.LinearRegionItem | None = None
        self.pending: float | None = None  # a stretch started from the keyboard (seconds), until its end
        self._marker: pg.InfiniteLine | None = None
        self.menu: QMenu | None = None  # the right-click menu last opened (kept: a popup outlives the click)
        self._vb = waveform.getPlotItem().vb
        self._pan = self._vb.mouseDragEvent  # the view's own drag (panning), used when the mode is off
        self._vb.mouseDragEvent = self._drag
        waveform.scene().sigMouseClicked.connect(self._clicked)
        clinical.changed.connect(self.redraw)
        clinical.state.recording_changed.connect(self.cancel_mark)

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.waveform.setToolTip("Drag over speech that is not the client's; click a grey band to undo it"
                                 if on else "")

    def mark_at(self, seconds: float) -> str:
        """The keyboard way: the first call starts a stretch at `seconds`, the second ends it there (an undo
        step). Returns what happened, for the status line; ValueError (nothing marked, the start kept) when
        the two are closer than a stretch can be."""
        seconds = float(seconds)
        if self.pending is None:
            self.pending = seconds
            self._marker = pg.InfiniteLine(seconds, pen=pg.mkPen(BAND, width=3))
            self.waveform.addItem(self._marker)
            return (f"Not the client from {seconds:.2f} s: move the playhead to where it ends and press "
                    f"{MARK_KEY} again")
        start = self.pending
        self.clinical.exclude(min(start, seconds), max(start, seconds))
        self.cancel_mark()
        return f"Not the client: {min(start, seconds):.2f}-{max(start, seconds):.2f} s (Ctrl+Z undoes it)"

    def cancel_mark(self) -> None:
        """Forget a stretch started from the keyboard (a new recording, or Escape)."""
        self.pending = None
        if self._marker is not None:
            self.waveform.removeItem(self._marker)
            self._marker = None

    def redraw(self) -> None:
        for band in self.bands:
            self.waveform.removeItem(band)
        self.bands = []
        automatic = set(self.clinical.data.automatic())
        for start, end in self.clinical.data.excluded:
            colour = PROPOSED_BAND if (start, end) in automatic else BAND
            band = pg.LinearRegionItem((start, end), movable=False, brush=colour, pen=pg.mkPen(colour))
            band.setZValue(-20)  # under the event spans
            self.waveform.addItem(band)
            self.bands.append(band)

    def _drag(self, ev, axis=None) -> None:
        if not self.enabled or ev.button() != pg.QtCore.Qt.MouseButton.LeftButton:
            self._pan(ev, axis=axis)
            return
        ev.accept()
        x0 = float(self._vb.mapToView(ev.buttonDownPos()).x())
        x1 = float(self._vb.mapToView(ev.pos()).x())
        if self._preview is None:
            self._preview = pg.LinearRegionItem((x0, x1), movable=False, brush=PREVIEW)
            self.waveform.addItem(self._preview)
        self._preview.setRegion((min(x0, x1), max(x0, x1)))
        if ev.isFinish():
            self.waveform.removeItem(self._preview)
            self._preview = None
            start, end = snap(min(x0, x1)), snap(max(x0, x1))
            QTimer.singleShot(0, lambda: self._exclude(start, end))  # after pyqtgraph is done with the event

    def _exclude(self, start: float, end: float) -> None:
        with contextlib.suppress(ValueError):  # a drag of a few pixels is a click: nothing to mark
            self.clinical.exclude(start, end)

    def context_menu(self, seconds: float) -> QMenu:
        """The right-click menu at `seconds` on the waveform (built, not shown)."""
        menu = QMenu(self.waveform)
        client = menu.addAction("This voice is the client", lambda: self.clinical.client_at(seconds))
        client.setToolTip("The voice speaking here is the client; every other voice's stretches are left out")
        if self.clinical.data.stretch_at(seconds) is not None:
            menu.addAction("Give this stretch back to the client", lambda: self.clinical.include_at(seconds))
        return menu

    def _clicked(self, event) -> None:
        button = event.button()
        if button == pg.QtCore.Qt.MouseButton.RightButton:
            event.accept()
            self.menu = self.context_menu(float(self._vb.mapSceneToView(event.scenePos()).x()))
            self.menu.popup(event.screenPos().toPoint())
            return
        if not self.enabled or button != pg.QtCore.Qt.MouseButton.LeftButton:
            return
        t = float(self._vb.mapSceneToView(event.scenePos()).x())
        if self.clinical.data.stretch_at(t) is not None:
            QTimer.singleShot(0, lambda: self.clinical.include_at(t))
