"""One truth (issue 23): the same words, moments and not-the-client stretches give the same numbers in
`assess --words`, the app, a saved session read back from a real SQLite file, and the session's PDF.

One path, one currency: every front end hands the same model.moments.decoding.Moment objects (the model's, or a
review's decisions) to the same two functions, model.measures.summary.summarize (counts) and
model.measures.clinical.compute_measures (%SS and the rest); no front end converts them into anything else first.

The recording (60 s, frame model, decoded for real from hand-made frame probabilities):
  1.0-2.0 s a moment that is both Block and SoundRep;  20.0-20.6 s WordRep;  30.0-30.5 s an interjection;
  45.0-46.0 s Prolongation, inside 44-48 s, the interviewer (not the client).
Words: 120 one-syllable words, one every 0.5 s; the 8 in 44-48 s are the interviewer's, 112 are the client's.
By hand, untouched: the Block+SoundRep moment stutters "cat" at 1.0 s and WordRep "cat" at 20.0 s: 2 of 112
syllables, %SS 1.79; %SS Block = %SS SoundRep = %SS WordRep = 1/112 = 0.89; Prolongation 0 (the
interviewer's); 1 interjection.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from test_reports import flat, pdf_text

from app.clinical import ClinicalData
from app.qt.clinical_state import ClinicalState
from app.qt.state import AnalysisState, CurrentAnalysis
from app.records.course import clinical_measures, counted_moments, session_measures
from app.records.db import open_database
from app.records.from_analysis import draft_from_analysis
from app.records.patients import add_patient, get_patient
from app.records.sessions import add_session, get_session
from model.labels import LABELS
from model.measures.words import Word
from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions
from model.pipeline.analysis import analyse_predictions, with_measures

THRESHOLDS = dict.fromkeys(LABELS, 0.5)
DURATION = 60.0
EXCLUDED = ((44.0, 48.0),)
FRAME_RATE = 50.0


def predictions() -> MomentPredictions:
    p = np.zeros((int(DURATION * FRAME_RATE), len(FRAME_CHANNELS)), np.float32)

    def mark(start: float, end: float, *types: str) -> None:
        rows = slice(int(start * FRAME_RATE), int(end * FRAME_RATE))
        for t in types:
            p[rows, FRAME_CHANNELS.index(t)] = 0.8
        if "Interjection" not in types:
            p[rows, 0] = 0.9  # p(moment)

    mark(1.0, 2.0, "Block", "SoundRep")
    mark(20.0, 20.6, "WordRep")
    mark(30.0, 30.5, "Interjection")
    mark(45.0, 46.0, "Prolongation")
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=p, frame_rate=FRAME_RATE, duration=DURATION,
                              windows=FrameWindows(), n_windows=24, model_id="e" * 64, path="r.wav")
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(), model_thresholds=THRESHOLDS)


WORDS = tuple(Word(i / 2, i / 2 + 0.3, ("cat", "sat", "on", "mat")[i % 4], 0.9) for i in range(120))


def app_state(qtbot):
    """The app's own state objects, as the window holds them: the review and the clinical measures."""
    state = AnalysisState()
    clinical = ClinicalState(state)
    state.set_recording("r.wav")
    state.set_analysis(analyse_predictions(predictions(), THRESHOLDS))
    clinical.set_data(ClinicalData(words=WORDS, transcriber="test"))
    for start, end in EXCLUDED:
        clinical.exclude(start, end)  # the clinician's mark, as the waveform drag or the key makes it
    return state, clinical


def saved_and_read_back(tmp_path, state, clinical):
    """The session saved as the Patients page saves it, then read back from the SQLite file."""
    analysis = CurrentAnalysis(state.path, state.predictions, state.review, clinical=clinical.data.to_dict())
    path = tmp_path / "records.sqlite3"
    with open_database(path) as db:
        patient = add_patient(db, code="P-23")
        draft = draft_from_analysis(analysis, patient_id=patient.id, task="conversation", date="2024-05-01",
                                    recording_mode="link")
        session_id = add_session(db, draft, stored=True).id
    with open_database(path) as db:
        return get_patient(db, patient.id), get_session(db, session_id)


def printed(patient, session, tmp_path) -> str:
    from app.qt.reports.session_report import write_session_report

    return flat(pdf_text(write_session_report(patient, session, tmp_path / "s.pdf")))


