"""The waveform with events drawn as coloured spans (one lane per type) and a playhead; and the per-type timeline.

pyqtgraph draws the min/max envelope (app.peaks) with its own peak downsampling and clipping to
the view, so a 1-hour recording scrolls as fast as a short one. Clicking a span selects its event;
selecting an event elsewhere brings its span into view.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QLineF, QRectF, Qt, QTimer, Signal

from model.audio.decode import TOKENS_PER_SECOND

from ...review import EventRow
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
    """The selected event's span: the one editable region, whose edges the clinician drags.

    It works out its bounds once per view change, as pyqtgraph's InfiniteLine does: the plot clips its
    children, so Qt asks every item for its bounds at every repaint, however small.
    """

    _bounds: QRectF | None = None
    key = ""  # the row whose span this is

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


class _Lane(pg.GraphicsObject):
    """Every span of one type but the selected one, painted by one item: only those in view, at each paint.

    One pyqtgraph region per event cost milliseconds each to make, add and paint (2.3 s for 500 moments on the
    GUI thread, issue 23 item 7); this item is made once per type, and a change of its spans is a few numpy
    arrays (benchmarks/spans_draw.py).
    Its vertical extent is a fraction of the view (`span`, as LinearRegionItem's), so the lane stays put
    whatever the waveform's amplitude.
    """

    def __init__(self, label: str, span: tuple[float, float]):
        super().__init__()
        self.label, self.span = label, span
        self.starts = self.ends = np.zeros(0)  # sorted by start
        self.kept = np.zeros(0, bool)
        self.longest = 0.0  # the longest span: how far before the view a span in view can start
        self.changes = 0  # times its spans were set (a test counts them)
        self._brushes = {True: pg.mkBrush(label_color(label, SPAN_ALPHA)),
                         False: pg.mkBrush(label_color(label, REJECTED_ALPHA))}
        self._pen = pg.mkPen(label_color(label), width=1)  # cosmetic: one pixel at any zoom
        self._bounds: QRectF | None = None
        self._drawn_bounds = QRectF()
        self.setZValue(-10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go to the plot, which picks the event

    def set_spans(self, spans: list[tuple[float, float, bool]]) -> None:
        """(start, end, kept) of every span the lane draws."""
        spans = sorted(spans)
        self.starts = np.array([s[0] for s in spans], float)
        self.ends = np.array([s[1] for s in spans], float)
        self.kept = np.array([s[2] for s in spans], bool)
        self.longest = float((self.ends - self.starts).max(initial=0.0))
        self.changes += 1
        self.informViewBoundsChanged()  # the view's auto-range (before a recording is fitted) sees the new extent
        self.update()

    def setSpan(self, mn: float, mx: float) -> None:  # another lane (the types changed)
        self.span = (mn, mx)
        self.update()

    def dataBounds(self, axis, frac=1.0, orthoRange=None):  # what the view's auto-range sees: the spans in time
        if axis != 0 or not len(self.starts):
            return None
        return float(self.starts[0]), float(self.ends.max())

    def boundingRect(self) -> QRectF:
        if self._bounds is None:  # the whole view: the item paints what is in it
            view = self.viewRect()
            bounds = QRectF() if view is None else QRectF(view).normalized()
            if bounds != self._drawn_bounds:  # as LinearRegionItem: tell the scene before the bounds change
                self._drawn_bounds = bounds
                self.prepareGeometryChange()
            self._bounds = bounds
        return self._bounds

    def viewTransformChanged(self) -> None:  # a zoom, a scroll, a resize
        self._bounds = None
        super().viewTransformChanged()

    def paint(self, painter, *args) -> None:
        view = self.viewRect()
        if view is None or not len(self.starts):
            return
        view = QRectF(view).normalized()
        lo, hi = view.left(), view.right()
        first = int(np.searchsorted(self.starts, lo - self.longest, side="left"))
        last = int(np.searchsorted(self.starts, hi, side="right"))
        shown = np.arange(first, last)[self.ends[first:last] >= lo]  # the spans that reach into the view
        y0 = view.top() + view.height() * self.span[0]
        height = view.height() * (self.span[1] - self.span[0])
        painter.setPen(pg.mkPen(None))
        for kept in (True, False):
            idx = shown[self.kept[shown] == kept]
            if len(idx):
                painter.setBrush(self._brushes[kept])
                painter.drawRects([QRectF(s, y0, e - s, height) for s, e in zip(self.starts[idx], self.ends[idx], strict=True)])
        painter.setPen(self._pen)
        edges = np.concatenate([self.starts[shown], self.ends[shown]])
        painter.drawLines([QLineF(x, y0, x, y0 + height) for x in edges])


def _look(row: EventRow) -> tuple:
    """What a span shows of its row: a span is redrawn only when this changes."""
    return row.label, row.start, row.end, row.kept


class _Spans:
    """The event spans of one plot: one item per type (lane) paints its spans; the selected one is a region.

    A change of rows redraws only the lanes whose spans changed (added, removed, retyped, moved, decided):
    a decision touches one or two lanes, never the other types' (issue 23: 4 s per decision with 561 events).
    Each type has its own horizontal lane (a fifth of the plot's height, in the types' order), so
    overlapping events of different types stay visible side by side instead of blending into one colour.
    Only the selected event's span is an editable pyqtgraph region, with thick edges that can be dragged.
    """

    def __init__(self, plot: pg.PlotItem, labels: tuple[str, ...] = (),
                 on_dragged: Callable[[str, float, float], None] | None = None):
        self.plot = plot
        self.labels = labels
        self.on_dragged = on_dragged  # (key, start, end) when the clinician lets go of a dragged edge
        self.lanes: dict[str, _Lane] = {}
        self.looks: dict[str, tuple] = {}  # key -> _look(row) of every span drawn
        self.selected = ""  # the key whose span is highlighted
        self.editor: _SpanItem | None = None  # the selected span's region, when it has one
        self.touched = 0  # spans drawn, removed or restyled so far (a test counts them)

    def lane(self, label: str) -> tuple[float, float]:
        """The vertical extent (0 = bottom, 1 = top of the view) of a type's spans."""
        n = max(len(self.labels), 1)
        i = self.labels.index(label) if label in self.labels else 0
        return i / n, (i + 1) / n  # the first type at the bottom, as in the timeline below

    def set_labels(self, labels: tuple[str, ...]) -> None:
        if labels != self.labels:  # every lane moves
            self.labels = labels
            for label, lane in self.lanes.items():
                lane.setSpan(*self.lane(label))
            if self.editor is not None:
                self.editor.setSpan(*self.lane(self.looks[self.editor.key][0]))

    def region(self, key: str) -> tuple[float, float]:
        """(start, end) of a key's span as drawn (the selected one's as its edges stand)."""
        if self.editor is not None and self.editor.key == key:
            return tuple(self.editor.getRegion())
        return self.looks[key][1:3]

    def span_of(self, key: str) -> tuple[float, float]:
        """The vertical extent a key's span is drawn in."""
        if self.editor is not None and self.editor.key == key:
            return tuple(self.editor.span)
        return self.lanes[self.looks[key][0]].span

    def update(self, rows: list[EventRow], selected: str) -> None:
        """Show `rows`: only the lanes of the spans that changed (gone, new, moved, retyped, decided) are
        drawn again, and the selected span's region only when the selection or its row changed."""
        looks = {row.key: _look(row) for row in rows}
        changed = [k for k in self.looks.keys() | looks.keys() if self.looks.get(k) != looks.get(k)]
        labels = {self.looks[k][0] for k in changed if k in self.looks} | {looks[k][0] for k in changed if k in looks}
        self.looks = looks
        self.touched += len(changed)
        if self.editor is not None and self.editor.key in changed:
            self._drop_editor()  # gone or moved: made again from its row below
        self.highlight(selected, redraw=labels)

    def _draw(self, labels) -> None:
        if not labels:
            return
        spans: dict[str, list] = {label: [] for label in labels}
        for key, (label, start, end, kept) in self.looks.items():
            if label in spans and key != self.selected:
                spans[label].append((start, end, kept))
        for label, shown in spans.items():
            if label not in self.lanes:
                if not shown:
                    continue
                self.lanes[label] = _Lane(label, self.lane(label))
                self.plot.addItem(self.lanes[label])
            self.lanes[label].set_spans(shown)

    def forget(self, key: str) -> None:
        """Draw this row's span afresh at the next update (a drag the review refused goes back)."""
        if key in self.looks:
            del self.looks[key]
            if self.editor is not None and self.editor.key == key:
                self._drop_editor()

    def _dragged(self, key: str, item: pg.LinearRegionItem) -> None:
        if self.on_dragged is not None:
            start, end = item.getRegion()
            self.on_dragged(key, snap(start), snap(end))

    def highlight(self, key: str, redraw: set[str] | frozenset = frozenset()) -> None:
        """Only the selected event's span is a region, with thick edges that can be dragged: its lane and the
        previously selected one's are drawn again without and with them."""
        redraw = set(redraw)
        if key != self.selected:
            for k in (self.selected, key):
                if k in self.looks:
                    redraw.add(self.looks[k][0])
                    self.touched += 1
            if self.editor is not None:
                self._drop_editor()
            self.selected = key
        if self.editor is None and key in self.looks:
            self._make_editor(key)
        self._draw(redraw)

    def _make_editor(self, key: str) -> None:
        label, start, end, kept = self.looks[key]
        item = _SpanItem((start, end), movable=True, span=self.lane(label),
                         brush=label_color(label, SPAN_ALPHA if kept else REJECTED_ALPHA),
                         pen=pg.mkPen(label_color(label), width=3))
        item.key = key
        item.setZValue(-5)  # above the lanes, below the playhead
        item.sigRegionChangeFinished.connect(lambda it, k=key: self._dragged(k, it))
        self.plot.addItem(item)
        self.editor = item

    def _drop_editor(self) -> None:
        self.plot.removeItem(self.editor)
        self.editor = None


class WaveformView(pg.PlotWidget):
    """Envelope, spans and playhead; x in seconds (the legend is a widget beside it: app.qt.widgets.legend)."""

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
            # 50 frames a second is 150,000 points an hour per type: drawn whole, the five curves took most of a
            # review decision's repaint (about 70 ms of 80 with 1,000 moments). Peaks per pixel look the same.
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
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
