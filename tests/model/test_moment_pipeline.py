"""Moments through the one pipeline (model.pipeline.analysis): events, summary, the review's sliders and `assess`."""

import csv
import json

import numpy as np
import pytest

from model.labels import LABELS
from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions
from model.pipeline.analysis import analyse_predictions, analyse_recording

MOMENT, PRO, BLO, SND, WRD, INTJ = range(6)
THRESHOLDS = dict.fromkeys(LABELS, 0.5)


def hand_made() -> MomentPredictions:
    """10 s at 50 frames/s: a Block moment 1.0-2.0 s (p 0.9); a weaker moment 3.0-3.5 s (p 0.52) that is
    WordRep 0.7 and Block 0.6; a faint one 7.0-7.5 s (p 0.45, below the onset); an interjection 5.0-5.4 s."""
    p = np.zeros((500, len(FRAME_CHANNELS)), np.float32)
    p[50:100, [MOMENT, BLO]] = [0.9, 0.8]
    p[150:175, [MOMENT, BLO, WRD]] = [0.52, 0.6, 0.7]
    p[350:375, [MOMENT, SND]] = [0.45, 0.9]
    p[250:270, INTJ] = 0.8
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=p, frame_rate=50.0, duration=10.0,
                              windows=FrameWindows(3.0, 2.5), n_windows=4, model_id="m", path="r.wav")
    return MomentPredictions.from_frames(frames, decoding=MomentDecoding(), model_thresholds=THRESHOLDS)


def spans(analysis):
    return [(e.label, e.start, e.end) for e in analysis.events]


def test_frame_predictions_become_moments_each_one_row_whatever_its_types():
    preds = hand_made()
    assert preds.labels == LABELS and preds.probs.shape == (500, 5) and preds.frame_seconds == 0.02
    a = analyse_predictions(preds, THRESHOLDS)
    assert [(m.kind, m.start, m.end, m.types) for m in a.moments] == [
        ("stuttering", 1.0, 2.0, ("Block",)), ("stuttering", 3.0, 3.5, ("WordRep", "Block")),
        ("interjection", 5.0, 5.4, ("Interjection",))]
    # The two-type moment is ONE moment, named by its likeliest type.
    assert spans(a) == [("Block", 1.0, 2.0), ("WordRep", 3.0, 3.5), ("Interjection", 5.0, 5.4)]
    assert a.summary.sld_count == 2 and a.summary.interjection_count == 1
    assert a.summary.longest3_mean == pytest.approx(0.75)  # (1.0 + 0.5) / 2: measured, not window lengths
    assert a.moment_summary.moments == 2 and a.moment_summary.longest3_mean == pytest.approx(0.75)
    d = a.to_dict()
    assert len(d["moments"]) == 3 and d["moment_summary"]["interjections"] == 1
    json.dumps(d)


def test_sliders_move_the_decoding_thresholds():
    preds = hand_made()
    # Block up by 0.2: Block's own threshold 0.7 (the 3.0 s moment loses Block: 0.6), and the moment
    # thresholds up by the mean move of the four types, 0.05: onset 0.55 > 0.52 drops the 3.0 s moment.
    stricter = {**THRESHOLDS, "Block": 0.7}
    d = preds.decoding_at(stricter)
    assert (d.onset, d.offset, d.type_thresholds["Block"], d.type_thresholds["WordRep"]) == pytest.approx(
        (0.55, 0.4, 0.7, 0.5))
    assert spans(analyse_predictions(preds, stricter)) == [("Block", 1.0, 2.0), ("Interjection", 5.0, 5.4)]
    # Every stuttering-like type down by 0.1: onset 0.4 finds the faint SoundRep moment at 7.0 s;
    # Interjection up to 0.85 loses the interjection (0.8).
    looser = {"Prolongation": 0.4, "Block": 0.4, "SoundRep": 0.4, "WordRep": 0.4, "Interjection": 0.85}
    assert spans(analyse_predictions(preds, looser)) == [("Block", 1.0, 2.0), ("WordRep", 3.0, 3.5),
                                                         ("SoundRep", 7.0, 7.5)]
    with pytest.raises(ValueError, match="no threshold"):
        analyse_predictions(preds, {"Block": 0.5})


def test_the_review_re_decodes_moments_when_a_slider_moves():
    from app.review import ReviewSession

    review = ReviewSession(hand_made(), THRESHOLDS)
    assert [(e.label, e.start) for e in review.model_events] == [("Block", 1.0), ("WordRep", 3.0),
                                                                 ("Interjection", 5.0)]
    review.set_threshold("Block", 0.7)
    assert [(e.label, e.start) for e in review.model_events] == [("Block", 1.0), ("Interjection", 5.0)]
    review.reset_thresholds()
    assert review.summary().sld_count == 2


