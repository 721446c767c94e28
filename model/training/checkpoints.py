"""Checkpoints of a training run: what RUN_DIR holds besides the log, and rebuilding a model from it.

`last.pt` (weights that train, optimiser, scheduler, RNG, run state) is written every epoch so that
`resume=True` continues; `best.pt` (weights, dev thresholds and probabilities) is kept for the best epoch.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..encoder.classifier import StutterClassifier
from ..fileio import atomic_path
from ..manifest import write_json
from .data import ClipSet
from .model_init import build_model
from .options import TrainOptions

CHECKPOINT_LAST = "last.pt"
CHECKPOINT_BEST = "best.pt"
CONFIG_FILE = "config.json"
# Options that may change on --resume without making the checkpoint meaningless.
RESUMABLE_CHANGES = ("epochs", "patience", "device", "cache_dir", "progress")


def atomic_torch_save(obj, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def trainable_state(model: StutterClassifier) -> dict[str, Tensor]:
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    return {n: t.detach().cpu().clone() for n, t in model.state_dict().items() if n in names}


def load_trainable(model: StutterClassifier, state: dict[str, Tensor]) -> None:
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys:
        raise ValueError(f"the checkpoint holds weights this model lacks: {result.unexpected_keys[:5]}")


def read_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError) as e:
        raise ValueError(f"{path}: unreadable checkpoint ({e}); delete it or start a new run") from e


def check_resume(run_dir: Path, config: dict) -> None:
    saved = json.loads((run_dir / CONFIG_FILE).read_text())["options"]
    now = config["options"]
    # An option added since the run started had its default then (the run's config predates it).
    defaults = asdict(TrainOptions())
    changed = {k for k in now if k not in RESUMABLE_CHANGES and saved.get(k, defaults.get(k)) != now[k]}
    if changed:
        raise ValueError(f"{run_dir} was started with other options ({sorted(changed)}); resume with the same "
                         "options, or train into a new --out folder")


class RunState:
    """What a checkpoint restores besides the weights."""

    def __init__(self):
        self.epoch = 0
        self.history: list[dict] = []
        self.best_epoch = 0
        self.best_score = -1.0
        self.bad_epochs = 0
        self.finished = False

    def to_dict(self) -> dict:
        return dict(vars(self))

    def load(self, d: dict) -> None:
        for k in vars(self):
            setattr(self, k, d[k])


def save_epoch(run_dir: Path, model, optimizer, scheduler, state: RunState, scores: dict, probs: np.ndarray,
                dev_set: ClipSet) -> None:
    weights = trainable_state(model)
    if state.best_epoch == state.epoch:
        atomic_torch_save({"epoch": state.epoch, "trainable": weights, "thresholds": scores["thresholds"],
                            "dev_scores": {k: v for k, v in scores.items() if k != "thresholds"},
                            "dev_ids": dev_set.ids, "dev_probs": torch.from_numpy(probs)},
                           run_dir / CHECKPOINT_BEST)
    atomic_torch_save({"trainable": weights, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                        "rng": torch.get_rng_state(), "state": state.to_dict()}, run_dir / CHECKPOINT_LAST)
    write_json(run_dir / "history.json", state.history)


def restore(path: Path, model, optimizer, scheduler, state: RunState) -> None:
    ckpt = read_checkpoint(path)
    load_trainable(model, ckpt["trainable"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    torch.set_rng_state(ckpt["rng"])
    state.load(ckpt["state"])



def options_from_config(saved: dict) -> TrainOptions:
    """The TrainOptions of a saved run config (JSON lists back to tuples; runs from before the frame head: "mean")."""
    saved = {"head": "mean", **saved}
    if "frame_channels" in saved:
        saved["frame_channels"] = tuple(saved["frame_channels"])
    return replace(TrainOptions(), **saved)


def load_run(run_dir: str | Path, *, checkpoint: str = CHECKPOINT_BEST) -> tuple[StutterClassifier, dict, dict]:
    """(model in eval mode, best/last checkpoint, run config) from a run folder."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file() or not (run_dir / checkpoint).is_file():
        raise ValueError(f"{run_dir} holds no finished epoch ({checkpoint}); train into it first")
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    opt = options_from_config(config["options"])
    model, sha = build_model(opt.weights, train_blocks=opt.train_blocks, context=opt.context,
                             head_hidden=opt.head_hidden, dropout=opt.dropout, seed=opt.seed,
                             head=opt.head, pooling=opt.pooling)
    if sha != config["weights_sha256"]:
        raise ValueError(f"the Whisper weights {opt.weights!r} differ from those {run_dir} was trained on")
    ckpt = read_checkpoint(run_dir / checkpoint)
    load_trainable(model, ckpt["trainable"])
    return model.eval(), ckpt, config
