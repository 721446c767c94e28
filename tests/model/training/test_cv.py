"""Cross-validation folds, the joined-recording scorer, its floors and the paired bootstrap (issue 24).

The scorer's figures are checked against counts worked out by hand on a two-run episode (below); the real
CASA annotations (shared data) check the folds and the floors on all 22 episodes.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.moments.decoding import MomentDecoding
from model.training.cv import check_folds, fold_records, fold_splits, make_folds, severity_band
from model.training.cv_report import (
    AGREEMENT,
    EPISODE_FLOOR,
    RUN_FLOOR,
    EpisodeRow,
    counts_array,
    cv_report,
    mean_f1,
    paired_bootstrap,
    score_episodes,
)
from model.training.joined_scores import (
    EpisodeScore,
    PairCounts,
    Spot,
    episode_floor,
    join_episode,
    join_spots,
    joined_probs,
    model_spots,
    run_floor,
    score_agreement,
    score_estimate,
)

RATE = 50  # frames per second of the hand-made probabilities


def _moment(annotator, start, end, *types):
    return {"annotator": annotator, "start": start, "end": end, "types": list(types), "lbdl": []}


def _utterance(speaker: str, words: int, inside: float) -> dict:
    return {"speaker": speaker, "text": " ".join(["w"] * words), "inside": inside, "start": 0.0, "end": 1.0}


def _records():
    """One episode, two runs recorded 10 s apart, joined: run0 [0, 10) and run1 [10, 15).

    A1: a block at 1-2 and a prolongation cut by the runs' gap (9.5-10 in run0, 0-0.5 in run1): joined, 9.5-10.5.
    A2: a block at 1.2-2.2, a moment at 3-3.5, one at 13-14 (run1's 3-4). A3: a SoundRep at 5-6, a block at
    13.5-14.5. The interviewer speaks 6-8. Syllables (one per word here): 30 in run0, 20 * 0.5 inside in run1.
    """
    run0 = {"id": "c/ep/run00", "episode": "c/ep", "speaker": "c/ep", "duration": 10.0, "episode_start": 100.0,
            "exclude": [[6.0, 8.0]], "moments": [
                _moment("A1", 1.0, 2.0, "Block"), _moment("A1", 9.5, 10.0, "Prolongation"),
                _moment("A2", 1.2, 2.2, "Block"), _moment("A2", 3.0, 3.5), _moment("A3", 5.0, 6.0, "SoundRep")],
            "chat": [_utterance("PAR", 30, 1.0), _utterance("INV", 50, 1.0)]}
    run1 = {"id": "c/ep/run01", "episode": "c/ep", "speaker": "c/ep", "duration": 5.0, "episode_start": 120.0,
            "exclude": [], "moments": [
                _moment("A1", 0.0, 0.5, "Prolongation"), _moment("A2", 3.0, 4.0), _moment("A3", 3.5, 4.5, "Block")],
            "chat": [_utterance("PAR", 20, 0.5)]}
    return [run1, run0]  # out of order: the join orders them by episode_start


def _words(text: str) -> float:
    return float(len(text.split()))


def _joined():
    return join_episode(_records(), _words)


def _model_probs():
    """Frames of the two runs: moments at 1.5-1.8, 8.5-9.0, 9.8-10.2 (across the join), 13.2-14.2, and one
    at 6.5-7.0 inside the interviewer's stretch (excluded, so never decoded)."""
    p0, p1 = np.zeros((500, 1), np.float32), np.zeros((250, 1), np.float32)
    for first, stop in ((75, 90), (425, 450), (490, 500), (325, 350)):
        p0[first:stop] = 0.9
    for first, stop in ((0, 10), (160, 210)):
        p1[first:stop] = 0.9
    return {"c/ep/run00": p0, "c/ep/run01": p1}


SLP_LONGEST3 = (1.0 + (1.0 + 1.0 + 0.5) / 3 + 1.0) / 3  # A1's two 1 s moments, A2's 1, 1, 0.5 s, A3's two 1 s
DECODING = MomentDecoding(onset=0.5, offset=0.35, min_duration=0.1, merge_gap=0.0)


def test_join_orders_runs_offsets_moments_and_rejoins_a_moment_cut_at_the_gap():
    j = _joined()
    assert j.run_ids == ("c/ep/run00", "c/ep/run01") and j.runs == ((0.0, 10.0), (10.0, 15.0))
    assert j.exclude == ((6.0, 8.0),) and j.syllables == 40.0  # 30 + 20 * 0.5; the interviewer's words not counted
    spans = {a: [(s.start, s.end) for s in spots] for a, spots in j.references.items()}
    assert spans == {"A1": [(1.0, 2.0), (9.5, 10.5)], "A2": [(1.2, 2.2), (3.0, 3.5), (13.0, 14.0)],
                     "A3": [(5.0, 6.0), (13.5, 14.5)]}
    # A moment that only comes near the join is not joined to the next run's first moment.
    near = join_spots([[Spot(1.0, 9.5)], [Spot(10.0, 11.0)]], [(0.0, 10.0), (10.0, 15.0)])
    assert len(near) == 2


def test_model_moments_on_the_joined_frames():
    spots = model_spots(_joined(), _model_probs(), channels=("moment",), decoding=DECODING, frame_rate=RATE)
    assert [(s.start, s.end) for s in spots] == [(1.5, 1.8), (8.5, 9.0), (9.8, 10.2), (13.2, 14.2)]
    with pytest.raises(ValueError, match="cache every run"):
        joined_probs(_joined(), {"c/ep/run00": _model_probs()["c/ep/run00"]}, frame_rate=RATE)


def _f1s(score: EpisodeScore) -> list[float]:
    return [2 * p.tp / (p.n_ref + p.n_est) for p in score.pairs]


def test_joined_scorer_against_hand_counts():
    j = _joined()
    score = score_estimate(j, model_spots(j, _model_probs(), channels=("moment",), decoding=DECODING, frame_rate=RATE))
    # A1: 1.5-1.8 ~ 1-2, 9.8-10.2 ~ 9.5-10.5; A2: 1.5-1.8 ~ 1.2-2.2, 13.2-14.2 ~ 13-14; A3: 13.2-14.2 ~ 13.5-14.5.
    assert [(p.tp, p.n_ref, p.n_est) for p in score.pairs] == [(2, 2, 4), (2, 3, 4), (1, 2, 4)]
    assert _f1s(score) == pytest.approx([4 / 6, 4 / 7, 2 / 6])
    # Every SLP block was found, A1's prolongation too, A3's SoundRep not.
    assert [p.type_found["Block"] for p in score.pairs] == [(1, 1), (1, 1), (1, 1)]
    assert [p.type_found["Prolongation"] for p in score.pairs] == [(1, 1), (0, 0), (0, 0)]
    assert [p.type_found["SoundRep"] for p in score.pairs] == [(0, 0), (0, 0), (0, 1)]
    # 4 moments / 40 syllables = 10 per 100; the SLPs' mean 7 / 3 moments = 5.83.
    assert score.per100 == pytest.approx(10.0) and score.per100_error == pytest.approx(10.0 - 700 / 120)
    # Three longest: 1.0, 0.5, 0.4 s against the SLPs' mean.
    assert score.longest3 == pytest.approx((1.0 + 0.5 + 0.4) / 3)
    assert score.longest3_error == pytest.approx(SLP_LONGEST3 - (1.0 + 0.5 + 0.4) / 3)


def test_floors_against_hand_counts():
    j = _joined()
    runs = score_estimate(j, run_floor(j))  # 0-10 and 10-15
    assert [(p.tp, p.n_ref, p.n_est) for p in runs.pairs] == [(2, 2, 2), (2, 3, 2), (2, 2, 2)]
    assert runs.per100 == pytest.approx(5.0) and runs.longest3_error == pytest.approx(7.5 - SLP_LONGEST3)
    whole = score_estimate(j, episode_floor(j))  # 0-15
    assert [(p.tp, p.n_ref, p.n_est) for p in whole.pairs] == [(1, 2, 1), (1, 3, 1), (1, 2, 1)]
    assert np.mean(_f1s(whole)) == pytest.approx((2 / 3 + 2 / 4 + 2 / 3) / 3)
    assert whole.per100_error == pytest.approx(700 / 120 - 2.5)


def test_slp_agreement_against_hand_counts():
    agree = score_agreement(_joined())
    # A1-A2: 1-2 ~ 1.2-2.2; A1-A3: nothing; A2-A3: 13-14 ~ 13.5-14.5.
    assert [(p.tp, p.n_ref, p.n_est) for p in agree.pairs] == [(1, 2, 3), (0, 2, 2), (1, 3, 2)]
    # Blocks, both ways round: A1-A2 2 of 2; A1-A3 0 of 2; A2-A3 1 of 2 (A3's block found, A2's not).
    assert [p.type_found["Block"] for p in agree.pairs] == [(2, 2), (0, 2), (1, 2)]
    # Per 100 syllables 5, 7.5, 5 around their mean 5.83: off by 0.83, 1.67, 0.83.
    assert agree.per100_error == pytest.approx((2 * 5 / 6 + 10 / 6) / 3)


def test_score_episodes_and_report_give_the_same_figures():
    rows = score_episodes([_joined()], [_source()], frame_rate=RATE)
    report = cv_report(rows, ["m"], resamples=50)
    figures = report["bands"]["all"]
    assert figures["m"]["f1"] == pytest.approx((4 / 6 + 4 / 7 + 2 / 6) / 3)
    assert figures[RUN_FLOOR]["f1"] == pytest.approx((1 + 4 / 5 + 1) / 3)
    assert figures[AGREEMENT]["f1"] == pytest.approx((2 / 5 + 0 + 2 / 5) / 3)
    assert figures["m"]["type_recall"]["Block"] == 1.0 and figures["m"]["type_recall"]["SoundRep"] == 0.0
    assert rows[0].band == "5-15" and list(report["bands"]) == ["all", "5-15"]
    assert report["sources"] == ["m", RUN_FLOOR, EPISODE_FLOOR, AGREEMENT]


def _source():
    from model.training.cv_report import FrameSource

    probs = _model_probs()
    return FrameSource("m", probs, ("moment",), dict.fromkeys(probs, DECODING))


def _row(name: str, tp_a: int, tp_b: int, n: int = 10) -> EpisodeRow:
    """An episode where source a matched tp_a of n moments per SLP and b tp_b (both estimate n)."""
    def score(tp):
        return EpisodeScore(tuple(PairCounts(tp, n, n, {}) for _ in range(3)), 0.0, 0.0, 0.0, 0.0)
    return EpisodeRow(name, "5-15", 100.0, 8.0, {"a": score(tp_a), "b": score(tp_b)})


def test_paired_bootstrap_has_the_known_sign():
    better = [_row(f"e{i}", 8 + i % 2, 5 + i % 3) for i in range(8)]  # a beats b in every episode
    diff, low, high = paired_bootstrap(counts_array(better, "a"), counts_array(better, "b"), mean_f1, resamples=500)
    assert diff == pytest.approx((68 - 47) / 80) and 0 < low <= diff <= high
    diff, low, high = paired_bootstrap(counts_array(better, "b"), counts_array(better, "a"), mean_f1, resamples=500)
    assert low <= diff <= high < 0
    # One episode each way, equal sizes: no sign; a source against itself: exactly none, every resample.
    mixed = [_row("e0", 9, 1), _row("e1", 1, 9)]
    _, low, high = paired_bootstrap(counts_array(mixed, "a"), counts_array(mixed, "b"), mean_f1, resamples=500)
    assert low < 0 < high
    assert paired_bootstrap(counts_array(mixed, "a"), counts_array(mixed, "a"), mean_f1) == (0.0, 0.0, 0.0)


# -- folds ------------------------------------------------------------------------------------------------


def _severities(n: int = 22) -> dict[str, float]:
    return {f"FluencyBank/{i:03d}": float((i * 7) % 31) for i in range(n)}


def test_folds_are_deterministic_sized_and_spread_severe_speakers():
    severity = _severities()
    folds = make_folds(severity, seed=3)
    assert folds == make_folds(dict(reversed(severity.items())), seed=3)  # the order given does not matter
    assert folds != make_folds(severity, seed=4)
    assert len(folds) == 8 and sorted(len(f) for f in folds) == [2, 2, 3, 3, 3, 3, 3, 3]
    check_folds(folds, {ep: ep for ep in severity})
    severe = sorted(severity, key=lambda ep: -severity[ep])[:8]
    assert sorted(k for k, f in enumerate(folds) for ep in f if ep in severe) == list(range(8))
    splits = [fold_splits(folds, k) for k in range(len(folds))]
    for ep in severity:  # every episode is held out (test) once and dev once
        assert [s[ep] for s in splits].count("test") == 1 and [s[ep] for s in splits].count("dev") == 1


def test_check_folds_refuses_a_speaker_in_two_folds():
    folds = [("a", "b"), ("c", "d")]
    check_folds(folds, {"a": "x", "b": "x", "c": "y", "d": "z"})
    with pytest.raises(ValueError, match="speaker-exclusive"):
        check_folds(folds, {"a": "x", "b": "y", "c": "x", "d": "z"})
    with pytest.raises(ValueError, match="in folds 0 and 1"):
        check_folds([("a", "b"), ("b", "c", "d")], {e: e for e in "abcd"})
    with pytest.raises(ValueError, match="in no fold"):
        check_folds([("a", "b"), ("c",)], {e: e for e in "abcd"})


def test_fold_records_rewrite_only_the_split():
    recs = [{"id": f"r{i}", "episode": ep, "split": "train"} for i, ep in enumerate("abcdef")]
    folds = [("a", "b"), ("c", "d"), ("e", "f")]
    out = fold_records(recs, folds, 2)
    assert [r["split"] for r in out] == ["dev", "dev", "train", "train", "test", "test"]
    assert [r["id"] for r in out] == [r["id"] for r in recs] and recs[0]["split"] == "train"


def test_severity_bands():
    assert [severity_band(x) for x in (0.0, 4.99, 5.0, 15.0, 15.1)] == ["under 5", "under 5", "5-15", "over 15",
                                                                        "over 15"]


# -- the real annotations ----------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_episodes_folds_and_floors(shared_data, tmp_path):
    from data_prep.chat import chat_words
    from data_prep.recipes.casa import prepare_casa
    from model.manifest import read_manifest
    from model.training.cv_report import evaluate_cv
    from model.training.moment_eval import syllable_counter

    casa, clips = shared_data / "casa", shared_data / "fluencybank" / "clips"
    if not (casa / "annotations.csv").is_file() or not clips.is_dir():
        pytest.skip("no CASA annotations or FluencyBank clips in the shared data")
    out = tmp_path / "manifest.jsonl"
    prepare_casa(casa_dir=casa, clips_dir=clips, labels_csv=shared_data / "sep28k" / "fluencybank_labels.csv",
                 output=out)
    records = read_manifest(out)
    report = evaluate_cv(records, syllables_of=syllable_counter(chat_words), frame_rate=RATE, resamples=100)
    assert len(report["episodes"]) == 22 and sum(len(f) for f in report["folds"]) == 22
    check_folds(report["folds"], {r["episode"]: r["speaker"] for r in records})
    assert all(2 <= len(f) <= 3 for f in report["folds"])
    figures = report["bands"]["all"]
    # The SLPs agree at about 0.76 (CASA's README); the run floor stays high even joined, the whole-episode one not.
    assert 0.70 < figures[AGREEMENT]["f1"] < 0.82
    assert figures[EPISODE_FLOOR]["f1"] < 0.1 < figures[RUN_FLOOR]["f1"] < figures[AGREEMENT]["f1"]
    assert set(report["bands"]) == {"all", "under 5", "5-15", "over 15"}


def test_evaluate_cv_command_writes_the_table(tmp_path, capsys):
    """`stutterscope evaluate --cv` on a manifest of the hand-made episode and its cached frames."""
    from app.cli import main
    from model.jsonable import dumps
    from model.labels import LABELS

    base = {"corpus": "casa", "audio": "none.wav", "offset": 0.0, "labels": dict.fromkeys(LABELS, 0), "votes": {},
            "multi": False, "split": "dev"}
    # Two copies of the episode (folds need two): the pooled figures are the one episode's.
    copies = [{**r, "id": r["id"] + "b", "episode": "c/ep2", "speaker": "c/ep2"} for r in _records()]
    (tmp_path / "m.jsonl").write_text("".join(dumps({**base, **r}) + "\n" for r in [*_records(), *copies]))
    np.savez(tmp_path / "m_dev.npz", **_model_probs(), **{k + "b": v for k, v in _model_probs().items()})
    (tmp_path / "m_dev.json").write_text(dumps({"channels": ["moment"], "model_id": "hand",
                                                "decoding": DECODING.to_dict()}))
    out = tmp_path / "out"
    assert main(["evaluate", "--cv", "--manifest", str(tmp_path / "m.jsonl"), "--probs", f"m={tmp_path / 'm_dev.npz'}",
                 "--out", str(out), "--resamples", "50"]) == 0
    import json

    report = json.loads((out / "cv_evaluation.json").read_text())
    assert report["bands"]["all"]["m"]["f1"] == pytest.approx((4 / 6 + 4 / 7 + 2 / 6) / 3)
    assert report["models"] == {"m": ["hand"]} and report["folds"] == [["c/ep", "c/ep2"]]
    assert "| all (2) | m |" in (out / "cv_evaluation.md").read_text()
    assert main(["evaluate", "--cv", "--manifest", str(tmp_path / "m.jsonl"), "--probs", "m", "--out", str(out)]) == 2
    assert "NAME=FILE" in capsys.readouterr().err


def test_fold_manifests_resplit_runs_and_clips_alike(tmp_path):
    """benchmarks/cv_eval.py folds: one manifest per fold for the runs and for the clip votes, same splits."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
    import cv_eval

    from model.jsonable import dumps
    from model.labels import LABELS
    from model.manifest import read_manifest

    base = {"corpus": "casa", "audio": "none.wav", "offset": 0.0, "labels": dict.fromkeys(LABELS, 0), "votes": {},
            "multi": False, "split": "train"}
    episodes = [f"c/e{i}" for i in range(9)]  # 3 folds: test, dev and train in each
    runs = [{**base, **r, "id": f"{ep}/{r['id']}", "episode": ep, "speaker": ep} for ep in episodes for r in _records()]
    clips = [{**base, "id": f"{ep}/clip", "episode": ep, "speaker": ep, "duration": 3.0} for ep in episodes]
    (tmp_path / "runs.jsonl").write_text("".join(dumps(r) + "\n" for r in runs))
    (tmp_path / "clips.jsonl").write_text("".join(dumps(r) + "\n" for r in clips))
    paths = cv_eval.write_folds(tmp_path / "runs.jsonl", seed=0, clips_manifest=tmp_path / "clips.jsonl")
    assert sorted(p.name for p in paths) == sorted([f"runs.fold{k}.jsonl" for k in range(3)]
                                                    + [f"clips.fold{k}.jsonl" for k in range(3)])
    for k in range(3):
        split_of_run = {r["episode"]: r["split"] for r in read_manifest(tmp_path / f"runs.fold{k}.jsonl")}
        split_of_clip = {r["episode"]: r["split"] for r in read_manifest(tmp_path / f"clips.fold{k}.jsonl")}
        assert split_of_run == split_of_clip
        assert sorted(split_of_run.values()) == ["dev"] * 3 + ["test"] * 3 + ["train"] * 3
    assert (tmp_path / "runs.folds.md").read_text().count("| c/e") == 3
