"""The waveform with events drawn as coloured spans, a legend and a playhead; and the per-type timeline.

pyqtgraph draws the min/max envelope (app.peaks) with its own peak downsampling and clipping to
the view, so a 1-hour recording scrolls as fast as a short one. Clicking a span selects its event;
selecting an event elsewhere brings its span into view.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal

from ..review import EventRow
from ..state import AnalysisState
from .colors import label_color

SPAN_ALPHA = 70  # events stay see-through so that the waveform under them shows
REJECTED_ALPHA = 20
CONTEXT_SECONDS = 2.0  # shown either side of a selected event
MIN_VIEW_SECONDS = 0.5
LEFT_AXIS_WIDTH = 90  # the same on both plots, so that their time axes line up


class _Spans:
    """The event spans of one plot, rebuilt when the rows change (cheap: one item per event)."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self.items: dict[str, pg.LinearRegionItem] = {}

    def rebuild(self, rows: list[EventRow], selected: str) -> None:
        for item in self.items.values():
            self.plot.removeItem(item)
        self.items = {}
        for row in rows:
            alpha = SPAN_ALPHA if row.kept else REJECTED_ALPHA
            item = pg.LinearRegionItem((row.start, row.end), movable=False, brush=label_color(row.label, alpha),
                                       pen=pg.mkPen(label_color(row.label), width=1))
            item.setZValue(-10)
            self.plot.addItem(item)
            self.items[row.key] = item
        self.highlight(selected)

    def highlight(self, key: str) -> None:
        for k, item in self.items.items():
            width = 3 if k == key else 1
            for line in item.lines:
                pen = pg.mkPen(line.pen.color(), width=width)
                line.setPen(pen)


class WaveformView(pg.PlotWidget):
    """Envelope, spans, legend and playhead; x in seconds."""

    span_clicked = Signal(str)

    def __init__(self, state: AnalysisState, parent=None):
        super().__init__(parent=parent, background="w")
        self.state = state
        self.setObjectName("waveform")
        self.setAccessibleName("Waveform with events")
        item = self.getPlotItem()
        item.setLabel("bottom", "time", units="s")
        item.getAxis("left").setStyle(showValues=False)
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        item.setMouseEnabled(x=True, y=False)
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=False, alpha=0.2)
        self.curve = item.plot(pen=pg.mkPen("#3c4a5a", width=1))
        self.curve.setDownsampling(auto=True, method="peak")
        self.curve.setClipToView(True)
        self.playhead = pg.InfiniteLine(0.0, angle=90, movable=True, pen=pg.mkPen("#c00000", width=2))
        self.playhead.setZValue(10)
        self.addItem(self.playhead)
        self.spans = _Spans(item)
        self.legend = item.addLegend(offset=(10, 5), colCount=5, labelTextColor="#222222",
                                     brush=pg.mkBrush(255, 255, 255, 220))
        self._legend_labels: tuple[str, ...] = ()
        self.playhead.sigDragged.connect(lambda line: state.set_playhead(line.value()))
        self.scene().sigMouseClicked.connect(self._clicked)
        state.recording_changed.connect(self._clear)
        state.envelope_changed.connect(self._show_envelope)
        state.events_changed.connect(self._show_events)
        state.selection_changed.connect(self._selected)
        state.playhead_changed.connect(self.playhead.setValue)

    # ---- state -> view -----------------------------------------------------------------------
    def _clear(self) -> None:
        self.curve.setData([], [])
        self.spans.rebuild([], "")

    def _show_envelope(self) -> None:
        env = self.state.envelope
        if env is None:
            return
        x, y = env.curve()
        self.curve.setData(x, y)
        peak = float(max(np.abs(y).max(initial=0.0), 1e-3))
        self.setYRange(-peak, peak, padding=0.05)
        self.fit()

    def _show_events(self) -> None:
        rows = self.state.rows
        self.spans.rebuild(rows, self.state.selected_key)
        labels = tuple(self.state.predictions.labels) if self.state.predictions is not None else ()
        if labels != self._legend_labels:
            self.legend.clear()
            for label in labels:
                swatch = pg.BarGraphItem(x=[0], height=[0], width=0, brush=label_color(label, 160))
                self.legend.addItem(swatch, label)
            self._legend_labels = labels

    def _selected(self, key: str) -> None:
        self.spans.highlight(key)
        row = self.state.selected_row()
        if row is not None:
            self.show_span(row.start, row.end)

    # ---- view -> state -----------------------------------------------------------------------
    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = self.getPlotItem().vb.mapSceneToView(event.scenePos())
        t = float(pos.x())
        hits = [r for r in self.state.rows if r.start <= t <= r.end]
        if hits:
            keys = [r.key for r in hits]
            # Overlapping events: each click moves to the next one under the mouse.
            i = keys.index(self.state.selected_key) + 1 if self.state.selected_key in keys else 0
            self.state.select(keys[i % len(keys)])
            self.span_clicked.emit(keys[i % len(keys)])
        self.state.set_playhead(t)

    # ---- zoom and scroll ---------------------------------------------------------------------
    def visible_range(self) -> tuple[float, float]:
        lo, hi = self.getPlotItem().vb.viewRange()[0]
        return float(lo), float(hi)

    def fit(self) -> None:
        self.setXRange(0.0, max(self.state.duration, MIN_VIEW_SECONDS), padding=0.01)

    def zoom(self, factor: float) -> None:
        """factor < 1 zooms in, around the playhead when it is visible."""
        lo, hi = self.visible_range()
        centre = self.state.playhead if lo <= self.state.playhead <= hi else (lo + hi) / 2
        half = max((hi - lo) * factor / 2, MIN_VIEW_SECONDS / 2)
        self.setXRange(centre - half, centre + half, padding=0)

    def scroll(self, fraction: float) -> None:
        lo, hi = self.visible_range()
        step = (hi - lo) * fraction
        self.setXRange(lo + step, hi + step, padding=0)

    def show_span(self, start: float, end: float) -> None:
        lo, hi = self.visible_range()
        if start >= lo and end <= hi and hi - lo <= 4 * (end - start + 2 * CONTEXT_SECONDS):
            return  # already in view at a useful zoom
        self.setXRange(start - CONTEXT_SECONDS, end + CONTEXT_SECONDS, padding=0)


