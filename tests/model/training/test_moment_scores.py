"""The moment scorer against F1 values, errors and measures worked out by hand."""

import numpy as np
import pytest

from model.moments.decoding import INTERJECTION, Moment, MomentDecoding
from model.training.moment_scores import (
    MatchCounts,
    boundary_errors,
    collar_counts,
    format_report,
    match_any_overlap,
    overlap_counts,
    score_moments,
    tune_decoding,
)


def test_any_overlap_matching_finds_the_most_pairs_not_the_first():
    # est0 overlaps ref0 and ref1, est1 only ref1, est2 nothing. Pairing est0 with ref1 first would leave
    # est1 alone (1 pair); the maximum matching is est0-ref0, est1-ref1: TP 2 of 3 and 3: F1 = 4 / 6.
    ref = [(0, 1), (2, 3), (4, 5)]
    est = [(0.5, 2.5), (2.8, 3.2), (6, 7)]
    assert sorted(match_any_overlap(ref, est)) == [(0, 0), (1, 1)]
    counts = overlap_counts(ref, est)
    assert (counts.tp, counts.n_ref, counts.n_est) == (2, 3, 3)
    assert counts.f1 == pytest.approx(2 / 3) and counts.precision == pytest.approx(2 / 3)
    # Onset errors of those pairs: 0.5 and 0.8 s (median 0.65); offsets 1.5 and 0.2 s (median 0.85).
    onsets, offsets = boundary_errors(ref, est)
    assert onsets == pytest.approx([0.5, 0.8]) and offsets == pytest.approx([1.5, 0.2])


def test_touching_is_not_overlapping_and_ties_go_to_the_closest_pair():
    assert match_any_overlap([(0, 1)], [(1, 2)]) == []
    # Both overlap the reference; the one with the larger IoU (0.6 against 0.05) is its pair.
    assert match_any_overlap([(0, 1)], [(0.9, 2), (0.2, 0.8)]) == [(0, 1)]


def test_onset_collar_f1_is_sed_evals_optimal_onset_matching():
    # Onsets 0, 2, 4 against 0.5, 2.8, 6: only |0.5 - 0| <= 0.5 (the collar includes its edge): F1 = 2 / 6.
    c = collar_counts([(0, 1), (2, 3), (4, 5)], [(0.5, 2.5), (2.8, 3.2), (6, 7)])
    assert (c.tp, c.n_ref, c.n_est) == (1, 3, 3) and c.f1 == pytest.approx(1 / 3)
    # Onset matching ignores offsets and even overlap: (0, 0.1) vs (0.4, 3) match.
    assert collar_counts([(0, 0.1)], [(0.4, 3)]).tp == 1
    assert collar_counts([], [(0, 1)]) == MatchCounts(0, 0, 1)
    assert MatchCounts().f1 == 1.0 and MatchCounts(0, 2, 0).f1 == 0.0


def _m(annotator, start, end):
    return {"annotator": annotator, "start": start, "end": end, "types": ["Block"], "lbdl": ["B"]}


def words(n: int) -> str:
    return " ".join(["la"] * n) + " ."


RECORDS = [
    {"id": "r1", "episode": "E1", "duration": 10.0, "split": "dev", "exclude": [],
     "moments": [_m("A1", 1, 2), _m("A1", 5, 6), _m("A2", 1.2, 2.2), _m("A3", 1, 2), _m("A3", 5, 6),
                 _m("A3", 8, 9), _m("Gold", 1, 2)],
     # 10 syllables inside, 20 of which half are inside (10), the interviewer's not counted: 20.
     "chat": [{"speaker": "PAR", "text": words(10), "inside": 1.0}, {"speaker": "PAR", "text": words(20), "inside": 0.5},
              {"speaker": "INV", "text": words(5), "inside": 1.0}]},
    {"id": "r2", "episode": "E2", "duration": 10.0, "split": "dev", "exclude": [],
     "moments": [_m("A1", 0, 1), _m("A2", 0.2, 0.6), _m("A2", 3, 4)],
     "chat": [{"speaker": "PAR", "text": words(10), "inside": 1.0}]},
]
ESTIMATES = {
    "r1": [Moment(1.1, 1.9, 0.9, ("Block",)), Moment(5.6, 7.0, 0.8, ("Block",)),
           Moment(8.2, 8.4, 0.9, ("Interjection",), INTERJECTION)],  # interjections are not scored
    "r2": [Moment(0.5, 0.7, 0.7, ("SoundRep",)), Moment(3.2, 3.5, 0.6, ("SoundRep",))],
}