def _pdf_numbers(m) -> list[str]:
    by_type = ", ".join(f"{t} {'-' if v is None else format(v, '.1f')}" for t, v in m.pct_ss_by_type.items())
    return [f"%SS {m.pct_ss:.1f}", f"%SS by type {by_type}", f"Syllables counted {m.syllables}",
            f"Syllables per minute {m.spm:.0f}"]


def _counts(s) -> tuple:
    return s.counts, s.per_minute, s.sld_count, s.sld_per_minute, s.interjection_count, s.interjection_per_minute


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")
def test_every_front_end_gives_the_same_numbers(qtbot, qapp, tmp_path):
    # assess --words: model.pipeline.analysis.with_measures is what analyse_recording runs once the words are in.
    assessed = with_measures(analyse_predictions(predictions(), THRESHOLDS), WORDS, excluded=EXCLUDED)
    assess = assessed.measures
    assert assess.pct_ss == pytest.approx(200 / 112) and assess.syllables == 112
    assert assess.pct_ss_by_type["Block"] == assess.pct_ss_by_type["SoundRep"] == pytest.approx(100 / 112)
    state, clinical = app_state(qtbot)
    assert clinical.measures.to_dict() == assess.to_dict()  # the app measured the two-type moment as one of both
    # The same moments went in: the app's review counts the analysis's own moments, unconverted.
    assert state.review.counted_moments() == list(assessed.moments)
    patient, session = saved_and_read_back(tmp_path, state, clinical)
    assert counted_moments(session) == sorted(assessed.moments, key=lambda x: (x.start, x.end))  # read back equal
    assert clinical_measures(session).to_dict() == assess.to_dict()
    m = session_measures(session)
    assert (m.pct_ss, m.spm, m.syllables, m.pct_ss_by_type) == (assess.pct_ss, assess.spm, assess.syllables,
                                                               assess.pct_ss_by_type)
    # The counts: the screen's summary and the saved session's, over the client's 56 s.
    assert _counts(m) == _counts(state.review.summary()) == _counts(assessed.summary)
    assert state.review.summary() == assessed.summary  # every field: the SLD time share, the longest, what is left out
    assert (m.longest3_mean, m.excluded_s) == (assessed.summary.longest3_mean, assessed.summary.excluded_s)
    assert m.sld_count == 2 and m.sld_per_minute == pytest.approx(2 / (56 / 60), abs=1e-3)
    # The Block+SoundRep moment counts once in the SLD and in both types' lines.
    assert (m.counts["Block"], m.counts["SoundRep"], m.counts["WordRep"], m.counts["Interjection"]) == (1, 1, 1, 1)
    assert (m.source, m.reviewed, m.events) == ("model", 0, 3)  # the interviewer's moment needs no decision
    text = printed(patient, session, tmp_path)
    for expected in _pdf_numbers(m):
        assert expected in text, expected
    assert "not the client, not counted" in text and "reviewed 0 of 3" in text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (pdftotext)")
def test_a_review_half_done_counts_the_same_everywhere(qtbot, qapp, tmp_path):
    state, clinical = app_state(qtbot)
    review = state.review
    block, wordrep, interjection = [r for r in state.rows if not r.not_client]
    review.reject(wordrep.key)  # 1 of 3 decided: the WordRep is out at once
    review.add("SoundRep", 10.0, 10.4)
    app = clinical.measures
    assert (app.stuttered_syllables, app.syllables) == (2, 112)  # the Block+SoundRep moment and the added one
    assert app.pct_ss_by_type["WordRep"] == 0.0 and app.pct_ss_by_type["SoundRep"] == pytest.approx(200 / 112)
    patient, session = saved_and_read_back(tmp_path, state, clinical)
    # The decisions are moments from the review to the records: read back, the session counts the very same.
    assert counted_moments(session) == sorted(review.counted_moments(), key=lambda x: (x.start, x.end))
    assert clinical_measures(session).to_dict() == app.to_dict()
    m = session_measures(session)
    assert _counts(m) == _counts(state.review.summary())
    assert (m.source, m.reviewed, m.events) == ("mixed", 1, 3)
    text = printed(patient, session, tmp_path)
    for expected in _pdf_numbers(m):
        assert expected in text, expected
    assert "reviewed 1 of 3" in text
    assert block.key and interjection.key
