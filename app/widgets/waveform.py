"""The waveform with events drawn as coloured spans (one lane per type) and a playhead; and the per-type timeline.

pyqtgraph draws the min/max envelope (app.peaks) with its own peak downsampling and clipping to
the view, so a 1-hour recording scrolls as fast as a short one. Clicking a span selects its event;
selecting an event elsewhere brings its span into view.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal

from model.audio import TOKENS_PER_SECOND

from ..review import EventRow
from ..state import AnalysisState
from .colors import label_color

SPAN_ALPHA = 70  # events stay see-through so that the waveform under them shows
REJECTED_ALPHA = 20
CONTEXT_SECONDS = 2.0  # shown either side of a selected event
MIN_VIEW_SECONDS = 0.5
LEFT_AXIS_WIDTH = 90  # the same on both plots, so that their time axes line up
SNAP_SECONDS = 1 / TOKENS_PER_SECOND  # 20 ms, the encoder's frame: a dragged edge lands on one


def snap(seconds: float) -> float:
    """The nearest 20 ms frame boundary."""
    return round(round(seconds / SNAP_SECONDS) * SNAP_SECONDS, 3)


class _SpanItem(pg.LinearRegionItem):
    """A span that works out its bounds once per view change, as pyqtgraph's InfiniteLine does.

    The plot clips its children, so Qt asks every span for its bounds at every repaint, however small:
    with 1,000 events that was 40 ms of each decision's repaint.
    """

    _bounds: QRectF | None = None

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            self._bounds = super().boundingRect()
        return self._bounds

    def viewTransformChanged(self) -> None:  # a zoom, a scroll, a resize
        self._bounds = None
        super().viewTransformChanged()

    def lineMoved(self, i) -> None:  # an edge dragged or set
        self._bounds = None
        super().lineMoved(i)

    def setSpan(self, mn: float, mx: float) -> None:  # another lane
        self._bounds = None
        super().setSpan(mn, mx)
        for line in self.lines:  # pyqtgraph's InfiniteLine.setSpan keeps its cached bounds: the edges
            line.viewTransformChanged()  # would stay in the old lane


def _look(row: EventRow) -> tuple:
    """What a span shows of its row: a span is redrawn only when this changes."""
    return row.label, row.start, row.end, row.kept


class _Spans:
    """The event spans of one plot, one item per event, keyed by row key.

    A change of rows updates only the spans whose rows changed (added, removed, retyped, moved, decided):
    a decision touches one or two items, not every event's (issue 23: 4 s per decision with 561 events).
    Each type has its own horizontal lane (a fifth of the plot's height, in the types' order), so
    overlapping events of different types stay visible side by side instead of blending into one colour.
    """

    def __init__(self, plot: pg.PlotItem, labels: tuple[str, ...] = (),
                 on_dragged: Callable[[str, float, float], None] | None = None):
        self.plot = plot
        self.labels = labels
        self.on_dragged = on_dragged  # (key, start, end) when the clinician lets go of a dragged edge
        self.items: dict[str, _SpanItem] = {}
        self.looks: dict[str, tuple] = {}  # key -> _look(row) of the item drawn
        self.selected = ""  # the key whose span is highlighted
        self.touched = 0  # items created, removed or restyled so far (a test counts them)

    def lane(self, label: str) -> tuple[float, float]:
        """The vertical extent (0 = bottom, 1 = top of the view) of a type's spans."""
        n = max(len(self.labels), 1)
        i = self.labels.index(label) if label in self.labels else 0
        return i / n, (i + 1) / n  # the first type at the bottom, as in the timeline below

    def set_labels(self, labels: tuple[str, ...]) -> None:
        if labels != self.labels:  # every lane moves: every span is drawn again
            self.labels = labels
            self.update([], "")

    def update(self, rows: list[EventRow], selected: str) -> None:
        """Show `rows`: spans of rows gone are removed, of new or moved rows made, of retyped or decided rows
        restyled in place (adding an item makes pyqtgraph redraw the whole plot); the rest are left alone."""
        looks = {row.key: _look(row) for row in rows}
        for key in [k for k, look in self.looks.items() if looks.get(k, look)[1:3] != look[1:3]]:
            self._remove(key)  # gone, or its edges moved
        for row in rows:
            if row.key not in self.items:
                self._add(row)
            elif self.looks[row.key] != looks[row.key]:
                self._restyle(row)
        self.highlight(selected)

    def _add(self, row: EventRow) -> None:
        item = _SpanItem((row.start, row.end), movable=False, brush=self._brush(row),
                                   pen=pg.mkPen(label_color(row.label), width=1), span=self.lane(row.label))
        item.setZValue(-10)
        item.sigRegionChangeFinished.connect(lambda it, k=row.key: self._dragged(k, it))
        self.plot.addItem(item)
        self.items[row.key], self.looks[row.key] = item, _look(row)
        self.touched += 1

    @staticmethod
    def _brush(row: EventRow):
        return label_color(row.label, SPAN_ALPHA if row.kept else REJECTED_ALPHA)

    def _restyle(self, row: EventRow) -> None:
        item = self.items[row.key]
        item.setBrush(self._brush(row))
        item.setSpan(*self.lane(row.label))
        for line in item.lines:
            line.setPen(pg.mkPen(label_color(row.label), width=line.pen.width()))
        item.update()  # setBrush alone does not repaint
        self.looks[row.key] = _look(row)
        self.touched += 1

    def _remove(self, key: str) -> None:
        self.plot.removeItem(self.items.pop(key))
        del self.looks[key]
        self.touched += 1

    def forget(self, key: str) -> None:
        """Draw this row's span afresh at the next update (a drag the review refused goes back)."""
        if key in self.items:
            self._remove(key)

    def _dragged(self, key: str, item: pg.LinearRegionItem) -> None:
        if self.on_dragged is not None:
            start, end = item.getRegion()
            self.on_dragged(key, snap(start), snap(end))

    def highlight(self, key: str) -> None:
        """Only the selected event's edges are thick and can be dragged: restyles the old and the new one."""
        if key != self.selected:
            self._emphasise(self.selected, False)
            self.selected = key
        self._emphasise(key, True)

    def _emphasise(self, key: str, on: bool) -> None:
        item = self.items.get(key)
        if item is None or item.movable == on:
            return
        item.setMovable(on)
        for line in item.lines:
            line.setPen(pg.mkPen(line.pen.color(), width=3 if on else 1))
        self.touched += 1


