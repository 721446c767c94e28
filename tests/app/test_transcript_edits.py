"""The clinician's corrections of the transcript (app.transcript_edits), Qt-free: each edit, undo and redo, the
syllables and %SS after it against numbers worked by hand, bad input refused, and the corrections kept by the
stored words (a draft's and a real SQLite session's)."""

from __future__ import annotations

import pytest
from test_clinical_records import draft as session_draft

from app.clinical import ClinicalData
from app.records.clinical_json import check_clinical
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import add_session, get_session
from app.transcript_edits import (
    ADDED,
    EDITED,
    WHISPER,
    TranscriptEdits,
    TranscriptWord,
    corrected_note,
    is_corrected,
    origin_of,
)
from model.measures.clinical import STUTTERING, compute_measures
from model.measures.words import Word
from model.moments.decoding import Moment

# 60 different one-syllable words (none a filler, none repeated, none the start of its neighbour: model.measures.clinical'
# rule 2 counts each once), 0.3 s long every 0.5 s: word k from k/2 to k/2 + 0.3 s, 29.8 s of speech.
_SPOKEN = ("cat dog sun tree car book lamp desk chair door wall roof road hill lake rain snow wind fish bird frog cow "
           "horse sheep goat duck mouse rat bear wolf fox deer hat coat shoe sock shirt belt ring bell drum harp "
           "flute song dance game jam kite boat ship train plane truck bike bus van milk bread cheese pen")
TEXTS = tuple(_SPOKEN.split())
DURATION = 31.0
STUTTERED = (10, 20, 30)  # "wall", "frog", "fox": one Block inside each


def words() -> tuple[Word, ...]:
    return tuple(Word(k / 2, k / 2 + 0.3, t, 0.8) for k, t in enumerate(TEXTS))


def moments() -> list[Moment]:
    return [Moment(k / 2 + 0.05, k / 2 + 0.25, ("Block",), STUTTERING) for k in STUTTERED]


def measure(ws):
    return compute_measures(ws, moments(), duration=DURATION)


def test_the_words_as_written_give_3_in_60():
    m = measure(words())
    # By hand: 60 words of one syllable, 3 Blocks each on its own word: 3 / 60 x 100 = 5.0 %SS.
    assert (m.words, m.syllables, m.stuttered_syllables, m.pct_ss) == (60, 60, 3, 5.0)


def test_delete_a_word_under_no_moment():
    t = TranscriptEdits(words())
    assert t.delete(5) and t.undo_text == "delete 'book'"
    m = measure(t.words)
    # By hand: 59 words, 59 syllables, the 3 Blocks still on their words: 3 / 59 x 100 = 5.0847 %SS.
    assert (m.words, m.syllables, m.stuttered_syllables) == (59, 59, 3)
    assert m.pct_ss == pytest.approx(300 / 59)
    assert "book" not in [w.text for w in t.words]


def test_delete_the_stuttered_word_the_moment_goes_to_the_next():
    t = TranscriptEdits(words())
    t.delete(10)  # "wall", under the first Block
    m = measure(t.words)
    # By hand: the Block (5.05-5.25 s) is over no word; the next word starts at 5.5 s, within 2 s (rule 4):
    # it stutters that one. 3 stuttered of 59 syllables.
    assert (m.syllables, m.stuttered_syllables, m.unattached_moments) == (59, 3, 0)
    assert m.word_counts[10].text == "roof" and m.word_counts[10].stuttered_syllables == 1


def test_edit_a_word_into_a_longer_one():
    t = TranscriptEdits(words())
    t.edit(5, "elephant")
    m = measure(t.words)
    # By hand: "book" (1) becomes "elephant" (3): 62 syllables, 3 stuttered: 300 / 62 = 4.839 %SS.
    assert (m.words, m.syllables, m.stuttered_syllables) == (60, 62, 3)
    assert m.pct_ss == pytest.approx(300 / 62)
    w = t.words[5]
    assert (w.text, w.start, w.end, origin_of(w), w.probability) == ("elephant", 2.5, 2.8, EDITED, 1.0)
    assert not t.edit(5, " elephant ")  # the same word again: no undo step
    assert t.undo_text == "edit 'book'"


