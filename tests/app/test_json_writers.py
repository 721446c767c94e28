"""Every JSON writer takes an analysis that holds numpy scalars and reads it back equal (issue 23).

An analysis is made with numpy, so its times, probabilities, counts and flags may be np.float32,
np.int64 or np.bool_; `json.dumps` refused them and the session save and `assess --words` crashed.
Hypothesis makes random analyses; each goes through the words JSONL, the events JSON export, a
session in a real SQLite file and a review draft, and comes back equal.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.drafts import Draft, DraftStore
from app.exports import events_json
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SSI4_CONCOMITANTS, SessionDraft, add_session, get_session
from app.review import EventRow
from model.labels import LABELS
from model.measures.words import Word, load_words, save_words
from model.moments.decoding import Moment, kind_of

NUMPY_FLOAT = st.sampled_from([float, np.float64, np.float32])
NUMPY_INT = st.sampled_from([int, np.int64, np.int32])
NUMPY_BOOL = st.sampled_from([bool, np.bool_])


@st.composite
def seconds(draw, top=600.0):
    """A time as an analysis may hold it: a float32-exact value in one of the float types."""
    value = draw(st.floats(0, top, allow_nan=False, width=32))
    return draw(NUMPY_FLOAT)(value)


@st.composite
def words(draw):
    out = []
    for _ in range(draw(st.integers(0, 6))):
        start, length = draw(seconds()), draw(seconds(top=2.0))
        out.append(Word(start, type(start)(start + length), draw(st.text(min_size=1, max_size=8)),
                        draw(NUMPY_FLOAT)(draw(st.floats(0, 1, width=32)))))
    return out


@st.composite
def events(draw):
    out = []
    for _ in range(draw(st.integers(0, 5))):
        start, length = draw(seconds()), draw(st.floats(0.03125, 5, width=32))
        label = draw(st.sampled_from(LABELS))
        out.append(Moment(start, type(start)(start + length), draw(NUMPY_FLOAT)(draw(st.floats(0, 1, width=32))),
                          (label,), kind_of(label)))
    return out


@st.composite
def measures(draw):
    """What Measures.to_dict() gives, with the numpy types its arithmetic can leave."""
    rate = st.one_of(st.none(), st.floats(0, 100, width=32).map(np.float32))
    return {"syllables": draw(NUMPY_INT)(draw(st.integers(0, 5000))), "speaking_time_s": draw(seconds()),
            "pct_ss": draw(rate), "spm": draw(rate), "enough_speech": draw(NUMPY_BOOL)(draw(st.booleans())),
            "longest3_mean_s": draw(rate), "note": draw(st.text(max_size=10))}


@st.composite
def analyses(draw):
    return {"words": draw(words()), "events": draw(events()), "measures": draw(measures()),
            "duration": draw(seconds()), "thresholds": {label: np.float32(draw(st.floats(0.0625, 0.9375, width=32)))
                                                        for label in LABELS},
            "rating": draw(NUMPY_INT)(draw(st.integers(0, 5)))}


def clinical(analysis) -> dict:
    return {"words": [w.to_dict() for w in analysis["words"]], "measures": analysis["measures"],
            "excluded": [[np.float64(1.0), np.float32(2.5)]]}


SLOW_OK = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SLOW_OK
@given(analyses())
def test_words_jsonl_round_trips(tmp_path, analysis):
    path = tmp_path / "words.jsonl"
    save_words(analysis["words"], path)
    assert load_words(path) == analysis["words"]
    assert all(type(v) in (str, float) for w in load_words(path) for v in w.to_dict().values())


@SLOW_OK
@given(analyses())
def test_events_json_export_round_trips(analysis):
    rows = [EventRow(f"m:{i}", e) for i, e in enumerate(analysis["events"])]
    doc = json.loads(events_json(rows, recording="r.wav", duration=analysis["duration"], model_id="ab" * 32,
                                 thresholds=analysis["thresholds"], summary=analysis["measures"]))
    assert doc["summary"] == analysis["measures"] and doc["thresholds"] == analysis["thresholds"]
    written = sorted((d["type"], d["start"], d["end"], d["confidence"]) for d in doc["events"])
    assert written == sorted((e.label, round(float(e.start), 3), round(float(e.end), 3), round(float(e.confidence), 4))
                             for e in analysis["events"])


def test_float32_times_are_written_to_the_millisecond():
    """numpy rounds a float32 in float32: 524.35547 became 524.356, written as 524.3560180664062."""
    event = Moment(np.float32(520.3242), np.float32(524.35547), np.float32(0.8123), ("Block",))
    doc = json.loads(events_json([EventRow("m:0", event)], recording="r.wav", duration=np.float32(600.0),
                                 model_id="ab" * 32, thresholds={}))
    (written,) = doc["events"]
    assert (written["start"], written["end"], written["confidence"]) == (520.324, 524.355, 0.8123)


@pytest.fixture()
def records(tmp_path):
    recording = tmp_path / "Jane Doe.wav"
    recording.write_bytes(b"RIFF" + bytes(100))  # linked, never decoded: bytes are enough
    with open_database(tmp_path / "records.sqlite3") as db:
        yield db, add_patient(db, code="P1").id, recording


@SLOW_OK
@given(analyses())
def test_a_session_round_trips_through_sqlite(records, analysis):
    db, patient_id, recording = records
    rating = analysis["rating"]
    draft = SessionDraft(patient_id=np.int64(patient_id), date="2024-03-15", task="reading",
                         recording=str(recording), recording_mode="link", duration=analysis["duration"],
                         model_id="ab" * 32, model_settings={"thresholds": analysis["thresholds"]},
                         summary=analysis["measures"], model_events=tuple(analysis["events"]),
                         severity=rating, ssi4={k: rating for k in SSI4_CONCOMITANTS}, clinical=clinical(analysis))
    stored = get_session(db, add_session(db, draft).id)
    assert stored.model_events == tuple(analysis["events"])
    assert stored.clinical == json.loads(json.dumps(clinical(analysis), default=float))
    assert stored.summary == analysis["measures"] and stored.model_settings == draft.model_settings
    assert (stored.duration, stored.severity, stored.ssi4_total) == (analysis["duration"], rating, 4 * rating)


@SLOW_OK
@given(analyses())
def test_a_review_draft_round_trips(tmp_path, analysis):
    store = DraftStore(tmp_path / "drafts")
    review = {"thresholds": analysis["thresholds"], "reviewed": [e.to_dict() for e in analysis["events"]]}
    draft = Draft(recording=str(tmp_path / "Jane Doe.wav"), recording_id="100:1", model_id="ab" * 32,
                  review=review, session_id=analysis["rating"], clinical=clinical(analysis))
    store.save(draft)
    loaded = store.load(draft.recording)
    assert loaded is not None, "the draft was not written"
    assert (loaded.review, loaded.clinical, loaded.session_id) == (review, draft.clinical, draft.session_id)


# -- the window: Transcribe, then Patients > "Save current analysis as session" ---------------------------


class NumpyTranscriber:
    """Words as the transcriber's snapping made them before issue 23: np.float64 times, np.float32 p.

    60 syllables over 10.45 s: enough speech for rates, decided on numpy times (the np.bool_ that crashed
    the save).
    """

    def transcribe_file(self, path, *, progress=None, cancel=None):
        if progress is not None:
            progress(1.0)
        return [Word(np.float64(round(0.35 * i, 2)), np.float64(round(0.35 * i + 0.3, 2)), ("window", "happy", "river", "yellow")[i % 4],
                     np.float32(0.9)) for i in range(30)]


def test_an_analysis_with_words_is_saved_as_a_session_and_reads_back(qtbot, app_settings, speech_wav):
    from PySide6.QtCore import Qt
    from test_main_window import ScriptedDialogs, analyse, make_window

    from app.qt.views.dialogs import SessionChoices
    from app.records.sessions import list_sessions

    dialogs = ScriptedDialogs()
    win = make_window(qtbot, app_settings, dialogs)
    patient = win.records.add_patient(code="P-23")
    analyse(qtbot, win, speech_wav)
    win.clinical.transcriber_factory = NumpyTranscriber
    qtbot.mouseClick(win.transcript.transcribe_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(win.clinical.data.words) and not win.clinical.running, timeout=10_000)
    job = win.patients_page.store_analysis(win.current_analysis, SessionChoices(
        date="2024-03-01", task="reading", notes="", recording_mode="link"))
    qtbot.waitUntil(lambda: not win.patients_page.jobs, timeout=30_000)
    assert job.wait(5) and dialogs.messages == [], dialogs.messages
    with open_database(win.records.db.path) as db:  # a second connection: what is on disk
        (stored,) = list_sessions(db, patient.id)
    assert stored.clinical["measures"]["syllables"] == 60 and stored.clinical["measures"]["enough_speech"] is True
    assert [w["start"] for w in stored.clinical["words"]] == [round(0.35 * i, 2) for i in range(30)]
