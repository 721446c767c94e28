"""Joined multi-stuttered samples: same episode and split, label union, 6-9 s, deterministic."""

from __future__ import annotations

import pytest

from data_prep.joins import build_joined_samples
from data_prep.recipes.clip_votes import RecipeOptions, run_recipe
from model.audio.decode import SAMPLE_RATE
from model.manifest import load_record_audio, validate_records


@pytest.fixture()
def records(mini_fluencybank, tmp_path):
    labels, clips = mini_fluencybank
    options = RecipeOptions(corpus="fluencybank")
    return run_recipe(labels, clips, tmp_path / "m.jsonl", options=options, progress=False).records



def test_joins_stay_within_episode_and_split(records):
    clips = {r["id"]: r for r in records}
    joined = build_joined_samples(records, seed=0, n_per_episode=2, splits=("train", "dev", "test"))
    assert joined and len({j["id"] for j in joined}) == len(joined)
    validate_records(records + joined)
    for j in joined:
        parts = [next(r for r in records if r["audio"] == p["audio"]) for p in j["parts"]]
        assert 2 <= len(parts) <= 3 and j["id"] == f"join/{parts[0]['id']}+{len(parts)}"
        assert {p["episode"] for p in parts} == {j["episode"]} and {p["split"] for p in parts} == {j["split"]}
        for name, value in j["labels"].items():
            assert value == max(p["labels"][name] for p in parts)
            assert j["soft"][name] == max(p["soft"][name] for p in parts)
        assert j["votes"]["Interjection"] == max(p["votes"]["Interjection"] for p in parts)
        assert j["id"].removeprefix("join/").rsplit("+", 1)[0] in clips


def test_only_train_by_default_deterministic_and_within_max_seconds(records):
    long = [dict(r, duration=3.0) for r in records]
    a = build_joined_samples(long, seed=1, n_per_episode=3)
    assert {j["split"] for j in a} == {"train"}
    assert a == build_joined_samples(long, seed=1, n_per_episode=3)
    assert all(6.0 <= j["duration"] <= 9.0 for j in a)
    assert not build_joined_samples(long, seed=1, n_per_episode=3, max_seconds=5.0)
    # 5 clips per train episode (one excluded), 40% of them: 2 joined samples each
    assert len(build_joined_samples(long, seed=1, fraction=0.4)) == 2 * len({r["episode"] for r in a})
    with pytest.raises(ValueError, match="exactly one"):
        build_joined_samples(long, seed=1)


def test_joined_audio_is_the_parts_in_order(records, tmp_path):
    joined = build_joined_samples(records, seed=0, n_per_episode=1)[0]
    audio = load_record_audio(joined, tmp_path)
    assert len(audio) == round(joined["duration"] * SAMPLE_RATE)
