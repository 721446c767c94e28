"""Issue 23: damaged drafts and damaged stored words never raise past their edge, are never used half-read,
and are kept as they were (the window tests in tests/app/test_drafts.py and test_clinical_records.py say so too)."""

from __future__ import annotations

import json

import pytest

from app.drafts import DamagedDraft, Draft, DraftStore
from app.records.clinical_json import parse_clinical
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session, get_session, list_sessions

GOOD = {"recording": "/recordings/a.wav", "recording_id": "1:2", "model_id": "f" * 64,
        "review": {"thresholds": {"Block": 0.5}, "pinned": [], "reviewed": [
            {"label": "Block", "start": 1.0, "end": 2.0, "status": "rejected", "origin": 0}]},
        "session_id": None, "saved": "2026-01-01T10:00:00", "clinical": {}}

DAMAGED_DRAFTS = {
    "a-list": [1, 2],
    "review-null": {**GOOD, "review": None},
    "review-a-list": {**GOOD, "review": []},
    "thresholds-a-string": {**GOOD, "review": {"thresholds": "0.5"}},
    "threshold-true": {**GOOD, "review": {"thresholds": {"Block": True}}},
    "reviewed-a-number": {**GOOD, "review": {"reviewed": 3}},
    "reviewed-entry-a-string": {**GOOD, "review": {"reviewed": ["Block"]}},
    "reviewed-entry-without-start": {**GOOD, "review": {"reviewed": [{"label": "Block", "end": 1.0}]}},
    "pinned-origin-text": {**GOOD, "review": {"pinned": [{"label": "Block", "start": 0, "end": 1, "origin": "a"}]}},
    "recording-a-number": {**GOOD, "recording": 5},
    "recording-empty": {**GOOD, "recording": ""},
    "saved-a-number": {**GOOD, "saved": 20260101},
    "session-id-text": {**GOOD, "session_id": "3"},
    "session-id-true": {**GOOD, "session_id": True},
    "clinical-a-list": {**GOOD, "clinical": [["so", 0.1]]},
    "clinical-words-a-string": {**GOOD, "clinical": {"words": "so we went"}},
    "unknown-field": {**GOOD, "colour": "red"},
    "missing-review": {k: v for k, v in GOOD.items() if k != "review"},
}


@pytest.mark.parametrize("data", DAMAGED_DRAFTS.values(), ids=DAMAGED_DRAFTS.keys())
def test_a_damaged_draft_is_refused_and_kept_as_it_was(tmp_path, data):
    store = DraftStore(tmp_path / "drafts")
    store.folder.mkdir()
    path = store.path_for(GOOD["recording"])
    path.write_text(json.dumps(data))
    original = path.read_bytes()
    assert store.all() == [] and path.read_bytes() == original  # listing never moves or changes a file
    with pytest.raises(DamagedDraft) as caught:
        store.load(GOOD["recording"])
    assert isinstance(caught.value, ValueError) and caught.value.kept.read_bytes() == original
    assert not path.exists() and store.load(GOOD["recording"]) is None  # the next draft will not replace it
    named = data.get("recording") if isinstance(data, dict) else None
    assert caught.value.recording == (named if isinstance(named, str) and named else None)


def test_a_good_draft_reads_back_and_a_scan_sets_only_the_damaged_aside(tmp_path):
    store = DraftStore(tmp_path / "drafts")
    store.save(Draft(**GOOD))
    (store.folder / "zz.json").write_bytes(b"\xff\xfe not text")
    (store.folder / "yy.json").write_text('{"recording": "/r/b.wav", "model_id": "x", "review": "none"}')
    drafts, damaged = store.scan()
    assert [d.decisions for d in drafts] == [1]
    assert sorted((d.path.name, d.recording) for d in damaged) == [("yy.json", "/r/b.wav"), ("zz.json", None)]
    assert "not text" in str(damaged[1]) and "review is a str" in str(damaged[0])
    assert sorted(p.name for p in store.folder.iterdir()) == sorted(
        [store.path_for(GOOD["recording"]).name, "yy.json.kept", "zz.json.kept"])


@pytest.mark.parametrize("text", [
    "{", "null", '"words"', "[]", "3", '{"words": {}}', '{"excluded": "1-2"}', '{"words": [null]}',
    '{"words": [{"start": 1, "end": 0.5, "text": "a", "probability": 1}]}',
    '{"words": [{"start": NaN, "end": 1, "text": "a", "probability": 1}]}',
    '{"words": [{"start": 0, "end": 1, "text": "a", "probability": true}]}',
    '{"excluded": [[1, 2, 3]]}', '{"transcriber": 5}',
])
def test_damaged_stored_words_are_a_value_error_with_what_is_wrong(text):
    with pytest.raises(ValueError, match="not|need"):
        parse_clinical(text)


def test_a_session_with_damaged_words_lists_and_loads_with_the_problem_named(tmp_path):
    db = open_database(tmp_path / "records.sqlite3")
    patient = add_patient(db, code="P-1")
    (tmp_path / "x.wav").write_bytes(b"")  # linked, never read here
    session = add_session(db, SessionDraft(
        patient_id=patient.id, date="2024-05-01", task="reading", recording=str(tmp_path / "x.wav"), duration=10.0,
        model_id="f" * 64, recording_mode="link", notes="kept"))
    with db.transaction() as conn:
        conn.execute("UPDATE sessions SET clinical = ? WHERE id = ?", ('{"words": 1}', session.id))
    (listed,) = list_sessions(db, patient.id)
    loaded = get_session(db, session.id)
    assert listed == loaded and loaded.clinical == {} and "words are a int" in loaded.problem
    assert loaded.notes == "kept" and not get_session(db, session.id).problem.startswith(" ")
