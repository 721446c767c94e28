"""Review > Find the speakers (issue 26 item 1): a generated two-voice conversation's other voice is marked not
the client in one undo step, said to be a proposal, swapped on request, cancelled, and saved as any stretch."""

from __future__ import annotations

import pytest
import soundfile as sf
from test_main_window import ScriptedDialogs, make_window

from model.audio.decode import SAMPLE_RATE


def _close(found, turns) -> bool:
    return len(found) == len(turns) and all(abs(fs - s) <= 0.3 and abs(fe - e) <= 0.3
                                            for (s, e), (fs, fe) in zip(turns, found, strict=True))


@pytest.fixture()
def talk_window(qtbot, app_settings, two_voice_conversation, tmp_path):
    audio, _, _ = two_voice_conversation
    wav = tmp_path / "talk.wav"
    sf.write(str(wav), audio, SAMPLE_RATE)
    win = make_window(qtbot, app_settings, ScriptedDialogs())
    win.open_file(wav)
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    return win


def test_find_the_speakers_fills_the_bands_in_one_undo_step_and_swaps(qtbot, talk_window, two_voice_conversation):
    from app.records.from_analysis import draft_from_analysis

    _, interviewer, client = two_voice_conversation
    win = talk_window
    assert not win.swap_speakers_action.isEnabled()  # nothing found yet
    seen = []
    win.clinical.speakers_progress.connect(seen.append)
    win.find_speakers_action.trigger()
    assert win.cancel_button.isVisible() and win.progress.isVisible()
    qtbot.waitUntil(lambda: not win.clinical.finding_speakers, timeout=30_000)
    found = win.clinical.data.excluded
    assert _close(found, interviewer), (found, interviewer)
    assert len(win.exclude_drag.bands) == len(interviewer) and seen[-1] == 1.0
    assert "check the grey bands" in win.page.banner.text() and not win.cancel_button.isVisible()
    assert draft_from_analysis(win.current_analysis, patient_id=1, task="conversation").clinical["excluded"] == [
        list(x) for x in found]  # saved with the draft and the session as any stretch
    win.swap_speakers_action.trigger()  # the other voice is the client
    assert _close(win.clinical.data.excluded, client), (win.clinical.data.excluded, client)
    win.undo_action.trigger()  # Ctrl+Z: back to the first proposal
    assert win.clinical.data.excluded == found
    win.undo_action.trigger()  # and the whole proposal goes in one step
    assert win.clinical.data.excluded == () and not win.exclude_drag.bands


def test_a_hand_mark_stays_and_cancel_leaves_the_stretches_as_they_were(qtbot, talk_window):
    win = talk_window
    win.clinical.exclude(0.0, 0.5)
    win.find_speakers_action.trigger()
    win.cancel_button.click()
    qtbot.wait(2000)  # past the end of the run: its late result must not land
    assert win.clinical.data.excluded == ((0.0, 0.5),) and not win.clinical.finding_speakers
    assert not win.cancel_button.isVisible() and "cancelled" in win.status_label.text()
    win.find_speakers_action.trigger()
    qtbot.waitUntil(lambda: not win.clinical.finding_speakers, timeout=30_000)
    assert win.clinical.data.excluded[0][0] == 0.0 and len(win.clinical.data.excluded) >= 2  # kept beside them
