"""A patient's course over sessions: events per minute across sessions (chart), the sessions (table), and the
clinician's fields for the chosen session (what audio cannot measure)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.records.course import SessionMeasures, comparability_warning, counted_from
from app.records.sessions import SSI4_CONCOMITANTS
from app.reports.style import LABEL_COLORS, SLD_COLOR
from app.widgets.legend import TypeLegend
from model.labels import LABELS

from .records_state import RecordsState

COLUMNS = ("Date", "Age", "Task", "Minutes", "Counted from", "SLD/min", "Interj./min", *(f"{x}/min" for x in LABELS),
           "Top-3 SLD mean (s)", "Severity (0-9)", "SSI-4 concomitants", "Naturalness")
SEVERITY = "Severity rating (0-9)"  # the chart's series of the Lidcombe severity ratings
SEVERITY_COLOR = "#777777"
SSI4_SHORT = {"ssi4_sounds": "Sounds", "ssi4_face": "Face", "ssi4_head": "Head", "ssi4_limbs": "Limbs"}  # one row
CHART_COLORS = {**LABEL_COLORS, "SLD total": SLD_COLOR, SEVERITY: SEVERITY_COLOR}  # the legend row's swatches
NOT_RATED = -1  # a spin box's "not rated" position


def table_row(m: SessionMeasures) -> list[str]:
    """What the sessions table shows for one session, in COLUMNS order."""
    return [m.date, m.age or "-", m.task, f"{m.duration / 60:.1f}", counted_from(m), f"{m.sld_per_minute:.2f}",
            f"{m.interjection_per_minute:.2f}", *(f"{m.per_minute[x]:.2f}" for x in LABELS),
            "-" if m.longest3_mean is None else f"{m.longest3_mean:.1f}",
            "-" if m.severity is None else str(m.severity),
            "-" if m.ssi4_total is None else f"{m.ssi4_total} of 20",
            "-" if m.naturalness is None else str(m.naturalness)]


def chart_series(measures: list[SessionMeasures]) -> dict[str, list[float]]:
    """Per-minute values to plot: one series per type and the SLD total."""
    series = {label: [m.per_minute[label] for m in measures] for label in LABELS}
    series["SLD total"] = [m.sld_per_minute for m in measures]
    return series


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
        for name, values in chart_series(measures).items():
            color = LABEL_COLORS.get(name, SLD_COLOR)
            self.curves[name] = self.plot(x, values, name=name, pen=pg.mkPen(color, width=3 if name == "SLD total" else 2),
                                          symbol="o", symbolSize=6, symbolBrush=color)
        rated = [(i, m.severity) for i, m in enumerate(measures) if m.severity is not None]
        if rated:  # the clinician's 0-9 rating on the same axis: a dashed grey line, its own legend entry
            self.curves[SEVERITY] = self.plot([i for i, _ in rated], [v for _, v in rated], name=SEVERITY,
                                              pen=pg.mkPen(SEVERITY_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                              symbol="s", symbolSize=7, symbolBrush=SEVERITY_COLOR)
        # Each point says what it counts: the finished review, or the model with how far the review got.
        self.getAxis("bottom").setTicks([[(i, f"{m.date}\n{counted_from(m)}") for i, m in enumerate(measures)]])
        # Half a session of room each side, so the first and last dates get their labels too.
        self.setXRange(-0.5, max(len(measures), 1) - 0.5, padding=0)


class ClinicianFields(QWidget):
    """Physical concomitants, naturalness and notes of one session."""

    save_requested = Signal(int, dict)  # session id, fields for RecordsState.update_session

    def __init__(self, parent=None):
        super().__init__(parent)
        self.session_id: int | None = None
        self.concomitants = QLineEdit(placeholderText="e.g. eye blinking, head movement")
        self.naturalness = QSpinBox(minimum=0, maximum=9, specialValueText="not rated")
        self.severity = QSpinBox(minimum=NOT_RATED, maximum=9, specialValueText="not rated")
        self.severity.setToolTip("Lidcombe severity rating: 0 no stuttering, 1 extremely mild ... 9 extremely severe")
        self.ssi4 = {key: QSpinBox(minimum=NOT_RATED, maximum=5, specialValueText="not scored")
                     for key in SSI4_CONCOMITANTS}
        self.notes = QPlainTextEdit(placeholderText="Clinician's notes on this session")
        self.save_button = QPushButton("Save session notes")
        self.save_button.clicked.connect(self._save)
        self.notes.setMaximumHeight(70)
        ratings = QHBoxLayout()
        for title, box in (("Severity (0-9)", self.severity), ("Naturalness (1 natural - 9 unnatural)",
                                                               self.naturalness)):
            ratings.addWidget(QLabel(title))
            ratings.addWidget(box)
        ratings.addStretch(1)
        ssi4 = QHBoxLayout()  # four short scores on one row: the table above keeps its room
        for key, title in SSI4_CONCOMITANTS.items():
            ssi4.addWidget(QLabel(SSI4_SHORT[key]))
            self.ssi4[key].setToolTip(f"SSI-4 physical concomitants: {title}, 0 none .. 5 severe and painful looking")
            ssi4.addWidget(self.ssi4[key])
        ssi4.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Physical concomitants", self.concomitants)
        form.addRow("Ratings", ratings)
        form.addRow("SSI-4 (0-5 each)", ssi4)
        form.addRow("Notes", self.notes)
        form.addRow(self.save_button)
        self.show_measures(None)

    def show_measures(self, m: SessionMeasures | None) -> None:
        self.session_id = None if m is None else m.session_id
        self.concomitants.setText("" if m is None else m.physical_concomitants)
        self.naturalness.setValue(0 if m is None or m.naturalness is None else m.naturalness)
        self.severity.setValue(NOT_RATED if m is None or m.severity is None else m.severity)
        for key, box in self.ssi4.items():
            box.setValue(NOT_RATED if m is None or key not in m.ssi4 else m.ssi4[key])
        self.notes.setPlainText("" if m is None else m.notes)
        self.setEnabled(m is not None)

    def _save(self) -> None:
        if self.session_id is not None:
            self.save_requested.emit(self.session_id, {
                "physical_concomitants": self.concomitants.text().strip(),
                "naturalness": self.naturalness.value() or None, "notes": self.notes.toPlainText(),
                "severity": _rated(self.severity), "ssi4": {key: _rated(box) for key, box in self.ssi4.items()}})


def _rated(box: QSpinBox) -> int | None:
    return None if box.value() == NOT_RATED else box.value()


class CourseView(QWidget):
    """Chart, table and clinician fields of the chosen patient; follows the RecordsState."""

    session_selected = Signal(int)  # session id, -1 for none

    def __init__(self, state: RecordsState, parent=None):
        super().__init__(parent)
        self.state = state
        self.measures: list[SessionMeasures] = []
        self.chart = ProgressChart()
        self.legend = TypeLegend(tuple(CHART_COLORS), colors=CHART_COLORS, note="per minute; severity as rated")
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
        self.fields = ClinicianFields()
        splitter = QSplitter(Qt.Orientation.Vertical)
        fields = QScrollArea()  # scrolls rather than squeezing the sessions table at 720 px
        fields.setWidget(self.fields)
        fields.setWidgetResizable(True)
        self.table.setMinimumHeight(110)
        for w in (self.chart, self.table, fields):
            splitter.addWidget(w)
        splitter.setSizes([4, 3, 3])  # proportions
        layout = QVBoxLayout(self)
        layout.addWidget(self.warning)
        layout.addWidget(self.legend)
        layout.addWidget(splitter)
        self.table.itemSelectionChanged.connect(self._selected)
        self.fields.save_requested.connect(self._save_fields)
        state.patient_changed.connect(self.refresh)
        state.sessions_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        chosen = self.selected_session_id()
        self.measures = self.state.measures()
        self.chart.show_measures(self.measures)
        warning = comparability_warning(self.measures)
        self.warning.setText(warning)
        self.warning.setVisible(bool(warning))
        self.table.setRowCount(len(self.measures))
        for r, m in enumerate(self.measures):
            for c, text in enumerate(table_row(m)):
                item = QTableWidgetItem(text)
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