def test_split_football_then_join_it_again():
    t = TranscriptEdits(words())
    t.edit(5, "football")
    # By hand: "book" (1) -> "football" (2): 61 syllables, 300 / 61 %SS.
    assert (measure(t.words).syllables, measure(t.words).pct_ss) == (61, pytest.approx(300 / 61))
    t.split(5)
    foot, ball = t.words[5:7]
    # Cut in the middle of its 8 characters, at the matching time: 2.5 + 0.3 x 4 / 8 = 2.65 s.
    assert (foot.text, foot.start, foot.end) == ("foot", 2.5, pytest.approx(2.65))
    assert (ball.text, ball.start, ball.end) == ("ball", pytest.approx(2.65), 2.8)
    m = measure(t.words)
    # By hand: "foot" 1 + "ball" 1 = "football" 2: 61 words now, still 61 syllables and 3 / 61.
    assert (m.words, m.syllables, m.stuttered_syllables) == (61, 61, 3)
    t.join(5)
    assert t.words[5].text == "football" and (t.words[5].start, t.words[5].end) == (2.5, 2.8)
    assert (measure(t.words).words, measure(t.words).syllables) == (60, 61)


def test_typing_two_words_splits_by_characters_and_a_stuttered_word_split_still_counts_once():
    t = TranscriptEdits(words())
    t.edit(20, "two sales")  # "frog", 10.0-10.3 s, under the second Block (10.05-10.25 s)
    two, sales = t.words[20:22]
    # By hand: 3 and 5 characters share 0.3 s: "two" 10.0-10.1125 s, "sales" 10.1125-10.3 s.
    assert (two.end, sales.start) == (pytest.approx(10.1125), pytest.approx(10.1125))
    m = measure(t.words)
    # By hand: 61 one-syllable words; the Block overlaps both halves but stutters one syllable (rule 4): 3 / 61.
    assert (m.words, m.syllables, m.stuttered_syllables) == (61, 61, 3)
    assert m.word_counts[20].stuttered_syllables == 1 and m.word_counts[21].stuttered_syllables == 0
    assert m.word_counts[21].in_moment  # both halves are words on the moment


def test_add_a_missed_word_in_the_pause_after_one():
    t = TranscriptEdits(words())
    t.insert_after(5, "and", duration=DURATION)
    added = t.words[6]
    # By hand: the pause after "book" is 2.8-3.0 s (0.2 s, under MAX_ADDED_S): the word fills it.
    assert (added.text, added.start, added.end, origin_of(added)) == ("and", 2.8, 3.0, ADDED)
    m = measure(t.words)
    # By hand: 61 words, 61 syllables, 3 stuttered: 300 / 61 = 4.918 %SS.
    assert (m.words, m.syllables, m.pct_ss) == (61, 61, pytest.approx(300 / 61))
    t.insert("a", 30.0, 30.4, duration=DURATION)  # after the last word (29.5-29.8 s)
    assert t.words[-1].text == "a" and len(t.words) == 62


def test_a_word_added_where_the_words_touch_shares_the_time_before_it():
    t = TranscriptEdits((Word(0.0, 0.5, "two", 0.9), Word(0.5, 1.0, "sales", 0.9)))
    t.insert_after(0, "x")
    # By hand: "two" and "x" share 0-0.5 s by characters (3 and 1): 0-0.375 and 0.375-0.5 s.
    assert [(w.text, w.start, w.end, origin_of(w)) for w in t.words] == [
        ("two", 0.0, 0.375, EDITED), ("x", 0.375, 0.5, ADDED), ("sales", 0.5, 1.0, WHISPER)]


