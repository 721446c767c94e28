"""The transcript pane: the words in time, the moments marked on their words with their type; click a word to hear it.

The words come from app.qt.clinical_state (Transcribe runs Whisper in a worker, with progress and
Cancel). A word under a kept stuttering moment has the moment's colour and, where a moment starts,
its type in small capitals before it; a word under an interjection the interjection's colour; a
word in a not-the-client stretch is grey and crossed out (the measures leave it out). Clicking a
word moves the playhead to its start and plays it.

The word under the playhead (playing, or the playhead moved) is highlighted and scrolled into view;
in a pause between words none is, so that the highlight never claims a pause as speech. Without words
the pane is one line (the Transcribe button and a hint) and the waveform keeps the room.

The clinician corrects the words here (app.transcript_edits, through ClinicalState.edit_words): a
double-click or F2 edits the word in place (typing two words splits its time between them), F3 splits it
(at the playhead when that is inside it), F4 joins it with the next, Alt+Insert adds a missed word after
it and Delete removes it; the same are on the right-click menu. The keys act on the highlighted word (or,
in a pause, the word before the playhead). Corrected words are underlined, and the %SS follows at once.
Ctrl+Z and Ctrl+Shift+Z undo and redo corrections while the words have the focus (the window routes them:
elsewhere, or with no correction to undo, they undo the review).
"""

from __future__ import annotations

import html
from bisect import bisect_right

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...transcript_edits import TranscriptEdits, is_corrected
from ..clinical_state import ClinicalState
from ..state import AnalysisState
from .colors import label_color

_SCHEME = "word"  # anchors are word:<index>
_SHORT = {"Prolongation": "PRO", "Block": "BLK", "SoundRep": "SND", "WordRep": "WRD", "Interjection": "INT"}
NO_WORDS = "No words yet: Transcribe finds the words and their times (on this computer)."
PLAYING_COLOR = "#ffd84d"  # the word under the playhead: yellow behind dark text, apart from every type colour
WORD_LINES = 4  # lines of words the pane opens to when the words arrive (the clinician can drag the splitter)
WORDS_PT = 13  # the words' font size, points
_UNLIMITED = 16777215  # QWIDGETSIZE_MAX: no maximum height
CORRECTED_STYLE = "text-decoration:underline;"  # a word the clinician edited or added
# The corrections' keys, on the pane only (the window's single letters, Insert and F5 are taken).
EDIT_KEYS = {"edit": "F2", "split": "F3", "join": "F4", "insert": "Alt+Insert", "delete": "Delete"}
EDIT_TEXTS = {"edit": "&Edit word", "split": "&Split word", "join": "&Join with next word",
              "insert": "&Add a missed word after", "delete": "&Delete word"}


class _WordEditor(QLineEdit):
    """The in-place editor over a word: Enter (or leaving it) applies the text, Escape leaves the word as it was."""

    def __init__(self, parent: QWidget, apply):
        super().__init__(parent)
        self.setObjectName("word_editor")
        self.setAccessibleName("Correct the word: Enter applies, Escape cancels")
        self.apply = apply  # called with the text once per opening
        self.editingFinished.connect(self._finish)
        self.hide()

    def open(self, rect: QRect, text: str) -> None:
        self.setGeometry(rect.left(), rect.top(), max(rect.width() + 60, 140), max(rect.height() + 6, 24))
        self.setText(text)
        self.selectAll()
        self.show()
        self.setFocus()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.hide()  # hidden first: the editingFinished of losing the focus finds it closed
            self.parentWidget().setFocus()
            return
        super().keyPressEvent(event)

    def _finish(self) -> None:
        if self.isVisible():
            typing = self.window().focusWidget() is self  # Enter; else the clinician clicked elsewhere: leave it there
            self.hide()
            if typing:
                self.parentWidget().setFocus()  # the words again, for the next key
            self.apply(self.text())


def _word_html(i: int, text: str, style: str, tag: str) -> str:
    sup = f'<sup style="color:#555">{html.escape(tag)}</sup>' if tag else ""
    return f'{sup}<a href="{_SCHEME}:{i}" style="text-decoration:none;color:#111;{style}">{html.escape(text)}</a>'


