"""A patient's course over sessions: %SS across sessions (chart; events per minute while no session has words),
the sessions (table: %SS, syllables per minute and the three longest moments first, then the events per minute),
and the clinician's fields for the chosen session (what audio cannot measure).

The numbers are app.records.course's, the same the course PDF prints: nothing here computes a measure.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.qt.widgets.legend import TypeLegend
from app.records.course import (
    PCT_SS_AXIS,
    SessionMeasures,
    comparability_warning,
    counted_from,
    course_series,
    damaged_note,
    no_pct_ss_reason,
)
from app.reports.style import LABEL_COLORS, SLD_COLOR
from model.labels import LABELS

from .clinician_fields import ClinicianFields
from .records_state import RecordsState

COLUMNS = ("Date", "Age", "Task", "Minutes", "%SS", "Syllables/min", "Top-3 moments mean (s)", "Counted from",
           "Model", "SLD/min", "Interj./min", *(f"{x}/min" for x in LABELS), "Top-3 SLD mean (s)", "Severity (0-9)",
           "SSI-4 concomitants", "Naturalness")
NO_VALUE = "—"  # a measure the session cannot have (no words): its tooltip says why, never a made-up number
SEVERITY = "Severity rating (0-9)"  # the chart's series of the Lidcombe severity ratings
SEVERITY_COLOR = "#777777"
PCT_SS = "%SS"  # the chart's series name once a session has words (app.records.course.course_series)
CHART_COLORS = {**LABEL_COLORS, "SLD total": SLD_COLOR, SEVERITY: SEVERITY_COLOR}  # the legend row's swatches
PCT_SS_COLORS = {PCT_SS: SLD_COLOR, SEVERITY: SEVERITY_COLOR}  # ... in %SS


def table_cells(m: SessionMeasures) -> list[tuple[str, str]]:
    """What the sessions table shows for one session, in COLUMNS order: (text, tooltip) per cell."""
    why = no_pct_ss_reason(m)
    why_tip = f"No value: {why}." if why else ""
    if m.syllables is None:  # no words: no moments on words either
        longest = (NO_VALUE, why_tip)
    elif m.longest3_moments_s is None:
        longest = ("none", "No stuttering moment in what the session counts")
    else:
        longest = (f"{m.longest3_moments_s:.1f}", "Mean duration of the three longest stuttering moments")
    counted_tip = {"reviewed": "Counted from the clinician's finished review",
                   "mixed": f"Counted from the clinician's decisions ({m.reviewed} of {m.events}) and the model's "
                            "events elsewhere",
                   "model": "Counted from the model's events: no decision yet"}[m.source]
    date = (f"{m.date} (damaged)", m.problem) if m.problem else (m.date, "")  # the tooltip says what
    return [date, (m.age or "-", ""), (m.task, ""), (f"{m.duration / 60:.1f}", ""),
            (NO_VALUE, why_tip) if m.pct_ss is None else
            (f"{m.pct_ss:.1f}", f"{m.pct_ss:.1f} stuttered syllables per 100 of {m.syllables} syllables"),
            (NO_VALUE, why_tip) if m.spm is None else (f"{m.spm:.0f}", "Syllables per minute of speaking time"),
            longest, (counted_from(m), counted_tip), (m.model_id[:12] or "-", m.model_id),
            (f"{m.sld_per_minute:.2f}", ""), (f"{m.interjection_per_minute:.2f}", ""),
            *((f"{m.per_minute[x]:.2f}", "") for x in LABELS),
            ("-" if m.longest3_mean is None else f"{m.longest3_mean:.1f}", ""),
            ("-" if m.severity is None else str(m.severity), ""),
            ("-" if m.ssi4_total is None else f"{m.ssi4_total} of 20", ""),
            ("-" if m.naturalness is None else str(m.naturalness), "")]


def chart_series(measures: list[SessionMeasures]) -> dict[str, list[float | None]]:
    """The values the chart plots (app.records.course.course_series, as the PDF's chart): %SS, or per minute."""
    return course_series(measures).series


def chart_note(measures: list[SessionMeasures]) -> str:
    """What the chart leaves out and why, for the line under it ("" when every session has its point)."""
    if not measures:
        return ""
    if course_series(measures).unit != PCT_SS_AXIS:
        return ("Events per minute: no session has words yet, so there is no %SS. Open a session in Analysis, "
                "Transcribe, and save it again to chart %SS.")
    missing = [f"{m.date} ({'no words' if m.syllables is None else 'too little speech'})"
               for m in measures if m.pct_ss is None]
    if not missing:
        return ""
    return f"No %SS point for {', '.join(missing)}: the table's %SS cells say why (hover)."


class ProgressChart(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMinimumHeight(170)
        self.setLabel("left", "events per minute")
        self.showGrid(y=True, alpha=0.3)
        # Two lines under each point: the date, and what the point counts.
        self.getAxis("bottom").setHeight(44)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def show_measures(self, measures: list[SessionMeasures]) -> None:
        self.clear()
        self.curves = {}
        x = list(range(len(measures)))
        course = course_series(measures)
        # The full %SS unit does not fit the chart's height at 720 px: the legend row says it in words.
        self.setLabel("left", PCT_SS if course.unit == PCT_SS_AXIS else course.unit)
        for name, values in course.series.items():
            color = LABEL_COLORS.get(name, SLD_COLOR)
            bold = name in ("SLD total", PCT_SS)
            # A session without a value is a gap (NaN, not joined), never a point at 0.
            y = [math.nan if v is None else v for v in values]
            self.curves[name] = self.plot(x, y, name=name, pen=pg.mkPen(color, width=3 if bold else 2),
                                          symbol="o", symbolSize=7 if bold else 6, symbolBrush=color,
                                          connect="finite")
        rated = [(i, m.severity) for i, m in enumerate(measures) if m.severity is not None]
        if rated:  # the clinician's 0-9 rating on the same axis: a dashed grey line, its own legend entry
            self.curves[SEVERITY] = self.plot([i for i, _ in rated], [v for _, v in rated], name=SEVERITY,
                                              pen=pg.mkPen(SEVERITY_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                              symbol="s", symbolSize=7, symbolBrush=SEVERITY_COLOR)
        # From 0, as clinicians read a rate; a little room over the highest point (and over a lone one).
        values = [v for vs in course.series.values() for v in vs if v is not None] + [v for _, v in rated]
        self.setYRange(0, max([1.0, *values]) * 1.15, padding=0)
        # Each point says what it counts: the finished review, or the model with how far the review got.
        self.getAxis("bottom").setTicks([[(i, f"{m.date}\n{counted_from(m)}") for i, m in enumerate(measures)]])
        # Half a session of room each side, so the first and last dates get their labels too.
        self.setXRange(-0.5, max(len(measures), 1) - 0.5, padding=0)


class CourseView(QWidget):
    """Chart, table and clinician fields of the chosen patient; follows the RecordsState."""

    session_selected = Signal(int)  # session id, -1 for none

    def __init__(self, state: RecordsState, parent=None):
        super().__init__(parent)
        self.state = state
        self.measures: list[SessionMeasures] = []
        self.chart = ProgressChart()
        self.legend = TypeLegend(tuple(CHART_COLORS), colors=CHART_COLORS, note="per minute; severity as rated")
        self.pct_ss_legend = TypeLegend(tuple(PCT_SS_COLORS), colors=PCT_SS_COLORS,
                                        note="stuttered syllables per 100; severity as rated")
        # Under the chart: which sessions have no %SS point and why (no words), or why the chart is per minute.
        self.chart_note = QLabel()
        self.chart_note.setObjectName("chart_note")
        self.chart_note.setWordWrap(True)
        self.chart_note.setStyleSheet("color: #555555;")
        self.warning = QLabel()
        self.warning.setObjectName("comparability_warning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #8a4b00;")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.fields = ClinicianFields(on_save=self._save_fields)  # saved as typed
        self._refreshing = self._refresh_again = False
        splitter = QSplitter(Qt.Orientation.Vertical)
        fields = QScrollArea()  # scrolls rather than squeezing the sessions table at 720 px
        fields.setWidget(self.fields)
        fields.setWidgetResizable(True)
        self.table.setMinimumHeight(110)
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.chart, 1)
        chart_layout.addWidget(self.chart_note)
        for w in (chart, self.table, fields):
            splitter.addWidget(w)
        splitter.setSizes([4, 3, 3])  # proportions
        layout = QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addWidget(self.legend)
        layout.addWidget(self.pct_ss_legend)
        layout.addWidget(splitter)
        self.table.itemSelectionChanged.connect(self._selected)
        state.patient_changed.connect(self.refresh)
        state.sessions_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        # Showing another session saves the fields of the one before, which changes the sessions: that
        # refresh runs after this one, never inside it (the table would be rebuilt while being filled).
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        try:
            self._refresh()
        finally:
            self._refreshing = False
        if self._refresh_again:
            self._refresh_again = False
            self.refresh()

    def _refresh(self) -> None:
        chosen = self.selected_session_id()
        self.measures = self.state.measures()
        self.chart.show_measures(self.measures)
        in_pct_ss = course_series(self.measures).unit == PCT_SS_AXIS
        self.legend.setVisible(not in_pct_ss)
        self.pct_ss_legend.setVisible(in_pct_ss)
        note = chart_note(self.measures)
        self.chart_note.setText(note)
        self.chart_note.setVisible(bool(note))
        warning = "\n".join(x for x in (damaged_note(self.measures), comparability_warning(self.measures)) if x)
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        self.table.setRowCount(len(self.measures))
        for r, m in enumerate(self.measures):
            for c, (text, tip) in enumerate(table_cells(m)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                item.setData(Qt.ItemDataRole.UserRole, m.session_id)
                self.table.setItem(r, c, item)
        rows = [r for r, m in enumerate(self.measures) if m.session_id == chosen]
        if rows:
            self.table.selectRow(rows[0])
        else:
            self.table.clearSelection()
            self._selected()

    def selected_session_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.measures[rows[0].row()].session_id if rows and rows[0].row() < len(self.measures) else None

    def select_session(self, session_id: int) -> None:
        for r, m in enumerate(self.measures):
            if m.session_id == session_id:
                self.table.selectRow(r)

    def _selected(self) -> None:
        sid = self.selected_session_id()
        self.fields.show_measures(next((m for m in self.measures if m.session_id == sid), None))
        self.session_selected.emit(-1 if sid is None else sid)

    def _save_fields(self, session_id: int, fields: dict) -> None:
        self.state.update_session(session_id, **fields)
