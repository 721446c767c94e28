"""The decoding experiments of benchmarks/decoding_sweep.py (issue 13) on hand-made probabilities and records."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import decoding_sweep
import frame_probs_cache

from model.moments.decoding import FRAME_CHANNELS, INTERJECTION, Moment, MomentDecoding

RATE = 50  # frames per second, as the encoder's tokens


def _write_cache(folder: Path, name: str, probs: dict[str, np.ndarray]) -> None:
    path = frame_probs_cache.cache_path(folder, name, "dev")
    np.savez(path, **probs)
    path.with_suffix(".json").write_text(json.dumps({"channels": list(FRAME_CHANNELS)}))


def _record(rid: str, moments: list[tuple[str, float, float]], *, episode: str = "FluencyBank/001",
            duration: float = 4.0, clips=(), chat=()) -> dict:
    return {"id": rid, "episode": episode, "duration": duration, "episode_start": 0.0, "split": "dev",
            "moments": [{"annotator": a, "start": s, "end": e, "types": []} for a, s, e in moments],
            "clips": list(clips), "chat": list(chat)}


def test_sources_average_models_and_median_filter_within_a_record(tmp_path):
    a = np.zeros((9, len(FRAME_CHANNELS)), np.float32)
    d = np.zeros_like(a)
    a[4, 0] = 1.0  # one-frame spike: a 3-frame median removes it
    d[:, 0] = 0.5
    _write_cache(tmp_path, "a", {"r": a})
    _write_cache(tmp_path, "d", {"r": d})
    mean, channels = decoding_sweep.source_probs(tmp_path, "a+d", "dev")
    assert channels == FRAME_CHANNELS
    assert mean["r"][4, 0] == pytest.approx(0.75) and mean["r"][0, 0] == pytest.approx(0.25)
    smooth, _ = decoding_sweep.source_probs(tmp_path, "a@med3", "dev")
    assert np.all(smooth["r"][:, 0] == 0.0)
    with pytest.raises(ValueError, match="@medN"):
        decoding_sweep.source_probs(tmp_path, "a@blur", "dev")


def test_type_evidence_modifiers_replace_the_moment_channel(tmp_path):
    p = np.zeros((2, len(FRAME_CHANNELS)), np.float32)
    p[:, 0] = 0.2
    p[0, FRAME_CHANNELS.index("Block")] = 0.6
    p[0, FRAME_CHANNELS.index("WordRep")] = 0.5
    p[1, FRAME_CHANNELS.index("Interjection")] = 0.9  # not a stuttering-like type: ignored
    _write_cache(tmp_path, "a", {"r": p})
    maxtype, _ = decoding_sweep.source_probs(tmp_path, "a@maxtype", "dev")
    meanor, _ = decoding_sweep.source_probs(tmp_path, "a@meanor", "dev")
    assert maxtype["r"][:, 0] == pytest.approx([0.6, 0.2])
    assert meanor["r"][:, 0] == pytest.approx([(0.2 + 1 - 0.4 * 0.5) / 2, 0.1])


def test_score_counts_f1_per_slp_and_merges_and_splits():
    # SLP moments at 0.5-1.0 and 1.2-1.6 s; the probabilities make one moment 0.5-1.6 s (merged) and
    # one at 3.0-3.4 s that no SLP marked.
    p = np.zeros((200, len(FRAME_CHANNELS)), np.float32)
    p[25:80, 0] = 0.9
    p[150:170, 0] = 0.9
    refs = [(a, s, e) for a in ("A1", "A2", "A3") for s, e in ((0.5, 1.0), (1.2, 1.6))]
    rec = _record("r", refs)
    row = decoding_sweep.score([rec], {"r": p}, FRAME_CHANNELS, MomentDecoding(onset=0.5, offset=0.5),
                               details=True)
    assert row["n_est"] == 2
    assert row["f1"] == pytest.approx(2 * 1 / (2 + 2))  # one pair of 2 estimates and 2 references, per SLP
    assert row["merge_split"]["001"]["A1"] == {"merged": 1, "split": 0, "missed": 0}


def test_interjection_measures_against_clip_votes_and_chat_fillers():
    clips = [{"id": "c1", "start": 0.0, "end": 3.0}, {"id": "c2", "start": 3.0, "end": 6.0},
             {"id": "c3", "start": 6.0, "end": 9.0}]
    chat = [{"speaker": "PAR", "text": "&-um I went &-uh home .", "inside": 0.5},
            {"speaker": "INV", "text": "&-um okay .", "inside": 1.0}]
    rec = _record("r", [("A1", 0.9, 1.4)], duration=9.0, clips=clips, chat=chat)
    estimates = {"r": [Moment(1.0, 1.3, 0.9, ("Interjection",), INTERJECTION),
                       Moment(4.0, 4.2, 0.8, ("Interjection",), INTERJECTION)]}
    labels = {"c1": {"Interjection": 1}, "c2": {"Interjection": 0}, "c3": {"Interjection": 1}}
    m = decoding_sweep.interjection_measures([rec], estimates, labels)
    assert m["clips"] == {"tp": 1, "fp": 1, "fn": 1, "f1": pytest.approx(0.5)}
    assert m["episodes"]["001"] == {"decoded": 2, "on_slp_moment": 1, "chat_fillers": 1.0}  # 2 fillers, half inside


def test_paired_bootstrap_of_a_decoding_against_itself_and_a_better_one():
    rng = np.random.default_rng(1)
    n_ref = rng.integers(0, 4, (40, 3))
    base = np.stack([np.minimum(n_ref, 1), n_ref, np.full((40, 3), 1)], axis=2).astype(float)
    assert decoding_sweep.paired_bootstrap(base, base, resamples=200) == (0.0, 0.0, 0.0)
    better = base.copy()
    better[:, :, 0] = np.minimum(n_ref, 1) + (n_ref >= 2)  # one more pair wherever an SLP marked two
    better[:, :, 2] = 1 + (n_ref >= 2)
    gain, low, high = decoding_sweep.paired_bootstrap(better, base, resamples=200)
    assert gain == pytest.approx(decoding_sweep.mean_f1(better) - decoding_sweep.mean_f1(base))
    assert 0 < low <= gain <= high
