"""Feature caches: what they store, when they are not reused, and resuming an interrupted build."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf
import torch

from model.audio.decode import SAMPLE_RATE
from model.encoder.classifier import StutterClassifier
from model.training import caches as features
from model.training.caches import CacheKey, FeatureCache, build_cache, clip_mel, prefix_key, state_sha256


def _write_tone(path, seconds: float, freq: float):
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    rng = np.random.default_rng(int(freq))
    audio = 0.3 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))
    sf.write(str(path), audio.astype(np.float32), SAMPLE_RATE)
    return path


@pytest.fixture()
def clips(tmp_path):
    """Records of five clips: 3 s tones, one 1.7 s clip, and a 6 s joined sample of two clips."""
    records = []
    for i, (seconds, freq) in enumerate([(3.0, 220), (3.0, 330), (3.0, 440), (1.7, 550)]):
        _write_tone(tmp_path / f"c{i}.wav", seconds, freq)
        records.append({"id": f"t/{i}", "audio": f"c{i}.wav", "offset": 0.0, "duration": seconds})
    records.append({"id": "join/0+1", "audio": "c0.wav", "offset": 0.0, "duration": 6.0,
                    "parts": [{"audio": "c0.wav", "offset": 0.0, "duration": 3.0},
                              {"audio": "c1.wav", "offset": 0.0, "duration": 3.0}]})
    return tmp_path, records


@pytest.fixture()
def prefix_model(tiny_config):
    torch.manual_seed(0)
    return StutterClassifier(dataclasses.replace(tiny_config, train_blocks=1, dropout=0.0)).eval()


def test_mel_cache_holds_each_clips_log_mel(clips, tmp_path):
    root, records = clips
    cache = build_cache(records, root, tmp_path / "cache", CacheKey(kind="mel"), shard_size=2)
    loaded = cache.load(r["id"] for r in records)
    # Short clips are padded to one 3 s window, joined samples keep their length; n_frames is the real length.
    assert {cid: (tuple(t.shape), n) for cid, (t, n) in loaded.items()} == {
        "t/0": ((80, 300), 300), "t/1": ((80, 300), 300), "t/2": ((80, 300), 300),
        "t/3": ((80, 300), 170), "join/0+1": ((80, 600), 600)}
    assert loaded["t/0"][0].dtype == torch.float16
    from model.manifest import load_record_audio

    expected, _ = clip_mel(load_record_audio(records[0], root), cache.key)
    torch.testing.assert_close(loaded["t/0"][0].float(), expected, atol=2e-3, rtol=0)


def test_prefix_cache_gives_the_models_own_logits(clips, tmp_path, prefix_model):
    root, records = clips
    key = prefix_key(prefix_model, weights_sha=state_sha256(prefix_model.state_dict()))
    cache = build_cache(records, root, tmp_path / "cache", key, model=prefix_model)
    mel_cache = build_cache(records, root, tmp_path / "cache", CacheKey(kind="mel"))
    for cid in ("t/0", "t/3", "join/0+1"):
        tokens, n = cache.load([cid])[cid]
        mel, _ = mel_cache.load([cid])[cid]
        with torch.no_grad():
            n_frames = torch.tensor([n])
            from_cache = prefix_model.forward_from_prefix(tokens.float()[None], (n_frames + 1) // 2)
            direct = prefix_model(mel.float()[None], n_frames)
        torch.testing.assert_close(from_cache, direct, atol=1e-2, rtol=1e-2)


def test_every_setting_that_changes_features_names_another_cache(prefix_model):
    base = prefix_key(prefix_model, weights_sha="a" * 64)
    variants = [dataclasses.replace(base, weights_sha="b" * 64), dataclasses.replace(base, frozen_blocks=0),
                dataclasses.replace(base, context="padded"), dataclasses.replace(base, compute="bf16"),
                dataclasses.replace(base, window_samples=base.window_samples * 2),
                dataclasses.replace(base, n_mels=128), dataclasses.replace(base, dtype="float32"),
                dataclasses.replace(base, version=base.version + 1), CacheKey(kind="mel")]
    names = {base.folder_name} | {v.folder_name for v in variants}
    assert len(names) == len(variants) + 1
    assert prefix_key(prefix_model, weights_sha="a" * 64).folder_name == base.folder_name  # stable


def test_a_stale_cache_is_never_read(clips, tmp_path, prefix_model):
    root, records = clips
    sha = state_sha256(prefix_model.state_dict())
    build_cache(records, root, tmp_path / "cache", prefix_key(prefix_model, weights_sha=sha), model=prefix_model)
    other_weights = prefix_key(prefix_model, weights_sha="0" * 64)
    assert FeatureCache.open(tmp_path / "cache", other_weights).missing(records) == records
    # A record whose audio reference changed is recomputed, the others are kept.
    moved = [dict(r) for r in records]
    moved[1]["audio"] = "c2.wav"
    cache = FeatureCache.open(tmp_path / "cache", prefix_key(prefix_model, weights_sha=sha))
    assert [r["id"] for r in cache.missing(moved)] == ["t/1"]
    # An index written under another key is refused rather than trusted.
    index = cache.folder / features.INDEX_FILE
    index.write_text(index.read_text().replace(sha, "f" * 64))
    with pytest.raises(ValueError, match="another key"):
        FeatureCache.open(tmp_path / "cache", prefix_key(prefix_model, weights_sha=sha))


def test_the_model_must_match_the_key(clips, tmp_path, prefix_model):
    root, records = clips
    key = dataclasses.replace(prefix_key(prefix_model, weights_sha="a" * 64), frozen_blocks=0)
    with pytest.raises(ValueError, match="does not match"):
        build_cache(records, root, tmp_path / "cache", key, model=prefix_model)


def test_an_interrupted_build_resumes_where_it_stopped(clips, tmp_path, prefix_model):
    root, records = clips
    key = prefix_key(prefix_model, weights_sha=state_sha256(prefix_model.state_dict()))

    def interrupt(n):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_cache(records, root, tmp_path / "a", key, model=prefix_model, shard_size=2, progress=interrupt)
    assert len(FeatureCache.open(tmp_path / "a", key).entries) == 2  # the first shard was kept
    done = []
    cache = build_cache(records, root, tmp_path / "a", key, model=prefix_model, shard_size=2, progress=done.append)
    assert sum(done) == 3 and len(cache.entries) == 5
    whole = build_cache(records, root, tmp_path / "b", key, model=prefix_model, shard_size=2)
    got, want = cache.load(whole.entries), whole.load(whole.entries)
    for cid in want:
        torch.testing.assert_close(got[cid][0], want[cid][0])


def test_a_write_that_fails_leaves_no_partial_shard(clips, tmp_path, monkeypatch):
    root, records = clips
    import safetensors.torch

    def broken(tensors, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a shard")
        raise OSError("disk full")

    monkeypatch.setattr(safetensors.torch, "save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        build_cache(records, root, tmp_path / "cache", CacheKey(kind="mel"))
    folder = tmp_path / "cache" / CacheKey(kind="mel").folder_name
    assert list(folder.iterdir()) == []  # no shard, no temporary file, no index


def test_prep_cache_command_builds_a_mel_cache(clips, tmp_path, capsys):
    import argparse

    from model.manifest import write_manifest

    root, records = clips
    labels = {"Prolongation": 0, "Block": 0, "SoundRep": 0, "WordRep": 0, "Interjection": 0}
    write_manifest([{**r, "corpus": "t", "labels": labels, "votes": labels, "split": "train",
                     "episode": "t/0", "speaker": "t/0", "multi": False} for r in records[:4]],
                   root / "m.jsonl")
    parser = argparse.ArgumentParser()
    features.add_arguments(parser)
    args = parser.parse_args([str(root / "m.jsonl"), "--kind", "mel", "--cache-dir", str(tmp_path / "c")])
    assert features.run(args) == 0
    assert "4 clips cached" in capsys.readouterr().out
