"""Every keyboard shortcut of the window, listed and checked for clashes (issue 15: Alt+P, Alt+B)."""

from __future__ import annotations

import re
from collections import Counter

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QDialog, QLabel, QMenu
from test_main_window import make_window

_MNEMONIC = re.compile(r"(?<!&)&([^&\s])")


def mnemonic(text: str) -> str | None:
    m = _MNEMONIC.search(text or "")
    return f"Alt+{m.group(1).upper()}" if m else None


def window_shortcuts(win) -> list[tuple[str, str]]:
    """(key, what) for every window-wide key: action shortcuts, QShortcuts, Alt+letter of menus, tabs and
    the Analysis page's labels and buttons (the page that is open when the keys are used)."""
    keys = []
    for action in win.findChildren(QAction):
        if action.menu() is None:
            keys += [(s.toString(QKeySequence.SequenceFormat.PortableText), action.text()) for s in action.shortcuts()]
    keys += [(s.key().toString(QKeySequence.SequenceFormat.PortableText), s.objectName())
             for s in win.findChildren(QShortcut)]
    keys += [(mnemonic(a.text()), a.text()) for a in win.menuBar().actions()]
    keys += [(mnemonic(win.tabs.tabText(i)), win.tabs.tabText(i)) for i in range(win.tabs.count())]
    for widget in win.page.findChildren(QLabel):
        if widget.buddy() is not None:
            keys.append((mnemonic(widget.text()), widget.text()))
    keys += [(mnemonic(b.text()), b.text()) for b in win.page.findChildren(QAbstractButton)]
    return [(k, what) for k, what in keys if k]


def test_every_shortcut_is_unique(qtbot, app_settings):
    from test_main_window import ScriptedDialogs

    win = make_window(qtbot, app_settings, ScriptedDialogs())
    keys = window_shortcuts(win)
    assert len(keys) > 25  # the table is really there: menus, tabs, review and playback keys
    clashes = {k: [w for kk, w in keys if kk == k] for k, n in Counter(k for k, _ in keys).items() if n > 1}
    assert clashes == {}
    assert ("Alt+P", "&Play") in keys and ("Alt+B", "&Batch") in keys  # the two that used to clash


def test_menu_items_have_unique_mnemonics_within_their_menu(qtbot, app_settings):
    from test_main_window import ScriptedDialogs

    win = make_window(qtbot, app_settings, ScriptedDialogs())
    for menu in win.findChildren(QMenu):
        letters = [mnemonic(a.text()) for a in menu.actions() if mnemonic(a.text())]
        assert len(letters) == len(set(letters)), (menu.title(), letters)


def test_a_stretch_is_marked_from_the_keyboard_and_undone(qtbot, app_settings):
    """S at the playhead starts a not-the-client stretch, S again ends it (issue 23); Ctrl+Z gives it back."""
    from PySide6.QtCore import Qt
    from review_fixtures import THRESHOLDS, fake_predictions
    from test_main_window import ScriptedDialogs

    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.state.set_recording("fake.wav")
    win.state.set_predictions(fake_predictions(), THRESHOLDS)  # Block 2-6 s, Interjections 6-9 and 12-16 s
    assert ("S", win.mark_stretch_action.text()) in window_shortcuts(win)  # listed in the Review menu with its key
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)  # window shortcuts need the active window
    target = win.page.waveform  # the key reaches the window's shortcut from whatever has the focus
    win.state.set_playhead(5.5)
    qtbot.keyClick(target, Qt.Key.Key_S)
    assert win.exclude_drag.pending == 5.5 and win.clinical.data.excluded == ()
    assert "press S again" in win.status_label.text()
    win.state.set_playhead(10.0)
    qtbot.keyClick(target, Qt.Key.Key_S)
    assert win.clinical.data.excluded == ((5.5, 10.0),) and win.exclude_drag.pending is None
    # The first Interjection (6-9 s) is the interviewer's: marked, out of the counts and of "k of n".
    assert [r.not_client for r in win.state.rows] == [False, True, False]
    assert win.state.review.progress == (0, 2) and win.page.summary.text("interjection").startswith("1 event")
    table = win.page.table.model()
    assert table.data(table.index(1, 5)) == "not the client"  # listed, marked, no decision asked
    qtbot.keyClick(target, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.clinical.data.excluded == () and win.state.review.progress == (0, 3)
    assert win.page.summary.text("interjection").startswith("2 events")


def test_the_shortcuts_dialog_lists_every_key_the_windows_actions_define(qtbot, app_settings):
    """Help > Keyboard shortcuts (F1) reads the keys from the actions: none is missing, the new ones included."""
    from test_main_window import ScriptedDialogs

    from app.qt.widgets.shortcuts_dialog import COLUMNS

    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.shortcuts_action.trigger()
    (dialog,) = [d for d in win.findChildren(QDialog) if d.windowTitle() == "Keyboard shortcuts"]
    table = dialog.table
    listed = {tuple(table.item(r, c).text() for c in range(len(COLUMNS))) for r in range(table.rowCount())}
    key_what = {(key, what) for key, what, _where in listed}
    wanted = {(s.toString(QKeySequence.SequenceFormat.NativeText), a.text().replace("&", "").rstrip("…"))
              for a in win.findChildren(QAction) for s in a.shortcuts()}
    assert len(wanted) > 30 and wanted <= key_what, wanted - key_what
    keys = {key for key, _what in key_what}
    assert {"S", "F2", "F3", "F4", "Alt+Ins", "Del", "Ctrl+Shift+S", "F1"} <= keys, keys
    where = {what: place for _key, what, place in listed}
    assert where[win.mark_stretch_action.text().replace("&", "")] == "Review"
    assert where[win.retype_actions[0].text()] == "Review > Retype as"
    assert any("while it has the focus" in place for place in where.values())  # the transcript pane's keys
