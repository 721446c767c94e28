"""The events table: a Qt model over the review state's rows, and a view kept in step with the waveform."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ..state import AnalysisState
from .colors import label_color

COLUMNS = ("Type", "Start (s)", "End (s)", "Duration (s)", "Confidence", "Status")
KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's key, for tests and for the selection


class EventsTableModel(QAbstractTableModel):
    def __init__(self, state: AnalysisState, parent=None):
        super().__init__(parent)
        self.state = state
        self._shown: list = []  # the rows as last shown: a decision repaints only the rows it changed
        state.events_changed.connect(self._reset)

    def _reset(self) -> None:
        rows, shown = list(self.state.rows), self._shown
        keys, before = [r.key for r in rows], [r.key for r in shown]
        if keys != before:  # rows added, removed or reordered (a threshold, a new recording)
            self.beginResetModel()
            self._shown = rows
            self.endResetModel()
            return
        self._shown = rows
        changed = [i for i, (new, old) in enumerate(zip(rows, shown, strict=True)) if new != old]
        if changed:  # one range: a decision changes one row
            self.dataChanged.emit(self.index(min(changed), 0), self.index(max(changed), len(COLUMNS) - 1))

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.state.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.state.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, col)
        if role == KEY_ROLE:
            return row.key
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return label_color(row.label)
        if role == Qt.ItemDataRole.FontRole and not row.kept:
            font = QFont()
            font.setStrikeOut(True)  # rejected events stay visible, so that the decision can be seen and undone
            return font
        if role == Qt.ItemDataRole.ToolTipRole and row.model_label:
            return f"the model said {row.model_label}"
        if role == Qt.ItemDataRole.TextAlignmentRole and 0 < col < 5:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(row, col: int) -> str:
        if col == 0:
            return row.label
        if col == 5:
            return row.decision  # "not the client" for the interviewer's events (no decision needed)
        value = (row.start, row.end, row.duration, row.confidence)[col - 1]
        return f"{value:.2f}"


class EventsTable(QTableView):
    play_requested = Signal(str)  # a double-click or Enter: listen to this event

    def __init__(self, state: AnalysisState, parent=None):
        super().__init__(parent)
        self.state = state
        self.setObjectName("events_table")
        self.setAccessibleName("Events")
        self.setModel(EventsTableModel(state, self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        # Measured once per new set of rows, not at every decision: ResizeToContents reads every row's
        # every cell again on each change (0.4 s with 1,000 events).
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        # ... and from the rows in view plus 50, not all of them: every row's every cell read on each new set
        # took 0.5 s of a 1,000-moment analysis's 0.7 s on screen (Qt's default precision is 1,000 rows).
        self.horizontalHeader().setResizeContentsPrecision(50)
        self.model().modelReset.connect(self.resizeColumnsToContents)
        self._syncing = False
        self.selectionModel().currentRowChanged.connect(self._row_changed)
        self.doubleClicked.connect(lambda index: self.play_requested.emit(self.state.rows[index.row()].key))
        state.selection_changed.connect(self._select_key)
        state.events_changed.connect(lambda: self._select_key(state.selected_key))

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not self._syncing and current.isValid():
            self.state.select(self.state.rows[current.row()].key)

    def _select_key(self, key: str) -> None:
        i = self.state.row_index(key)
        self._syncing = True
        try:
            if i < 0:
                self.selectionModel().clearSelection()
            else:
                index = self.model().index(i, 0)
                self.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
                self.scrollTo(index)
        finally:
            self._syncing = False

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.state.selected_key:
            self.play_requested.emit(self.state.selected_key)
            return
        super().keyPressEvent(event)