class TranscriptPane(QWidget):
    word_clicked = Signal(float, float)  # start, end seconds of the clicked word

    def __init__(self, state: AnalysisState, clinical: ClinicalState, parent=None):
        super().__init__(parent)
        self.setObjectName("transcript")
        self.state = state
        self.clinical = clinical
        self.transcribe_button = QPushButton("Tra&nscribe")
        self.transcribe_button.setToolTip("Find the words and their times (Whisper, on this computer)")
        self.transcribe_button.clicked.connect(clinical.transcribe)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(clinical.cancel)
        self.cancel_button.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.info = QLabel(NO_WORDS)
        self.info.setObjectName("transcript_info")
        self.browser = QTextBrowser()
        self.browser.setObjectName("transcript_words")
        self.browser.setOpenLinks(False)  # a click plays the word; nothing navigates
        self.browser.setAccessibleName("Transcript: click a word to hear it, double-click (F2) to correct it")
        self.browser.anchorClicked.connect(self._anchor)
        self.browser.viewport().installEventFilter(self)  # a double-click on a word edits it
        self.browser.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.browser.customContextMenuRequested.connect(self._context_menu)
        self.editor = _WordEditor(self.browser.viewport(), self._typed)
        self._editing: tuple[str, int] | None = None  # ("edit" or "insert", word index) while the editor is open
        self.edit_actions = {name: self._edit_action(name) for name in EDIT_KEYS}
        top = QHBoxLayout()
        top.addWidget(self.transcribe_button)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.info, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        self.current_word: int | None = None  # index of the highlighted word (under the playhead), None for none
        self._starts: list[float] = []  # word starts in time order, for bisect at every playback tick
        self._spans: dict[int, tuple[int, int]] = {}  # word index -> (position, length) in the browser's document
        self._compact: bool | None = None  # shown as one line (no words); None until first shown
        clinical.changed.connect(self.refresh)
        state.playhead_changed.connect(self.follow_playhead)
        clinical.transcribing.connect(self._running)
        clinical.progress.connect(lambda f: self.progress.setValue(int(f * 1000)))
        self.refresh()

    # ---- the clinician's corrections -----------------------------------------------------------
    def _edit_action(self, name: str) -> QAction:
        action = QAction(EDIT_TEXTS[name], self)
        action.setShortcut(QKeySequence(EDIT_KEYS[name]))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # only while the pane has focus
        action.triggered.connect(lambda _=False: self.correct(name))
        self.addAction(action)
        return action

    def has_focus(self) -> bool:
        """True when the words (or the word editor) hold the window's focus: the window's Ctrl+Z then undoes
        corrections. Not for the Transcribe button: a click there is no correction to undo."""
        focus = self.window().focusWidget()
        return focus is not None and (focus is self.browser or self.browser.isAncestorOf(focus))

    def target_word(self) -> int | None:
        """The word the keys correct: the highlighted one, or in a pause the one before the playhead."""
        if self.current_word is not None:
            return self.current_word
        i = bisect_right(self._starts, self.state.playhead) - 1
        return i if i >= 0 else None

    def correct(self, name: str, index: int | None = None) -> None:
        """Run one correction (an EDIT_KEYS name) on word `index` (default: target_word)."""
        index = self.target_word() if index is None else index
        if index is None or index >= len(self.clinical.data.words):
            return
        if name in ("edit", "insert"):
            self.edit_in_place(index, insert=name == "insert")
            return
        playhead = self.state.playhead
        w = self.clinical.data.words[index]
        at = playhead if name == "split" and w.start < playhead < w.end else None
        self._apply({"split": lambda t: t.split(index, at=at), "join": lambda t: t.join(index),
                     "delete": lambda t: t.delete(index)}[name])

    def edit_in_place(self, index: int, *, insert: bool = False) -> None:
        """Open the editor over word `index`: its text to correct, or empty for a word to add after it."""
        rect = self.word_rect(index)
        if rect.isEmpty():
            return
        self._editing = ("insert" if insert else "edit", index)
        self.editor.setPlaceholderText("the missed word" if insert else "")
        self.editor.open(rect.translated(rect.width() if insert else 0, 0),
                         "" if insert else self.clinical.data.words[index].text)

    def _typed(self, text: str) -> None:
        mode, index = self._editing or ("", -1)
        self._editing = None
        if mode == "edit":
            self._apply(lambda t: t.edit(index, text))
        elif mode == "insert" and text.strip():  # nothing typed: nothing to add
            duration = self.state.duration or None
            self._apply(lambda t: t.insert_after(index, text, duration=duration))

    def _apply(self, change) -> None:
        try:
            self.clinical.edit_words(change)
        except ValueError as e:  # the words are as they were: say why
            self.clinical.message.emit("warning", f"The transcript was not changed: {e}")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.browser.viewport() and event.type() == QEvent.Type.MouseButtonDblClick:
            index = self._anchor_index(event.position().toPoint())
            if index is not None:
                self.edit_in_place(index)
                return True
        return super().eventFilter(watched, event)

    def _anchor_index(self, pos: QPoint) -> int | None:
        href = self.browser.anchorAt(pos)
        return int(href[len(_SCHEME) + 1:]) if href.startswith(f"{_SCHEME}:") else None

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(pos)
        menu.exec(self.browser.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def context_menu(self, pos: QPoint) -> QMenu:
        """The right-click menu at `pos` (viewport coordinates): the corrections of the word there, undo, redo."""
        menu = QMenu(self)
        index = self._anchor_index(pos)
        if index is None:
            index = self.target_word()
        for name in EDIT_KEYS:
            # the key shown after a tab (the pane's own action has it): a second shortcut would be ambiguous
            action = menu.addAction(f"{EDIT_TEXTS[name]}\t{EDIT_KEYS[name]}", lambda n=name: self.correct(n, index))
            action.setEnabled(index is not None)
        menu.addSeparator()
        history: TranscriptEdits = self.clinical.transcript
        menu.addAction(f"&Undo {history.undo_text}".rstrip(), self.clinical.undo_edit).setEnabled(history.can_undo)
        menu.addAction(f"&Redo {history.redo_text}".rstrip(), self.clinical.redo_edit).setEnabled(history.can_redo)
        return menu

    def _running(self, running: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.transcribe_button.setEnabled(not running)
        if running:
            self.info.setText("Transcribing…")
        else:
            self.refresh()

    def refresh(self) -> None:
        data, measures = self.clinical.data, self.clinical.measures
        self._set_compact(not data.words)
        if not data.words:
            self.browser.setHtml("")
            self._starts, self._spans = [], {}
            self._highlight(None)
            if not self.clinical.running:
                self.info.setText(NO_WORDS)
            return
        counts = measures.word_counts if measures is not None else ()
        parts, previous = [], ()
        for i, w in enumerate(data.words):
            c = counts[i] if i < len(counts) else None
            style, tag, types = "", "", ()
            if c is not None and c.excluded:
                style = "color:#999;text-decoration:line-through;"
            elif c is not None and c.in_moment:
                types = c.moment_types
                style = f"background-color:{label_color(types[0]).name()};color:#fff;"
                tag = "+".join(_SHORT.get(t, t) for t in types) if types != previous else ""
            elif c is not None and c.in_interjection:
                style = f"background-color:{label_color('Interjection').name()};color:#fff;"
                tag = _SHORT["Interjection"]
            previous = types
            if is_corrected(w):
                style = style.replace("text-decoration:line-through;", "") + (
                    "text-decoration:underline line-through;" if c is not None and c.excluded else CORRECTED_STYLE)
            parts.append(_word_html(i, w.text, style, tag))
        self.browser.setHtml(f'<div style="font-size:{WORDS_PT}pt;line-height:150%">' + " ".join(parts) + "</div>")
        self._starts = [w.start for w in data.words]
        self._spans = self._word_spans()
        self.current_word = None  # the new document has no highlight yet: put it back where the playhead is
        self.follow_playhead(self.state.playhead)
        left = f", {data.excluded_s:.1f} s not the client" if data.excluded else ""
        corrected = sum(map(is_corrected, data.words))
        fixed = f", {corrected} corrected" if corrected else ""
        self.info.setText(f"{len(data.words)} words ({data.transcriber}){fixed}{left}")

    def _anchor(self, url: QUrl) -> None:
        if url.scheme() != _SCHEME:
            return
        self.play_word(int(url.path()))

    def play_word(self, index: int) -> None:
        """Move the playhead to word `index` and ask for it to be played (word_clicked)."""
        w = self.clinical.data.words[index]
        self.state.set_playhead(w.start)
        self.word_clicked.emit(w.start, w.end)

    def word_rect(self, index: int) -> QRect:
        """Where word `index` is drawn, in the browser's viewport coordinates (empty when not shown)."""
        if index not in self._spans:
            return QRect()
        position, length = self._spans[index]
        cursor = QTextCursor(self.browser.document())
        cursor.setPosition(position)
        left = self.browser.cursorRect(cursor)
        cursor.setPosition(position + length)
        right = self.browser.cursorRect(cursor)
        return QRect(left.topLeft(), right.bottomRight()).normalized()

    def word_at(self, seconds: float) -> int | None:
        """Index of the word being spoken at `seconds` (start <= seconds < end); None in a pause or off the words."""
        i = bisect_right(self._starts, seconds) - 1
        return i if i >= 0 and seconds < self.clinical.data.words[i].end else None

    def follow_playhead(self, seconds: float) -> None:
        """Highlight the word under the playhead and scroll it into view; nothing to do while it is the same word."""
        index = self.word_at(seconds) if self._starts else None
        if index != self.current_word:  # most playback ticks land in the same word: no repaint then
            self._highlight(index)

    def _highlight(self, index: int | None) -> None:
        self.current_word = index
        if index is None or index not in self._spans:
            self.browser.setExtraSelections([])
            return
        position, length = self._spans[index]
        cursor = QTextCursor(self.browser.document())
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        look = QTextCharFormat()
        look.setBackground(QColor(PLAYING_COLOR))
        look.setForeground(QColor("#111111"))
        chosen = QTextEdit.ExtraSelection()
        chosen.cursor, chosen.format = cursor, look  # set whole: PySide6 hands out copies of the fields
        self.browser.setExtraSelections([chosen])
        rect, view = self.word_rect(index), self.browser.viewport().rect()
        if not rect.isEmpty() and not view.contains(rect):  # off screen: bring its line to a third of the way down
            bar = self.browser.verticalScrollBar()
            bar.setValue(bar.value() + rect.top() - view.height() // 3)

    def _word_spans(self) -> dict[int, tuple[int, int]]:
        """Word index -> (position, length) of its anchor in the document: one walk per new document."""
        spans = {}
        block = self.browser.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                href = frag.charFormat().anchorHref()
                if href.startswith(f"{_SCHEME}:"):
                    spans[int(href[len(_SCHEME) + 1:])] = (frag.position(), frag.length())
                it += 1
            block = block.next()
        return spans

    def _set_compact(self, compact: bool) -> None:
        """One line without words (the waveform gets the room); WORD_LINES of words once they come."""
        if compact == self._compact:
            return
        self._compact = compact
        self.browser.setVisible(not compact)
        if compact:
            self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
            self.setMaximumHeight(self.layout().sizeHint().height())
            return
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMaximumHeight(_UNLIMITED)
        splitter = self.parentWidget()
        if isinstance(splitter, QSplitter):  # open to a few lines, taken from the largest neighbour
            words_font = QFont(self.font())
            words_font.setPointSizeF(WORDS_PT)
            line = QFontMetrics(words_font).lineSpacing() * 1.5  # the words' 150 % line height
            want = self.layout().itemAt(0).sizeHint().height() + int(WORD_LINES * line) + 2 * self.browser.frameWidth()
            sizes = splitter.sizes()
            me = splitter.indexOf(self)
            if sizes[me] < want:
                largest = max((i for i in range(len(sizes)) if i != me), key=lambda i: sizes[i])
                give = min(want - sizes[me], max(sizes[largest] - 150, 0))  # the neighbour keeps 150 px
                sizes[me] += give
                sizes[largest] -= give
                splitter.setSizes(sizes)
