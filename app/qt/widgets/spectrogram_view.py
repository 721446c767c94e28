"""The spectrogram under the waveform: same time axis, the events' edges and the playhead drawn over it.

The spectrogram is computed in a Job (app.spectrogram, streamed, cancellable) when the view is shown
for a recording; each zoom or scroll draws only the visible columns at the level of detail that fits
the plot's width (Spectrogram.view). A cancelled or failed computation leaves the image empty, never
half drawn. Intensity (dB RMS) is the thin yellow line, the floor at the bottom and full scale at the top.

Pitch is the blue line, as in Praat, on its own scale (75 Hz at the bottom, 500 Hz at the top, labelled at the
right edge inside the plot, where an axis would make the plot narrower than the waveform's): like Praat's
editor, only for views of 10 s or less (app.pitch.MAX_VIEW_SECONDS), computed in a Job for the view and half a
view each side, so scrolling by up to half a view draws from the cache. Longer views say how to get it.
"""

from __future__ import annotations

import logging
from collections import defaultdict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer, Signal

from ...pitch import MAX_VIEW_SECONDS, PitchOptions, PitchTrack, pitch_of_range
from ...spectrogram import BIN_HZ, BINS, FLOOR_DB, STFT_HOP_SECONDS, Spectrogram, compute_spectrogram
from ..state import AnalysisState
from ..workers import Job
from .colors import label_color
from .waveform import LEFT_AXIS_WIDTH

log = logging.getLogger(__name__)

TOP_HZ = BINS * BIN_HZ  # 8,000 Hz: the image's top edge
DYNAMIC_RANGE_DB = 70.0  # shown below the recording's loudest point; quieter is white, as in Praat
INTENSITY_COLOR = (224, 160, 0, 170)  # Praat's yellow, see-through so the formants under it show
PITCH_COLOR = (0, 64, 255)  # Praat's blue
PITCH = PitchOptions()  # Praat's defaults: 75-500 Hz, also the drawn scale
PITCH_MARGIN = 0.5  # views computed beyond each side of the visible span, as a share of it
PITCH_HINT = f"zoom in to {MAX_VIEW_SECONDS:.0f} s or less for pitch"
REDRAW_DELAY_MS = 15  # a drag's range changes are drawn once per frame or so, not once per mouse event


def _grey_lut() -> np.ndarray:
    """White for quiet, black for loud: the clinicians' spectrogram (Praat's)."""
    grey = np.linspace(255, 0, 256).astype(np.uint8)
    return np.stack([grey, grey, grey], axis=1)  # (256, 3)


def _intensity_y(db: np.ndarray) -> np.ndarray:
    """dB RMS onto the image's Hz scale: the floor at the bottom, 0 dB (full scale) at the top."""
    return (np.asarray(db, np.float32) - FLOOR_DB) / -FLOOR_DB * TOP_HZ


def _pitch_y(f0_hz: np.ndarray) -> np.ndarray:
    """F0 onto the image's Hz scale: the pitch floor at the bottom, its ceiling at the top (NaN stays NaN)."""
    return (np.asarray(f0_hz, np.float32) - PITCH.floor_hz) / (PITCH.ceiling_hz - PITCH.floor_hz) * TOP_HZ


