"""The transcript pane follows playback (the word under the playhead is highlighted and scrolled into view) and
takes one line until there are words, so that the waveform keeps the room at 1280x720."""

from __future__ import annotations

import pytest
from review_fixtures import THRESHOLDS, fake_predictions
from test_main_window import ScriptedDialogs, make_window
from test_transcript import ListTranscriber, spoken_words, transcribe

from app.qt.widgets.transcript import NO_WORDS


@pytest.fixture()
def win(qtbot, app_settings):
    win = make_window(qtbot, app_settings, ScriptedDialogs(), size=(1280, 720))
    win.state.set_recording("fake.wav")
    win.state.set_predictions(fake_predictions(), THRESHOLDS)  # Block 2-6 s, Interjections 6-9 and 12-16 s
    win.clinical.transcriber_factory = lambda: ListTranscriber(spoken_words())
    return win


def highlighted_text(pane) -> str:
    return " ".join(s.cursor.selectedText() for s in pane.browser.extraSelections())


def test_the_word_under_the_playhead_is_highlighted_and_none_in_a_pause(qtbot, win):
    transcribe(qtbot, win)
    pane, words = win.transcript, win.clinical.data.words
    w = words[20]  # 6.667 .. 6.967 s; the next word starts at 7.0 s
    win.state.set_playhead(w.start + 0.1)
    assert pane.current_word == 20 and highlighted_text(pane) == w.text
    win.state.set_playhead(w.end + 0.01)  # the 33 ms pause before word 21: no word is being spoken
    assert pane.current_word is None and pane.browser.extraSelections() == []
    win.state.set_playhead(words[21].start)  # a click on a word puts the playhead at its start: that word
    assert pane.current_word == 21 and highlighted_text(pane) == words[21].text
    win.state.review.reject(next(r.key for r in win.state.rows if r.label == "Block"))  # the pane is redrawn
    assert pane.current_word == 21 and highlighted_text(pane) == words[21].text


def test_playback_ticks_inside_one_word_do_not_repaint(qtbot, win, monkeypatch):
    transcribe(qtbot, win)
    pane, words = win.transcript, win.clinical.data.words
    calls = []
    original = pane.browser.setExtraSelections
    monkeypatch.setattr(pane.browser, "setExtraSelections", lambda s: (calls.append(len(s)), original(s)))
    for t in (0.70, 0.75, 0.80, 0.85, 0.90, 0.95):  # the player's ticks, all inside word 2 (0.667 .. 0.967 s)
        win.state.set_playhead(t)
    assert calls == [1] and pane.current_word == 2
    win.state.set_playhead(words[3].start + 0.05)
    assert calls == [1, 1] and pane.current_word == 3


def test_the_playing_word_is_scrolled_into_view(qtbot, win):
    transcribe(qtbot, win)
    pane, splitter = win.transcript, win.page.splitter
    sizes = splitter.sizes()
    me = splitter.indexOf(pane)
    sizes[0] += sizes[me] - 70
    sizes[me] = 70  # the clinician dragged the pane down to a line or two of words
    splitter.setSizes(sizes)
    bar = pane.browser.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)
    assert bar.value() == 0
    last = len(win.clinical.data.words) - 1
    assert not pane.browser.viewport().rect().contains(pane.word_rect(last))
    win.state.set_playhead(win.clinical.data.words[last].start + 0.1)
    assert pane.current_word == last and bar.value() > 0
    assert pane.browser.viewport().rect().contains(pane.word_rect(last))


def test_the_pane_is_one_line_until_words_come_then_opens(qtbot, win):
    pane, waveform = win.transcript, win.page.waveform
    qtbot.wait(50)
    assert not pane.browser.isVisible() and pane.info.text() == NO_WORDS
    line = pane.transcribe_button.sizeHint().height()
    assert pane.height() <= line + 4  # the Transcribe button and its hint, nothing under them
    empty_waveform = waveform.height()
    transcribe(qtbot, win)
    qtbot.wait(50)
    assert pane.browser.isVisible() and pane.height() >= line + 80  # a few lines of words
    assert waveform.height() < empty_waveform  # the room came from the plots, and can be dragged back
    win.state.set_recording("other.wav")  # another recording: no words again, one line again
    qtbot.wait(50)
    assert not pane.browser.isVisible() and pane.height() <= line + 4
    assert pane.current_word is None