def test_a_frame_model_file_gives_moments_in_analysis_and_assess(frame_bundle_path, tmp_path, speak):
    from model.encoder.bundle import load_bundle
    from model.pipeline.assess import assess_paths
    from model.pipeline.inference import InferenceOptions, Predictor

    # Speech, not noise: frames outside speech carry no moments (tests/hostile/test_hostile_speech_activity.py).
    wav = speak("Well I I I went to the the store and um bought some bread, then we walked home.", "r.wav")
    predictor = Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(precision="fp32"))
    analysis = analyse_recording(wav, predictor)
    assert isinstance(analysis.predictions, MomentPredictions)
    assert analysis.moments == tuple(analysis.predictions.frames.moments(predictor.decoding))
    assert analysis.events == analysis.moments  # one currency: the events results.json writes are the moments
    assert predictor.settings["window_seconds"] == 3.0 and predictor.settings["decoding"]["offset"] == 0.45

    report = assess_paths([wav], tmp_path / "out", predictor=predictor)
    assert report.results[0].ok
    with open(tmp_path / "out" / "events.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(analysis.moments) > 0
    assert list(rows[0]) == ["path", "onset_s", "offset_s", "duration_s", "confidence", "types", "kind", "model_id"]
    for row, m in zip(rows, analysis.moments, strict=True):
        assert (float(row["onset_s"]), float(row["offset_s"]), row["kind"]) == (round(m.start, 3), round(m.end, 3), m.kind)
        assert row["types"] == "+".join(m.types)
    with open(tmp_path / "out" / "summary.csv", newline="") as f:
        (summary,) = list(csv.DictReader(f))
    s = analysis.moment_summary
    assert summary["events_from"] == "moments"
    assert (int(summary["moments"]), int(summary["interjections"])) == (s.moments, s.interjections)
    assert float(summary["longest3_moments_mean_s"]) == pytest.approx(s.longest3_mean)


def test_app_pieces_that_read_predictions_take_frame_predictions():
    from types import SimpleNamespace

    from app.qt import selftest
    from app.records.from_analysis import draft_from_analysis
    from app.review import ReviewSession

    preds = hand_made()
    selftest.check_predictions(preds, preds.labels, 10.0)  # 500 rows of 20 ms, not 3 s windows
    review = ReviewSession(preds, THRESHOLDS)
    draft = draft_from_analysis(SimpleNamespace(path="r.wav", predictions=preds, review=review), patient_id=1,
                                task="conversation")
    # The windows the encoder ran (3 s, hop 2.5 s), not the 20 ms rows.
    assert (draft.model_settings["window_seconds"], draft.model_settings["hop_seconds"]) == (3.0, 2.5)
    assert [e.label for e in draft.model_events] == ["Block", "WordRep", "Interjection"]


def test_a_frame_models_reviewed_moments_reach_the_clinical_measures():
    from app.clinical import ClinicalData
    from app.review import ReviewSession
    from model.measures.words import Word
    from model.pipeline.analysis import with_measures

    preds = hand_made()
    analysis = analyse_predictions(preds, THRESHOLDS)
    # 20 one-syllable words over 10 s, no two neighbours alike (a word said again inside a moment counts once).
    words = [Word(i / 2, i / 2 + 0.3, ("cat", "sat", "on", "mat")[i % 4], 0.9) for i in range(20)]
    # By hand: two stuttering moments (1.0-2.0 s, 3.0-3.5 s), one stuttered syllable each, of 20 syllables
    # (10 %SS, but 10 s is too little speech for a rate, so no %SS is given), as `assess --words` measures
    # the model's own moments ...
    own = with_measures(analysis, words).measures
    assert (own.syllables, own.stuttering_moments, own.stuttered_syllables, own.interjections) == (20, 2, 2, 1)
    assert own.longest_s == 1.0 and own.pct_ss is None
    # ... and the app, from the review's moments (one per moment, with all their types), before any decision:
    # the same measures, per-type %SS included (issue 23: the 3.0-3.5 s moment is WordRep and Block).
    review = ReviewSession(preds, THRESHOLDS)
    data = ClinicalData(words=tuple(words))
    assert data.measures(review.counted_moments(), duration=10.0) == own
    block, _wordrep, _interjection = review.rows()
    review.reject(block.key)  # 1 of 3 decided: the rejected Block is out at once, 1 of 20
    reviewed = data.measures(review.counted_moments(), duration=10.0)
    assert (reviewed.syllables, reviewed.stuttering_moments, reviewed.stuttered_syllables) == (20, 1, 1)
    assert reviewed.longest_s == 0.5 and reviewed.interjections == 1