def syllables_of(text: str) -> float:
    return len(text.split()) - 1  # "la la ... ." -> one syllable per "la"


def test_scores_over_records_per_annotator_and_for_the_slps_themselves():
    s = score_moments(RECORDS, syllables_of=syllables_of, estimates=ESTIMATES)
    assert s["annotators"] == ["A1", "A2", "A3", "Gold"]
    per = s["model"]["per_annotator"]
    # Any overlap, summed over r1 and r2 (4 stuttering moments from the model):
    #   A1: r1 both match, r2 (0,1)~(0.5,0.7): TP 3 of 3 refs -> 2 * 3 / (3 + 4) = 6 / 7;  A2: r1 1, r2 2: 6 / 7;
    #   A3: r1 2, r2 none: 4 / 7.  Mean over the SLPs: 16 / 21.
    assert [per[a]["any_overlap"]["f1"] for a in ("A1", "A2", "A3")] == [0.8571, 0.8571, 0.5714]
    assert s["model"]["mean_over_slps"]["any_overlap"] == pytest.approx(16 / 21, abs=1e-4)
    # Onset within 0.5 s: the 5.6 s onset misses A1's and A3's 5.0 -> A1 4 / 7, A2 6 / 7, A3 2 / 7; mean 12 / 21.
    assert [per[a]["onset_collar"]["f1"] for a in ("A1", "A2", "A3")] == [0.5714, 0.8571, 0.2857]
    assert s["model"]["mean_over_slps"]["onset_collar"] == pytest.approx(12 / 21, abs=1e-4)
    # The consensus exists for E1 only: scored on r1 alone, (1,2) against 2 model moments: F1 2 / 3.
    assert per["Gold"]["any_overlap"] == {"tp": 1, "n_ref": 1, "n_est": 2, "precision": 0.5, "recall": 1.0,
                                          "f1": 0.6667}
    # A1's pairs: (1,2)-(1.1,1.9), (5,6)-(5.6,7), (0,1)-(0.5,0.7): onsets 0.1, 0.6, 0.5 -> 0.5;
    # offsets 0.1, 1.0, 0.3 -> 0.3.
    assert (per["A1"]["median_onset_error_s"], per["A1"]["median_offset_error_s"]) == (0.5, 0.3)

    # SLP pairs: A1-A2 r1 1 + r2 1 of 3 and 3 -> 4 / 6; A1-A3 r1 2 + r2 0 -> 4 / 6; A2-A3 r1 1 -> 2 / 6.
    pairs = s["slp_agreement"]["per_pair"]
    assert [pairs[p]["any_overlap"]["f1"] for p in ("A1-A2", "A1-A3", "A2-A3")] == [0.6667, 0.6667, 0.3333]
    assert s["slp_agreement"]["mean_over_pairs"]["any_overlap"] == pytest.approx(5 / 9, abs=1e-4)
    assert "Gold-A1" not in pairs and "A1-Gold" not in pairs