class SpectrogramView(pg.PlotWidget):
    """Spectrogram 0-8 kHz in time with the waveform (x linked), with events' edges and the playhead."""

    computed = Signal()  # the spectrogram arrived and is drawn
    status_changed = Signal(str)  # "computing… 40 %", "", or why it failed

    def __init__(self, state: AnalysisState, waveform: pg.PlotWidget, parent=None):
        super().__init__(parent=parent, background="w")
        self.state = state
        self.setObjectName("spectrogram")
        self.setAccessibleName("Spectrogram")
        self.spectrogram: Spectrogram | None = None
        self.job: Job | None = None
        self.drawn_level_step = 0.0  # seconds per column of the image drawn (a test reads it)
        self.pitch_shown = True  # the blue line; View > Pitch (main window) turns it off
        self.pitch_track: PitchTrack | None = None  # the last view's F0, kept while the view stays inside it
        self.pitch_range: tuple[float, float] | None = None  # seconds the track was computed for
        self.pitch_job: Job | None = None
        item = self.getPlotItem()
        item.setMouseEnabled(x=True, y=False)
        item.setMenuEnabled(False)
        item.hideAxis("bottom")
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        item.setLabel("left", "kHz")
        # Whole kHz below the top edge: a label at 8 kHz itself would be cut in half by the plot's top.
        item.getAxis("left").setTicks([[(khz * 1000.0, str(khz)) for khz in range(0, int(TOP_HZ // 1000), 2)]])
        # No right axis for the intensity's dB: the plot must be exactly as wide as the waveform's, so that
        # the same pixel is the same time in both (the tooltip gives the intensity's scale instead).
        self.setToolTip(f"Spectrogram 0-{TOP_HZ / 1000:.0f} kHz, darker is louder; the yellow line is the "
                        f"intensity, {FLOOR_DB:.0f} dB at the bottom to 0 dB (full scale) at the top; the blue "
                        f"line is the pitch, {PITCH.floor_hz:.0f} Hz at the bottom to {PITCH.ceiling_hz:.0f} Hz "
                        f"at the top, in views of {MAX_VIEW_SECONDS:.0f} s or less")
        item.vb.disableAutoRange()  # the x range is the waveform's; a new image must not zoom both out
        self.setYRange(0, TOP_HZ, padding=0)
        self.setXLink(waveform)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(_grey_lut())
        self.image.setZValue(-20)
        self.addItem(self.image)
        self.intensity = item.plot(pen=pg.mkPen(INTENSITY_COLOR, width=1))
        self.intensity.setDownsampling(auto=True, method="peak")
        self.intensity.setClipToView(True)
        self.pitch_curve = item.plot(pen=pg.mkPen(PITCH_COLOR, width=2), connect="finite")  # NaN: unvoiced, a gap
        backing = pg.mkBrush(255, 255, 255, 200)  # readable over the darkest spectrogram
        self.pitch_labels = (pg.TextItem(f"{PITCH.ceiling_hz:.0f} Hz", color=PITCH_COLOR, anchor=(1, 0), fill=backing),
                             pg.TextItem(f"{PITCH.floor_hz:.0f} Hz", color=PITCH_COLOR, anchor=(1, 1), fill=backing))
        self.pitch_hint = pg.TextItem(PITCH_HINT, color=PITCH_COLOR, anchor=(1, 0.5), fill=backing)
        for text in (*self.pitch_labels, self.pitch_hint):
            text.setVisible(False)
            self.addItem(text, ignoreBounds=True)
        self.edges: dict[str, pg.PlotDataItem] = {}  # label -> one item drawing every edge of that type
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=False, pen=pg.mkPen("#c00000", width=2))
        self.playhead.setZValue(10)
        self.addItem(self.playhead)
        self.message = pg.TextItem("", color="#555555", anchor=(0, 0))
        self.addItem(self.message, ignoreBounds=True)
        self._redraw_timer = QTimer(self, singleShot=True, interval=REDRAW_DELAY_MS)
        self._redraw_timer.timeout.connect(self.redraw)
        item.vb.sigXRangeChanged.connect(lambda *_: self._redraw_timer.start())
        state.recording_changed.connect(self._clear)
        state.envelope_changed.connect(self._compute_if_shown)
        state.events_changed.connect(self._show_edges)
        state.playhead_changed.connect(self.playhead.setValue)

    # ---- computing ---------------------------------------------------------------------------
    def set_shown(self, shown: bool) -> None:
        self.setVisible(shown)
        if shown:
            self._compute_if_shown()
        else:
            self.cancel()  # hidden: no CPU spent on it; shown again, it starts afresh
            self._cancel_pitch()

    def _compute_if_shown(self) -> None:
        path, envelope = self.state.path, self.state.envelope
        if self.isHidden() or path is None or envelope is None or self.spectrogram is not None:
            return
        if self.job is not None and self.job.is_running():
            return
        job = Job(lambda **kw: compute_spectrogram(path, **kw), name="spectrogram", parent=self)
        job.progress.connect(lambda f: self._say(f"Computing the spectrogram… {100 * f:.0f} %"))
        job.succeeded.connect(lambda result, j=job: self._computed(j, result))
        job.failed.connect(lambda text: self._say(f"No spectrogram: {text}"))
        job.cancelled.connect(lambda: self._say(""))
        self.job = job
        self._say("Computing the spectrogram…")
        job.start()

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None

    def _computed(self, job: Job, spectrogram: Spectrogram) -> None:
        if job is not self.job:  # a job of an earlier recording, or one cancelled after it finished
            return
        self.job = None
        self.spectrogram = spectrogram
        self._say("")
        self._show_intensity()
        self.redraw()
        self.computed.emit()

    def _clear(self) -> None:
        self.cancel()
        self._cancel_pitch()
        self.spectrogram = None
        self.pitch_track = self.pitch_range = None
        self.image.clear()
        self.intensity.setData([], [])
        self.pitch_curve.setData([], [])
        self._show_pitch()
        self._show_edges()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        lo = self.getPlotItem().vb.viewRange()[0][0]
        self.message.setPos(lo, TOP_HZ)
        self.status_changed.emit(text)

    # ---- drawing -----------------------------------------------------------------------------
    def redraw(self) -> None:
        """Draw the visible range's columns at the level of detail that fits the plot's width."""
        if self.spectrogram is None:
            return
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        pixels = max(int(self.getPlotItem().vb.width()), 1)
        columns, x0, step = self.spectrogram.view(lo, hi, pixels)
        if columns.shape[1] == 0:
            self.image.clear()
            return
        top = self.spectrogram.peak_db()
        self.image.setImage(columns, autoLevels=False, levels=(_step(top - DYNAMIC_RANGE_DB), _step(top)))
        self.image.setRect(QRectF(x0, 0.0, columns.shape[1] * step, TOP_HZ))
        self.drawn_level_step = step
        self.message.setPos(lo, TOP_HZ)
        self._show_pitch()

    def _show_intensity(self) -> None:
        db = self.spectrogram.intensity_db.astype(np.float32)
        self.intensity.setData(np.arange(len(db)) * STFT_HOP_SECONDS, _intensity_y(db))

    # ---- pitch ---------------------------------------------------------------------------------
    def set_pitch_shown(self, shown: bool) -> None:
        self.pitch_shown = shown
        if not shown:
            self._cancel_pitch()
        self._show_pitch()

    def pitch_drawn(self) -> bool:
        """Whether the blue line is on screen (a view of 10 s or less, its F0 computed)."""
        return self.pitch_curve.isVisible() and self.pitch_curve.xData is not None and len(self.pitch_curve.xData) > 0

    def _show_pitch(self) -> None:
        """The curve and its scale for a short view (computing its F0 if the cached one does not cover it);
        the hint for a long one; nothing when pitch is off or the spectrogram is not there yet."""
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        on = self.pitch_shown and self.spectrogram is not None
        short = hi - lo <= MAX_VIEW_SECONDS + 1e-6
        self.pitch_curve.setVisible(on and short)
        for label, y in zip(self.pitch_labels, (TOP_HZ, 0.0), strict=True):
            label.setVisible(on and short)
            label.setPos(hi, y)
        self.pitch_hint.setVisible(on and not short)
        self.pitch_hint.setPos(hi, TOP_HZ / 2)
        if not (on and short):
            return
        start, end = max(lo, 0.0), min(hi, self.spectrogram.duration)
        done = self.pitch_range
        if end <= start or (done is not None and done[0] <= start and end <= done[1]):
            return  # past the end, or drawn already
        if self.pitch_job is None:  # one at a time: when it ends, the view it finds is looked at again
            margin = PITCH_MARGIN * (hi - lo)
            self._compute_pitch(max(lo - margin, 0.0), min(hi + margin, self.spectrogram.duration))

    def _compute_pitch(self, start: float, end: float) -> None:
        path = self.state.path
        job = Job(lambda **_: pitch_of_range(path, start, end, options=PITCH), name="pitch", parent=self)
        job.succeeded.connect(lambda track, j=job: self._pitch_computed(j, track, (start, end)))
        job.failed.connect(lambda text, j=job: self._pitch_failed(j, text))
        job.cancelled.connect(lambda j=job: self._pitch_failed(j, ""))
        job.done.connect(job.deleteLater)  # one job per scroll past the cache: none kept for the window's life
        self.pitch_job = job
        job.start()

    def _pitch_computed(self, job: Job, track: PitchTrack, computed: tuple[float, float]) -> None:
        if job is not self.pitch_job:  # an earlier recording's, or cancelled
            return
        self.pitch_job = None
        self.pitch_track, self.pitch_range = track, computed
        self.pitch_curve.setData(track.times, _pitch_y(track.f0_hz), connect="finite")
        self._show_pitch()  # the view may have moved on while it was computed

    def _pitch_failed(self, job: Job, text: str) -> None:
        if job is self.pitch_job:
            self.pitch_job = None
            if text:
                self._say(f"No pitch: {text}")

    def _cancel_pitch(self) -> None:
        if self.pitch_job is not None:
            self.pitch_job.cancel()
            self.pitch_job = None

    def _show_edges(self) -> None:
        """Each type's event edges as one item of vertical segments: 1,000 events stay five items."""
        times = defaultdict(list)
        for row in self.state.rows:
            if row.kept:
                times[row.label] += [row.start, row.start, row.end, row.end]
        for label in set(self.edges) - set(times):
            self.removeItem(self.edges.pop(label))
        for label, xs in times.items():
            ys = np.tile([0.0, TOP_HZ], len(xs) // 2)
            if label not in self.edges:
                self.edges[label] = self.plot(pen=pg.mkPen(label_color(label), width=1), connect="pairs")
            self.edges[label].setData(np.asarray(xs), ys, connect="pairs")


def _step(db: float) -> float:
    """dB onto the uint8 steps the image holds."""
    return float(np.clip((db - FLOOR_DB) * 255.0 / -FLOOR_DB, 0, 255))

