"""Joint training of the frame head on generated sessions whose disfluencies have exact times.

Two one-minute sessions (two voices): one trains, the other is held out. Each is cut into 6 s runs
with per-20-ms frame targets written from the generator's event times (what `prep casa` writes from
the SLPs' moments) and into 3 s clips with clip labels. Whisper tiny.en stands in for base.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from model.audio.decode import TOKENS_PER_SECOND
from model.labels import LABELS, SLD_LABELS, frame_channels

RUN_SECONDS = 6.0  # stitched runs are 5-10 s
CLIP_SECONDS = 3.0


def _events(csv_path) -> list[tuple[str, float, float]]:
    with open(csv_path, newline="") as f:
        return [(r["Label"], float(r["StartSec"]), float(r["EndSec"])) for r in csv.DictReader(f)]


def _frame_targets(events, start: float, duration: float) -> np.ndarray:
    """(channels, T) 0/1 targets at 20 ms: moment = any stuttering-like event, then each type."""
    n = int(round(duration * TOKENS_PER_SECOND))
    t = start + (np.arange(n) + 0.5) / TOKENS_PER_SECOND  # frame centres, seconds
    soft = np.zeros((len(frame_channels()), n), np.float32)
    for label, on, off in events:
        inside = (t >= on) & (t < off)
        soft[1 + LABELS.index(label)][inside] = 1.0
        if label in SLD_LABELS:
            soft[0][inside] = 1.0
    return soft


def _record(rid: str, audio: str, start: float, duration: float, split: str, events) -> dict:
    present = {label: int(any(lab == label and min(off, start + duration) - max(on, start) >= 0.2
                              for lab, on, off in events)) for label in LABELS}
    return {"id": rid, "corpus": "synthetic", "audio": audio, "offset": start, "duration": duration,
            "labels": present, "votes": {k: 3 * v for k, v in present.items()}, "episode": split,
            "speaker": split, "split": split, "multi": sum(present.values()) >= 2}


@pytest.fixture(scope="module")
def session_manifests(tmp_path_factory, espeak):
    from data_prep.synth import generate_corpus
    from model.manifest import write_manifest
    root = tmp_path_factory.mktemp("sessions")
    summary = generate_corpus(root / "corpus", n_clips=0, seed=3, sessions=2, session_minutes=1)
    runs, clips, arrays = [], [], {}
    for k, (wav, split) in enumerate(zip(summary.sessions, ("train", "dev"), strict=True)):
        events = _events(wav.with_name(f"{wav.stem}_events.csv"))
        for i, start in enumerate(np.arange(0.0, 60.0 - RUN_SECONDS + 1e-6, RUN_SECONDS)):
            rec = _record(f"s{k}/run{i}", str(wav), float(start), RUN_SECONDS, split, events)
            soft = _frame_targets(events, float(start), RUN_SECONDS)
            key = rec["id"]
            arrays[f"{key}/soft"], arrays[f"{key}/mask"] = soft, np.ones(soft.shape[1], np.uint8)
            arrays[f"{key}/annotators"] = np.repeat(soft[None].astype(np.uint8), 3, axis=0)  # (3, channels, T)
            arrays[f"{key}/supervised"] = np.array([1, 1, 1, 1, 1, 0], np.uint8)  # no interjections marked
            # As `prep casa` writes it: one npz for the manifest, a key per record; the events as one SLP's moments.
            moments = [{"annotator": "A1", "start": round(max(on - start, 0.0), 3),
                        "end": round(min(off - start, RUN_SECONDS), 3), "types": [label], "lbdl": [],
                        "cut": bool(on < start or off > start + RUN_SECONDS)}
                       for label, on, off in events if label in SLD_LABELS and off > start and on < start + RUN_SECONDS]
            runs.append({**rec, "moments": moments, "frames": {"file": "runs.frames.npz", "key": rec["id"], "rate": TOKENS_PER_SECOND,
                                           "count": soft.shape[1], "channels": list(frame_channels()),
                                           "supervised": ["moment", *SLD_LABELS]}})
        for i, start in enumerate(np.arange(0.0, 60.0 - CLIP_SECONDS + 1e-6, 1.5)):
            clips.append(_record(f"s{k}/clip{i}", str(wav), float(start), CLIP_SECONDS, split, events))
    np.savez(root / "runs.frames.npz", **arrays)
    write_manifest(runs, root / "runs.jsonl")
    write_manifest(clips, root / "clips.jsonl")
    return root / "clips.jsonl", root / "runs.jsonl"


def test_frame_targets_load_with_unsupervised_channels_weighted_zero(session_manifests):
    from model.training.frame_targets import load_frame_targets, read_manifests

    records = read_manifests(list(session_manifests))
    run = next(r for r in records if r.get("frames"))
    y, w = load_frame_targets(run, LABELS, ("moment", *SLD_LABELS, "Interjection"))
    assert y.shape == w.shape == (300, 6)  # 6 s at 20 ms, moment + 5 types
    assert torch.all(w[:, 5] == 0) and torch.all(w[:, :5] == 1)  # Interjection: no frame supervision
    assert all(r["audio"].startswith("/") for r in records)  # paths resolved against each manifest's folder


@pytest.mark.slow
@pytest.mark.whisper_weights
def test_training_on_frames_lowers_frame_loss_and_beats_chance_on_held_out_frames(session_manifests, tiny_en,
                                                                                   tmp_path):
    from model.training.loop import train
    from model.training.options import TrainOptions

    opt = TrainOptions(weights=tiny_en, train_blocks=1, epochs=6, patience=6, batch_size=8, lr=3e-4,
                       head_lr=3e-3, cache_dir=str(tmp_path / "cache"), progress=False, select_on="frame")
    result = train(list(session_manifests), tmp_path / "run", opt)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["frame_targets"]["train_records"] == 10 and config["frame_targets"]["dev_records"] == 10
    assert config["options"]["head"] == "frame" and config["classifier"]["head"] == "frame"

    assert history[-1]["train_frame_loss"] < 0.8 * history[0]["train_frame_loss"]
    best = history[result.best_epoch - 1]
    # The held-out voice's frames: the moment channel ranks stuttered frames above fluent ones, and
    # its best F1 beats calling every frame a moment (2p / (1 + p), p the share of moment frames).
    assert best["dev_frame_auc"]["moment"] > 0.7, best
    with np.load(session_manifests[1].with_name("runs.frames.npz")) as npz:
        p = float(np.concatenate([npz[k][0] for k in npz.files if k.startswith("s1/") and k.endswith("/soft")]).mean())
    assert 0.05 < p < 0.6  # the session has moments, and fluent speech around them
    assert best["dev_frame_f1"]["moment"] > 2 * p / (1 + p) + 0.05, (best, p)

    # Export: format 2 with the frame windows and decoding settings tuned on the dev runs' moments;
    # the reloaded file analyses audio into moments through the app's own path.
    from model.encoder.bundle import FORMAT_VERSION, load_bundle
    from model.pipeline.inference import InferenceOptions, Predictor
    from model.training.export import export_run

    _, meta = export_run(tmp_path / "run", tmp_path / "model.safetensors", test_split="dev")
    assert meta["format_version"] == FORMAT_VERSION == 2 and meta["head"] == "frame" and meta["frame_rate"] == 50
    assert meta["frames"] == {"window_seconds": 10.0, "hop_seconds": 8.0}
    dev_f1 = meta["training"]["moment_metrics"]["dev"]["model"]["mean_over_slps"]["any_overlap"]
    assert dev_f1 > 0.3, meta["training"]["moment_metrics"]["dev"]
    predictor = Predictor(load_bundle(tmp_path / "model.safetensors"), options=InferenceOptions(device="cpu"))
    assert predictor.decoding.to_dict() == meta["decoding"]
    preds, moments = predictor.predict_moments(session_manifests[1].parent / "corpus" / "sessions" /
                                               "Synthetic_session_1.wav")
    assert preds.probs.shape == (3000, 6) and moments  # 60 s at 20 ms
