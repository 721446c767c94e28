"""Training mechanics on a tiny random encoder: run folder, export, resume after a kill, DDP, options."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from model.audio.decode import SAMPLE_RATE
from model.labels import LABELS
from model.training.checkpoints import read_checkpoint
from model.training.export import export_run
from model.training.loop import train
from model.training.options import TrainOptions

REPO = Path(__file__).resolve().parents[3]


FREQS = {"Prolongation": 300, "Block": 500, "SoundRep": 700, "WordRep": 900, "Interjection": 1100}


def _clip(path: Path, present: list[str], rng: np.random.Generator) -> None:
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    audio = 0.05 * rng.standard_normal(len(t))
    for name in present:  # each type adds its own tone: learnable, even by a random encoder
        audio += 0.2 * np.sin(2 * np.pi * FREQS[name] * t)
    sf.write(str(path), audio.astype(np.float32), SAMPLE_RATE)


def _record(i: int, split: str, episode: int, present: list[str]) -> dict:
    labels = {name: int(name in present) for name in LABELS}
    return {"id": f"toy/{episode}/{i}", "corpus": "synthetic", "audio": f"clips/{i}.wav", "offset": 0.0,
            "duration": 3.0, "labels": labels, "votes": {k: 3 * v for k, v in labels.items()},
            "episode": f"toy/{episode}", "speaker": f"toy/{episode}", "split": split, "multi": sum(labels.values()) > 1}


@pytest.fixture(scope="module")
def toy(tmp_path_factory, tiny_config):
    """(manifest, encoder weights file, cache dir): 40 train, 16 dev, 16 test tone clips; a tiny random encoder."""
    from model.encoder.classifier import StutterClassifier
    from model.manifest import write_manifest
    from model.training.model_init import save_encoder_file

    root = tmp_path_factory.mktemp("toy")
    (root / "clips").mkdir()
    rng = np.random.default_rng(0)
    records = []
    for i in range(72):
        present = [name for name in LABELS if rng.random() < 0.3]
        split = "train" if i < 40 else "dev" if i < 56 else "test"
        _clip(root / "clips" / f"{i}.wav", present, rng)
        records.append(_record(i, split, i % 8, present))
    write_manifest(records, root / "manifest.jsonl")
    torch.manual_seed(0)
    encoder = StutterClassifier(tiny_config).encoder
    save_encoder_file(tiny_config.dims, encoder.state_dict(), root / "encoder.safetensors")
    return root / "manifest.jsonl", str(root / "encoder.safetensors"), str(root / "cache")


def _options(toy, **kw) -> TrainOptions:
    _, weights, cache = toy
    base = dict(weights=weights, cache_dir=cache, epochs=3, batch_size=8, head_hidden=32, progress=False,
                lr=1e-3, head_lr=3e-3)
    return TrainOptions(**{**base, **kw})


def _trainable(run_dir: Path, name: str = "last.pt") -> dict:
    return read_checkpoint(run_dir / name)["trainable"]


def test_a_run_folder_holds_everything_and_exports(toy, tmp_path):
    from model.encoder.bundle import load_bundle

    manifest = toy[0]
    result = train(manifest, tmp_path / "run", _options(toy))
    run = tmp_path / "run"
    for name in ("config.json", "train.log", "history.json", "curves.png", "last.pt", "best.pt"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["options"]["seed"] == 0 and config["features"] == "prefix"
    assert config["manifest"]["sha256"] and config["environment"]["torch"] == torch.__version__
    assert config["n_trainable"] == result.n_trainable
    assert "trainable parameters" in (run / "train.log").read_text()
    assert [h["epoch"] for h in json.loads((run / "history.json").read_text())] == [1, 2, 3]

    model_id, meta = export_run(run, tmp_path / "model.safetensors", json_copy=tmp_path / "model.json")
    bundle = load_bundle(tmp_path / "model.safetensors")
    assert bundle.model_id == model_id
    assert bundle.thresholds == pytest.approx(read_checkpoint(run / "best.pt")["thresholds"])
    training = bundle.metadata["training"]
    assert set(training["metrics"]) == {"dev", "test"} and training["metrics"]["test"]["n_clips"] == 16
    assert training["splits"]["test"]["episodes"] and training["best_epoch"] == result.best_epoch
    assert bundle.metadata["intended_use"] == "an aid to clinical judgement, not a diagnosis"
    assert "toy/0" in bundle.metadata["description"] and "not a diagnosis" in bundle.metadata["description"]
    assert json.loads((tmp_path / "model.json").read_text())["model_id"] == model_id


_KILLED_CHILD = """
import json, os, signal, sys
import model.training.loop as t
from model.training.options import TrainOptions
real, calls = t.train_epoch, [0]
def dying(*a, **kw):
    calls[0] += 1
    loss = real(*a, **kw)
    if calls[0] == 3:  # epoch 3 ran but was never saved: killed like a lost machine
        os.kill(os.getpid(), signal.SIGKILL)
    return loss