class TimelineView(pg.PlotWidget):
    """One lane per type, events as bars; x follows the waveform."""

    def __init__(self, state: AnalysisState, parent=None):
        super().__init__(parent=parent, background="w")
        self.state = state
        self.setObjectName("timeline")
        self.setAccessibleName("Per-type timeline")
        item = self.getPlotItem()
        item.setMouseEnabled(x=True, y=False)
        item.setMenuEnabled(False)
        item.hideAxis("bottom")
        item.getAxis("left").setWidth(LEFT_AXIS_WIDTH)
        self.bars: dict[str, pg.BarGraphItem] = {}
        self.probability_curves: dict[str, pg.PlotDataItem] = {}
        state.events_changed.connect(self._redraw)
        state.analysis_changed.connect(self._redraw_probabilities)

    def _labels(self) -> tuple[str, ...]:
        preds = self.state.predictions
        return tuple(preds.labels) if preds is not None else ()

    def _axis(self, labels: tuple[str, ...]) -> None:
        axis = self.getPlotItem().getAxis("left")
        axis.setTicks([[(i + 0.5, label) for i, label in enumerate(labels)]])
        self.setYRange(0, max(len(labels), 1), padding=0.02)

    def _redraw_probabilities(self) -> None:
        for curve in self.probability_curves.values():
            self.removeItem(curve)
        self.probability_curves = {}
        preds = self.state.predictions
        if preds is None:
            return
        centres = preds.starts + preds.window_seconds / 2
        for i, label in enumerate(preds.labels):
            # The window probability, drawn thin inside each lane: why an event is (or is not) there.
            curve = self.plot(centres, i + 0.1 + 0.8 * preds.probs[:, i], pen=pg.mkPen(label_color(label, 150)))
            self.probability_curves[label] = curve

    def _redraw(self) -> None:
        for bar in self.bars.values():
            self.removeItem(bar)
        self.bars = {}
        labels = self._labels()
        self._axis(labels)
        rows = [r for r in self.state.rows if r.kept]
        for i, label in enumerate(labels):
            mine = [r for r in rows if r.label == label]
            if not mine:
                continue
            starts = np.array([r.start for r in mine])
            widths = np.array([r.duration for r in mine])
            bar = pg.BarGraphItem(x0=starts, y0=np.full(len(mine), i + 0.15), width=widths, height=0.7,
                                  brush=label_color(label, 110), pen=pg.mkPen(label_color(label)))
            self.addItem(bar)
            self.bars[label] = bar
