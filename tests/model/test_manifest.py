"""Manifest records: validation, atomic writes, combining, and reading any record's audio."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.labels import LABELS
from model.manifest import (
    combine_manifests,
    load_record_audio,
    read_manifest,
    validate_record,
    write_manifest,
)


def _rec(i: int = 0, **kw) -> dict:
    labels = {name: 0 for name in LABELS}
    rec = {"id": f"c/{i}", "corpus": "c", "audio": f"a{i}.wav", "offset": 0.0, "duration": 1.0, "labels": labels,
           "votes": {"Block": 1}, "episode": "E/1", "speaker": "E/1", "split": "train", "multi": False}
    rec.update(kw)
    return rec


@pytest.mark.parametrize(("change", "field"), [
    ({"split": "valid"}, "'split'"),
    ({"offset": -1.0}, "'offset'"),
    ({"duration": 0}, "'duration'"),
    ({"labels": {"Block": 1}}, "'labels'"),
    ({"multi": True}, "'multi'"),
    ({"votes": {"Block": -1}}, "'votes.Block'"),
    ({"soft": {name: 2.0 for name in LABELS}}, "'soft."),
    ({"audio": ""}, "'audio'"),
    ({"parts": [{"audio": "a0.wav", "offset": 0.0, "duration": 0.5}]}, "'parts'"),
])
def test_validate_names_record_and_field(change, field):
    with pytest.raises(ValueError, match=f"record 'c/0': field {field}"):
        validate_record(_rec(**change))
    rec = _rec()
    del rec["episode"]
    with pytest.raises(ValueError, match="'episode' is missing"):
        validate_record(rec)


def test_write_is_validated_first_and_atomic(tmp_path):
    path = tmp_path / "m.jsonl"
    write_manifest([_rec(0), _rec(1)], path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="not unique"):
        write_manifest([_rec(0), _rec(0)], path)
    with pytest.raises(ValueError, match="'split'"):
        write_manifest([_rec(2), _rec(3, split=None)], path)
    assert path.read_bytes() == before  # the old manifest stays whole
    assert [p.name for p in tmp_path.iterdir()] == ["m.jsonl"]  # no temp files left
    assert [r["id"] for r in read_manifest(path)] == ["c/0", "c/1"]


def test_read_reports_damaged_lines(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(_rec(0)) + "\n{not json\n")
    with pytest.raises(ValueError, match="m.jsonl:2: not a JSON record"):
        read_manifest(path)
    path.write_text(json.dumps(_rec(0, split="x")) + "\n")
    with pytest.raises(ValueError, match="'split'"):
        read_manifest(path)


def test_combine_rebases_paths_and_keeps_ids_unique(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b" / "deep").mkdir(parents=True)
    write_manifest([_rec(0, audio="clips/x.wav")], tmp_path / "a" / "m.jsonl")
    write_manifest([_rec(1, audio="/abs/y.wav", corpus="d")], tmp_path / "b" / "deep" / "m.jsonl")
    out = tmp_path / "m.jsonl"
    combine_manifests([tmp_path / "a" / "m.jsonl", tmp_path / "b" / "deep" / "m.jsonl"], out)
    assert [r["audio"] for r in read_manifest(out)] == ["a/clips/x.wav", "/abs/y.wav"]
    with pytest.raises(ValueError, match="'c/0' is in both"):
        combine_manifests([tmp_path / "a" / "m.jsonl", tmp_path / "a" / "m.jsonl"], tmp_path / "n.jsonl")
    assert not (tmp_path / "n.jsonl").exists()


def test_load_record_audio_offsets_parts_and_resampling(tmp_path):
    ramp = np.linspace(-0.5, 0.5, 2 * SAMPLE_RATE, dtype=np.float32)
    sf.write(tmp_path / "a.wav", ramp, SAMPLE_RATE)
    stereo = np.stack([ramp, ramp], axis=1)  # (samples, 2)
    sf.write(tmp_path / "b.flac", stereo[::2], SAMPLE_RATE // 2)
    whole = load_record_audio(_rec(audio="a.wav", duration=2.0), tmp_path)
    assert whole.dtype == np.float32 and len(whole) == 2 * SAMPLE_RATE
    cut = load_record_audio(_rec(audio="a.wav", offset=0.5, duration=1.0), tmp_path)
    np.testing.assert_allclose(cut, ramp[SAMPLE_RATE // 2:3 * SAMPLE_RATE // 2], atol=1e-4)
    past_end = load_record_audio(_rec(audio="a.wav", offset=1.5, duration=1.0), tmp_path)
    assert len(past_end) == SAMPLE_RATE // 2  # what is there; the trainer pads
    other = load_record_audio(_rec(audio="b.flac", offset=0.5, duration=1.0), tmp_path)
    assert len(other) == SAMPLE_RATE and abs(other[SAMPLE_RATE // 2] - ramp[SAMPLE_RATE]) < 0.01
    joined = _rec(audio="a.wav", duration=1.5, parts=[{"audio": "a.wav", "offset": 0.0, "duration": 0.5},
                                                      {"audio": "b.flac", "offset": 1.0, "duration": 1.0}])
    validate_record(joined)
    audio = load_record_audio(joined, tmp_path)
    assert len(audio) == int(1.5 * SAMPLE_RATE)


def test_rebase_record_moves_the_frame_targets_path_with_the_audio(tmp_path):
    from model.manifest import rebase_record, resolve_audio

    old, new = tmp_path / "a", tmp_path / "b" / "c"
    rec = {"id": "x", "audio": "clip.flac", "frames": {"file": "m.frames.npz", "key": "x", "rate": 50, "count": 3}}
    moved = rebase_record(rec, old, new)
    assert resolve_audio(moved["frames"]["file"], new) == resolve_audio("m.frames.npz", old)
    assert moved["frames"]["key"] == "x" and rec["frames"]["file"] == "m.frames.npz"