t.train_epoch = dying
opt = TrainOptions(**json.loads(sys.argv[1]))
t.train(sys.argv[2], sys.argv[3], opt, resume=False)
"""


def test_resume_after_a_killed_run_trains_the_same_model(toy, tmp_path):
    opt = _options(toy, epochs=4)
    cmd = [sys.executable, "-c", _KILLED_CHILD, json.dumps(dataclasses.asdict(opt)), str(toy[0]),
           str(tmp_path / "run")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert read_checkpoint(tmp_path / "run" / "last.pt")["state"]["epoch"] == 2  # epoch 3 was lost
    with pytest.raises(ValueError, match="--resume"):
        train(toy[0], tmp_path / "run", opt)
    with pytest.raises(ValueError, match="other options"):
        train(toy[0], tmp_path / "run", dataclasses.replace(opt, lr=0.5), resume=True)

    resumed = train(toy[0], tmp_path / "run", opt, resume=True)
    whole = train(toy[0], tmp_path / "whole", opt)
    assert resumed.epochs_run == whole.epochs_run == 4
    got, want = _trainable(tmp_path / "run"), _trainable(tmp_path / "whole")
    for name in want:
        torch.testing.assert_close(got[name], want[name], atol=1e-5, rtol=1e-4)


_DDP_CHILD = """
import json, sys
from model.training.loop import train
from model.training.options import TrainOptions
opt = TrainOptions(**json.loads(sys.argv[1]))
train(sys.argv[2], sys.argv[3], opt)
"""


def test_ddp_on_two_cpu_processes_trains_the_same_model_as_one(toy, tmp_path):
    # No dropout or noise: the two processes then differ from one only in floating-point summation order.
    opt = _options(toy, epochs=2, dropout=0.0, train_blocks=1)
    script = tmp_path / "child.py"
    script.write_text(_DDP_CHILD)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script),
           json.dumps(dataclasses.asdict(opt)), str(toy[0]), str(tmp_path / "ddp")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads((tmp_path / "ddp" / "config.json").read_text())["world_size"] == 2
    train(toy[0], tmp_path / "one", opt)
    got, want = _trainable(tmp_path / "ddp"), _trainable(tmp_path / "one")
    for name in want:
        torch.testing.assert_close(got[name], want[name], atol=1e-4, rtol=1e-3)


def test_every_block_trains_from_log_mel_with_spec_augment(toy, tmp_path):
    result = train(toy[0], tmp_path / "run", _options(toy, epochs=1, train_blocks=2))
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["features"] == "mel"
    from model.training.checkpoints import load_run

    model, _, _ = load_run(tmp_path / "run")
    assert result.n_trainable == sum(p.numel() for p in model.parameters())  # the conv stem trains too


def test_head_only_and_the_cli_options(toy, tmp_path, capsys):
    from model.training import cli as train_cli

    parser = argparse.ArgumentParser()
    train_cli.register(parser.add_subparsers())
    args = parser.parse_args(["train", "--manifest", str(toy[0]), "--out", str(tmp_path / "run"),
                              "--train-blocks", "head", "--epochs", "1", "--weights", toy[1],
                              "--cache-dir", toy[2], "--no-progress", "--no-joined", "--soft-targets"])
    opt = train_cli.options_from_args(args)
    assert (opt.train_blocks, opt.include_joined, opt.soft_targets) == (0, False, True)
    all_blocks = parser.parse_args(["train", "--manifest", "m", "--out", "o", "--train-blocks", "all",
                                    "--weights", toy[1]])
    assert train_cli.options_from_args(all_blocks).train_blocks == 2
    assert args.func(args) == 0
    assert "trainable parameters: " in capsys.readouterr().out


def test_bad_options_are_refused(toy, tmp_path):
    with pytest.raises(ValueError, match="precision"):
        TrainOptions(precision="fp8")
    with pytest.raises(ValueError, match="'mel'"):
        train(toy[0], tmp_path / "run", _options(toy, train_blocks=2, features="prefix"))


@pytest.mark.gpu
def test_training_on_the_gpu_in_bf16(toy, tmp_path):
    result = train(toy[0], tmp_path / "run", _options(toy, epochs=1, device="cuda"))
    assert result.epochs_run == 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["options"]["device"] == "cuda"


def test_training_sees_what_evaluation_sees(toy, tmp_path):
    """The cached-prefix path and the from-audio path give one model the same probabilities."""
    from model.manifest import manifest_root, read_manifest
    from model.training.caches import FeatureCache, prefix_key
    from model.training.checkpoints import load_run
    from model.training.data import clip_set
    from model.training.evaluation import predict_records
    from model.training.loop import predict_set

    train(toy[0], tmp_path / "run", _options(toy, epochs=1))
    model, _, config = load_run(tmp_path / "run")
    records = [r for r in read_manifest(toy[0]) if r["split"] == "dev"]
    cache = FeatureCache.open(toy[2], prefix_key(model, weights_sha=config["weights_sha256"]))
    data = clip_set(records, cache, model.config.labels, soft=False)
    from_cache = predict_set(model, data, "prefix", device=torch.device("cpu"), precision="fp32")
    from_audio = predict_records(model, records, manifest_root(toy[0]))
    # The frame head pools its moment channel first; the labels' columns are what evaluation reads.
    np.testing.assert_allclose(from_cache[:, -len(model.config.labels):], from_audio, atol=2e-3)