class WaveformView(pg.PlotWidget):
    """Envelope, spans and playhead; x in seconds (the legend is a widget beside it: app.widgets.legend)."""

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
        self.spans = _Spans(item, _labels(), on_dragged=self._adjust_later)
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
        self.spans.update([], "")

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
        if self.state.predictions is not None:
            self.spans.set_labels(tuple(self.state.predictions.labels))
        self.spans.update(self.state.rows, self.state.selected_key)

    def _selected(self, key: str) -> None:
        self.spans.highlight(key)
        row = self.state.selected_row()
        if row is not None:
            self.show_span(row.start, row.end)

    # ---- view -> state -----------------------------------------------------------------------
    def _adjust_later(self, key: str, start: float, end: float) -> None:
        # After the drag's own mouse event: adjusting rebuilds the spans, which would delete the item
        # that is still handling the event (the remove-while-Qt-uses-it pattern).
        QTimer.singleShot(0, lambda: self._adjust(key, start, end))

    def _adjust(self, key: str, start: float, end: float) -> None:
        review = self.state.review
        if review is None:
            return
        try:
            review.adjust(key, start, end)
        except (ValueError, KeyError):  # too short, or the row went away: the span goes back
            self.spans.forget(key)
            self._show_events()

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


def _labels() -> tuple[str, ...]:
    from model.labels import LABELS

    return LABELS


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
        self.drawn: dict[str, tuple] = {}  # label -> the (start, duration) of its bars as drawn
        self._labels_drawn: tuple[str, ...] | None = None
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
        centres = preds.starts + preds.frame_seconds / 2
        for i, label in enumerate(preds.labels):
            # The type's frame probability, drawn thin inside each lane: why a moment is (or is not) there.
            curve = self.plot(centres, i + 0.1 + 0.8 * preds.probs[:, i], pen=pg.mkPen(label_color(label, 150)))
            self.probability_curves[label] = curve

    def _redraw(self) -> None:
        """Redraw the bars of the types whose kept events changed (a decision changes one type at most)."""
        labels = self._labels()
        if labels != self._labels_drawn:
            self._axis(labels)
            self._labels_drawn = labels
        kept = {label: [] for label in labels}
        for r in self.state.rows:
            if r.kept and r.label in kept:
                kept[r.label].append((r.start, r.duration))
        for label in set(self.bars) | {label for label, spans in kept.items() if spans}:
            spans = tuple(kept.get(label, ()))
            if self.drawn.get(label) != spans:
                self._bar(label, labels, spans)

    def _bar(self, label: str, labels: tuple[str, ...], spans: tuple) -> None:
        if label in self.bars:
            self.removeItem(self.bars.pop(label))
        self.drawn[label] = spans
        if not spans or label not in labels:
            return
        starts, widths = np.array(spans).T  # (2, n): starts and durations
        i = labels.index(label)
        bar = pg.BarGraphItem(x0=starts, y0=np.full(len(spans), i + 0.15), width=widths, height=0.7,
                              brush=label_color(label, 110), pen=pg.mkPen(label_color(label)))
        self.addItem(bar)
        self.bars[label] = bar
