"""`evaluate --moments` end to end on generated records and a tiny random frame model (mechanics only)."""

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from model.audio.decode import SAMPLE_RATE
from model.labels import LABELS


def _record(rid: str, episode: str, audio: str, duration: float, moments, exclude=(), chat=()):
    return {"id": rid, "corpus": "casa", "audio": audio, "offset": 0.0, "duration": duration,
            "labels": dict.fromkeys(LABELS, 0), "votes": {}, "multi": False, "episode": episode, "speaker": episode,
            "split": "dev", "moments": [{"annotator": a, "start": s, "end": e, "types": ["Block"], "lbdl": ["B"]}
                                     for a, s, e in moments],
            "exclude": [list(x) for x in exclude], "chat": list(chat)}


@pytest.fixture()
def casa_like(tmp_path, tiny_config):
    from model.encoder.bundle import save_bundle
    from model.encoder.classifier import StutterClassifier

    rng = np.random.default_rng(0)
    for name, seconds in (("a.wav", 6.3), ("b.wav", 4.0)):
        sf.write(tmp_path / name, (0.1 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32),
                 SAMPLE_RATE)
    records = [
        _record("r1", "E1", "a.wav", 6.3, [("A1", 1, 2), ("A2", 1.1, 2), ("A3", 4, 5)], exclude=[(5.5, 6.3)],
                chat=[{"start": 0.5, "end": 3.0, "speaker": "PAR", "text": "one two three", "inside": 1.0}]),
        _record("r2", "E2", "b.wav", 4.0, [("A1", 0.5, 1.0), ("A2", 0.5, 0.9), ("A3", 3, 3.5)],
                chat=[{"start": 0.1, "end": 0.6, "speaker": "PAR", "text": "yes", "inside": 1.0}]),
    ]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in records))
    torch.manual_seed(0)
    model = StutterClassifier(dataclasses.replace(tiny_config, head="frame")).eval()
    path = tmp_path / "frames.safetensors"
    save_bundle(model, path, thresholds=dict.fromkeys(LABELS, 0.5),
                metadata={"frames": {"window_seconds": 3.0, "hop_seconds": 2.5},
                          "decoding": {"onset": 0.5, "offset": 0.4}})
    return records, manifest, path


def test_evaluate_moments_scores_the_models_decoded_moments(casa_like, tmp_path):
    from model.encoder.bundle import load_bundle
    from model.manifest import load_record_audio
    from model.moments.decoding import MomentDecoding
    from model.pipeline.inference import InferenceOptions, Predictor
    from model.training.moment_eval import evaluate_moments

    records, _, path = casa_like
    predictor = Predictor(load_bundle(path), options=InferenceOptions(precision="fp32"))
    scores = evaluate_moments(records, chat_words=lambda text, **_: text.split(), predictor=predictor,
                              root=tmp_path, tune=True)
    assert scores["decoding"] == MomentDecoding(onset=0.5, offset=0.4).to_dict()
    # The counts scored are the moments decoded from the same audio, outside the excluded stretch.
    expected = 0
    for r in records:
        preds = predictor.predict_frames_blocks(iter([load_record_audio(r, tmp_path)]))
        moments = preds.moments(predictor.decoding, exclude=tuple(map(tuple, r["exclude"])))
        expected += sum(m.kind == "stuttering" for m in moments)
        assert all(m.end <= 5.5 or m.start >= 6.3 for m in moments if r["id"] == "r1")
    assert {a: v["any_overlap"]["n_est"] for a, v in scores["model"]["per_annotator"].items()} == dict.fromkeys(
        ("A1", "A2", "A3"), expected)
    assert scores["per_episode"]["episodes"]["E1"]["syllables"] == 3  # "one two three": 1 + 1 + 1
    assert len(scores["tuned"]["grid"]) == 240 and 0 <= scores["tuned"]["mean_f1"] <= 1
    json.dumps(scores)


def test_cli_moments_and_slps_only(casa_like, tmp_path, capsys):
    pytest.importorskip("data_prep.chat", reason="CHAT reading comes with `prep casa` (data_prep.chat)")
    from app.cli import main

    _, manifest, path = casa_like
    assert main(["evaluate", "--manifest", str(manifest), "--split", "dev", "--slps-only", "--out", str(tmp_path)]) == 0
    out = json.loads((tmp_path / "moment_evaluation_dev.json").read_text())
    # A1-A2 agree on both records (2 of 2 and 2): F1 1; A3 agrees with nobody: 0.
    assert out["slp_agreement"]["per_pair"]["A1-A2"]["any_overlap"]["f1"] == 1.0
    assert out["slp_agreement"]["mean_over_pairs"]["any_overlap"] == pytest.approx(1 / 3, abs=1e-4)
    assert main(["evaluate", "--manifest", str(manifest), "--split", "dev", "--moments", "--model", str(path),
                 "--out", str(tmp_path)]) == 0
    assert "model vs" in capsys.readouterr().out
