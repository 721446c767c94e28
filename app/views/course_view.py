"""A patient's course over sessions: events per minute across sessions (chart), the sessions (table), and the
clinician's fields for the chosen session (what audio cannot measure)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.records.course import SessionMeasures
from app.reports.style import LABEL_COLORS, SLD_COLOR
from model.labels import LABELS

from .records_state import RecordsState

COLUMNS = ("Date", "Task", "Minutes", "Counted from", "SLD/min", "Interj./min", *(f"{x}/min" for x in LABELS),
           "Top-3 SLD mean (s)", "Naturalness")


def table_row(m: SessionMeasures) -> list[str]:
    """What the sessions table shows for one session, in COLUMNS order."""
    return [m.date, m.task, f"{m.duration / 60:.1f}", m.source, f"{m.sld_per_minute:.2f}",
            f"{m.interjection_per_minute:.2f}", *(f"{m.per_minute[x]:.2f}" for x in LABELS),
            "-" if m.longest3_mean is None else f"{m.longest3_mean:.1f}",
            "-" if m.naturalness is None else str(m.naturalness)]


def chart_series(measures: list[SessionMeasures]) -> dict[str, list[float]]:
    """Per-minute values to plot: one series per type and the SLD total."""
    series = {label: [m.per_minute[label] for m in measures] for label in LABELS}
    series["SLD total"] = [m.sld_per_minute for m in measures]
    return series


class ProgressChart(pg.PlotWidget):
    def __init__(self, parent=None):
        super().__init__(parent, background="w")
        self.setMinimumHeight(220)
        self.setLabel("left", "events per minute")
        self.showGrid(y=True, alpha=0.3)
        self.addLegend(offset=(10, 5))
        self.curves: dict[str, pg.PlotDataItem] = {}

    def show_measures(self, measures: list[SessionMeasures]) -> None:
        self.clear()
        self.curves = {}
        x = list(range(len(measures)))
        for name, values in chart_series(measures).items():
            color = LABEL_COLORS.get(name, SLD_COLOR)
            self.curves[name] = self.plot(x, values, name=name, pen=pg.mkPen(color, width=3 if name == "SLD total" else 2),
                                          symbol="o", symbolSize=6, symbolBrush=color)
        self.getAxis("bottom").setTicks([[(i, m.date) for i, m in enumerate(measures)]])
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
        self.notes = QPlainTextEdit(placeholderText="Clinician's notes on this session")
        self.notes.setMaximumHeight(90)
        self.save_button = QPushButton("Save session notes")
        self.save_button.clicked.connect(self._save)
        form = QFormLayout(self)
        form.addRow("Physical concomitants", self.concomitants)
        form.addRow("Naturalness (1 natural - 9 unnatural)", self.naturalness)
        form.addRow("Notes", self.notes)
        form.addRow(self.save_button)
        self.show_measures(None)

    def show_measures(self, m: SessionMeasures | None) -> None:
        self.session_id = None if m is None else m.session_id
        self.concomitants.setText("" if m is None else m.physical_concomitants)
        self.naturalness.setValue(0 if m is None or m.naturalness is None else m.naturalness)
        self.notes.setPlainText("" if m is None else m.notes)
        self.setEnabled(m is not None)

    def _save(self) -> None:
        if self.session_id is not None:
            self.save_requested.emit(self.session_id, {
                "physical_concomitants": self.concomitants.text().strip(),
                "naturalness": self.naturalness.value() or None, "notes": self.notes.toPlainText()})


class CourseView(QWidget):
    """Chart, table and clinician fields of the chosen patient; follows the RecordsState."""

    session_selected = Signal(int)  # session id, -1 for none

    def __init__(self, state: RecordsState, parent=None):
        super().__init__(parent)
        self.state = state
        self.measures: list[SessionMeasures] = []
        self.chart = ProgressChart()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.fields = ClinicianFields()
        splitter = QSplitter(Qt.Orientation.Vertical)
        for w in (self.chart, self.table, self.fields):
            splitter.addWidget(w)
        QVBoxLayout(self).addWidget(splitter)
        self.table.itemSelectionChanged.connect(self._selected)
        self.fields.save_requested.connect(self._save_fields)
        state.patient_changed.connect(self.refresh)
        state.sessions_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        chosen = self.selected_session_id()
        self.measures = self.state.measures()
        self.chart.show_measures(self.measures)
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