def test_undo_and_redo_walk_the_edits_back_and_forth():
    start = words()
    t = TranscriptEdits(start)
    t.edit(5, "football")
    t.split(5)
    t.delete(0)
    after = t.words
    assert t.corrected == 2 and t.undo_text == "delete 'cat'"
    assert t.undo() and t.undo() and t.undo() and not t.undo()
    assert t.words == start and t.redo_text == "edit 'book'" and not t.can_undo
    assert t.redo() and t.redo() and t.redo() and not t.redo()
    assert t.words == after and measure(t.words).syllables == 60  # "cat" gone, "foot ball" two: 60
    t.undo()
    t.edit(0, "dog")  # a new edit after an undo: the redo is gone
    assert not t.can_redo


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.edit(60, "x"), "word 60: the transcript has words 0 to 59"),
    (lambda t: t.edit(3, "  "), "an empty word"),
    (lambda t: t.split(0, at=9.0), "put the playhead inside it"),
    (lambda t: t.join(59), "no next word"),
    (lambda t: t.insert("x", 2.7, 2.9, duration=DURATION), "over 'book'"),
    (lambda t: t.insert("x", 30.5, 31.5, duration=DURATION), "the recording is 31.00 s long"),
    (lambda t: t.insert("x", 30.5, 30.5, duration=DURATION), "start < end"),
    (lambda t: t.insert_after(-1, "x"), "no room before it"),
])
def test_bad_edits_are_refused_and_change_nothing(change, message):
    t = TranscriptEdits(words())
    t.edit(1, "dogs")
    before = t.words
    with pytest.raises(ValueError, match=message):
        change(t)
    assert t.words == before and t.undo_text == "edit 'dog'"


def test_a_split_word_of_one_character_is_refused():
    with pytest.raises(ValueError, match="one character"):
        TranscriptEdits([Word(0, 1, "a", 1)]).split(0)
    with pytest.raises(ValueError, match="word origin 'typed'"):
        TranscriptWord(0, 1, "a", 1, "typed")


def corrected_data() -> ClinicalData:
    t = TranscriptEdits(words())
    t.edit(5, "football")
    t.insert_after(6, "and", duration=DURATION)
    return ClinicalData(words=t.words, excluded=((25.0, 26.0),), transcriber="faster-whisper base")


def test_stored_words_keep_the_corrections_and_older_ones_still_load():
    data = corrected_data()
    stored = check_clinical(data.to_dict())
    assert [w.get("origin", WHISPER) for w in stored["words"][4:8]] == [WHISPER, EDITED, WHISPER, ADDED]
    back = ClinicalData.from_dict(stored)
    assert back == data and [origin_of(w) for w in back.words[5:8]] == [EDITED, WHISPER, ADDED]
    older = {"words": [w.to_dict() for w in words()], "excluded": [], "transcriber": "x"}  # no "origin" at all
    assert not any(map(is_corrected, ClinicalData.from_dict(check_clinical(older)).words))
    damaged = {**stored, "words": [{**stored["words"][5], "origin": "guessed"}]}
    with pytest.raises(ValueError, match="word 0's origin is 'guessed'"):
        check_clinical(damaged)
    assert corrected_note(back.words).startswith("transcript corrected by the clinician: 2 of 61 words")
    assert corrected_note(words()) == ""


def test_a_saved_session_keeps_the_corrections(tmp_path):
    data = corrected_data()
    with open_database(tmp_path / "records.sqlite3") as db:
        p = add_patient(db, code="P-26")
        s = add_session(db, session_draft(p.id, tmp_path, clinical=data.to_dict()), stored=True)
    with open_database(tmp_path / "records.sqlite3") as db:  # the file opened again
        back = ClinicalData.from_dict(get_session(db, s.id).clinical)
    assert back.words == data.words
    assert [w.text for w in back.words if is_corrected(w)] == ["football", "and"]


def test_a_draft_keeps_the_corrections_and_one_with_a_bad_origin_is_set_aside(tmp_path):
    import json

    from app.drafts import DamagedDraft, Draft, DraftStore

    store = DraftStore(tmp_path / "drafts")
    recording = str(tmp_path / "a.wav")
    data = corrected_data()
    path = store.save(Draft(recording=recording, recording_id="1:2", model_id="f" * 64, review={},
                            clinical=data.to_dict()))
    assert ClinicalData.from_dict(store.load(recording).clinical).words == data.words
    stored = json.loads(path.read_text())
    stored["clinical"]["words"][5]["origin"] = "typed"
    path.write_text(json.dumps(stored))
    with pytest.raises(DamagedDraft, match="word 5's origin is 'typed'"):
        store.load(recording)
