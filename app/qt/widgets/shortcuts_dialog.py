"""Help > Keyboard shortcuts: every key the window's actions define, read from the actions when the dialog opens,
so the list is the keys as they are (a new action with a shortcut is listed without touching this file)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ("Key", "What it does", "Where")


def _where(action: QAction) -> str:
    """The menu path of the action ("Review > Retype as"), or, for a key of one pane, the pane and when it works."""
    menus = [w for w in action.associatedObjects() if isinstance(w, QMenu)]
    if menus:
        path, menu = [], menus[0]
        while isinstance(menu, QMenu):
            path.insert(0, menu.title().replace("&", ""))
            menu = menu.parent()
        return " > ".join(path)
    owner = action.parent()
    name = (owner.accessibleName() or owner.objectName() or type(owner).__name__) if owner is not None else ""
    if action.shortcutContext() != Qt.ShortcutContext.WindowShortcut:
        return f"{name[:1].upper()}{name[1:]} (while it has the focus)"
    return name


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(key, what, where) for every action under `window` that has a shortcut, in the order they were made."""
    rows = []
    for action in window.findChildren(QAction):
        what = action.text().replace("&", "").rstrip("…")
        for key in action.shortcuts():
            rows.append((key.toString(QKeySequence.SequenceFormat.NativeText), what, _where(action)))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget):
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setAccessibleName("Keyboard shortcuts: key, what it does, where")
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 560)
