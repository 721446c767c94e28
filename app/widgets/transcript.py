"""The transcript pane: the words in time, the moments marked on their words with their type; click a word to hear it.

The words come from app.clinical_state (Transcribe runs Whisper in a worker, with progress and
Cancel). A word under a kept stuttering moment has the moment's colour and, where a moment starts,
its type in small capitals before it; a word under an interjection the interjection's colour; a
word in a not-the-client stretch is grey and crossed out (the measures leave it out). Clicking a
word moves the playhead to its start and plays it.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QRect, QUrl, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..clinical_state import ClinicalState
from ..state import AnalysisState
from .colors import label_color

_SCHEME = "word"  # anchors are word:<index>
_SHORT = {"Prolongation": "PRO", "Block": "BLK", "SoundRep": "SND", "WordRep": "WRD", "Interjection": "INT"}


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
        self.info = QLabel("No words yet: Transcribe finds them.")
        self.info.setObjectName("transcript_info")
        self.browser = QTextBrowser()
        self.browser.setObjectName("transcript_words")
        self.browser.setOpenLinks(False)  # a click plays the word; nothing navigates
        self.browser.setAccessibleName("Transcript: click a word to hear it")
        self.browser.anchorClicked.connect(self._anchor)
        top = QHBoxLayout()
        top.addWidget(self.transcribe_button)
        top.addWidget(self.progress, 1)
        top.addWidget(self.cancel_button)
        top.addWidget(self.info, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        clinical.changed.connect(self.refresh)
        clinical.transcribing.connect(self._running)
        clinical.progress.connect(lambda f: self.progress.setValue(int(f * 1000)))
        self.refresh()

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
        if not data.words:
            self.browser.setHtml("")
            if not self.clinical.running:
                self.info.setText("No words yet: Transcribe finds them.")
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
            parts.append(_word_html(i, w.text, style, tag))
        self.browser.setHtml('<div style="font-size:13pt;line-height:150%">' + " ".join(parts) + "</div>")
        left = f", {data.excluded_s:.1f} s not the client" if data.excluded else ""
        self.info.setText(f"{len(data.words)} words ({data.transcriber}){left}")

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
        doc = self.browser.document()
        block = doc.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                frag = it.fragment()
                if frag.charFormat().anchorHref() == f"{_SCHEME}:{index}":
                    cursor = QTextCursor(doc)
                    cursor.setPosition(frag.position())
                    left = self.browser.cursorRect(cursor)
                    cursor.setPosition(frag.position() + frag.length())
                    right = self.browser.cursorRect(cursor)
                    return QRect(left.topLeft(), right.bottomRight()).normalized()
                it += 1
            block = block.next()
        return QRect()