def test_per_episode_frequency_and_duration_against_the_slps_mean():
    per = score_moments(RECORDS, syllables_of=syllables_of, estimates=ESTIMATES)["per_episode"]
    e1, e2 = per["episodes"]["E1"], per["episodes"]["E2"]
    assert (e1["syllables"], e2["syllables"]) == (20, 10)
    # E1, 20 syllables: A1 2 -> 10, A2 1 -> 5, A3 3 -> 15 (mean 10), model 2 -> 10.
    # E2, 10 syllables: A1 1 -> 10, A2 2 -> 20, A3 0 -> 0 (mean 10), model 2 -> 20.
    assert [e1[k]["per_100_syllables"] for k in ("A1", "A2", "A3", "model", "slp_mean")] == [10, 5, 15, 10, 10]
    assert [e2[k]["per_100_syllables"] for k in ("A1", "A2", "A3", "model", "slp_mean")] == [10, 20, 0, 20, 10]
    # Three longest: E1 all SLPs 1.0, model (0.8 + 1.4) / 2 = 1.1; E2 A1 1.0, A2 0.7, A3 0 (mean 0.567),
    # model (0.2 + 0.3) / 2 = 0.25.
    assert e1["model"]["longest3_mean_s"] == 1.1 and e1["slp_mean"]["longest3_mean_s"] == 1.0
    assert e2["model"]["longest3_mean_s"] == 0.25 and e2["slp_mean"]["longest3_mean_s"] == pytest.approx(0.567)
    diff = per["mean_abs_diff_from_slp_mean"]
    # |x - mean| averaged over the episodes: model (0 + 10) / 2 = 5; A1 0; A2 (5 + 10) / 2 = 7.5; A3 7.5.
    assert [diff[k]["per_100_syllables"] for k in ("model", "A1", "A2", "A3")] == [5, 0, 7.5, 7.5]
    assert diff["model"]["longest3_mean_s"] == pytest.approx((0.1 + 0.317) / 2, abs=1e-3)
    assert "E1" in format_report(score_moments(RECORDS, syllables_of=syllables_of, estimates=ESTIMATES))


def test_slps_alone_need_no_model_and_missing_estimates_are_an_error():
    s = score_moments(RECORDS)
    assert "model" not in s and "per_episode" not in s and s["slp_agreement"]["per_pair"]
    assert "SLP vs SLP" in format_report(s)
    with pytest.raises(ValueError, match="no model moments"):
        score_moments(RECORDS, estimates={"r1": []})
    with pytest.raises(ValueError, match="prep casa"):
        score_moments([{"id": "x", "episode": "E", "duration": 3.0}])


def test_tune_decoding_picks_the_settings_that_find_the_slps_moments():
    # All three SLPs mark 1.0-1.5 s; p(moment) is 0.45 there, and 0.45 again at 3.0-3.5 s where the
    # interviewer speaks (excluded). Onset 0.5 finds nothing (F1 0); onset 0.4 finds exactly their
    # moment (F1 1) and nothing in the excluded stretch.
    record = {"id": "r", "episode": "E", "duration": 4.0, "exclude": [[3.0, 3.5]],
              "moments": [_m(a, 1.0, 1.5) for a in ("A1", "A2", "A3")]}
    p = np.zeros((200, 6), np.float32)
    p[50:75, 0] = p[150:175, 0] = 0.45
    grid = [MomentDecoding(onset=0.5, offset=0.35), MomentDecoding(onset=0.4, offset=0.3)]
    best, f1, rows = tune_decoding([record], {"r": p}, frame_rate=50, grid=grid)
    assert (best.onset, best.offset, f1) == (0.4, 0.3, 1.0)
    assert [r["mean_f1"] for r in rows] == [0.0, 1.0]


def test_a_moment_cut_by_the_gap_between_two_runs_counts_once_per_episode():
    from model.training.moment_scores import episode_durations

    run1 = {"duration": 5.0, "episode_start": 10.0}
    run2 = {"duration": 4.0, "episode_start": 17.0}  # a 2 s gap without audio between them
    # 4.5-5.0 in run 1 and 0.0-0.3 in run 2: one moment heard for 0.8 s. 3.0-3.5 in run 2 is its own.
    # Given out of order: the runs are put in episode order first.
    assert episode_durations([(run2, [(0.0, 0.3), (3.0, 3.5)]), (run1, [(1.0, 2.0), (4.5, 5.0)])]) == pytest.approx(
        [1.0, 0.8, 0.5])
    # A moment ending well before the run's end is not joined to one at the next run's start.
    assert episode_durations([(run1, [(4.0, 4.5)]), (run2, [(0.0, 0.3)])]) == pytest.approx([0.5, 0.3])
