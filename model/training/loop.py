"""Training: fine-tune the last encoder blocks and the head on a manifest's train split.

One epoch = every train clip once, in shuffled batches of one input length. The frozen blocks'
output comes from the prefix cache (model.training.caches) whenever blocks are frozen, so only the
trainable suffix runs; with every block training the model runs from cached log-mel, with
SpecAugment masking. Multi-label BCE with positive weights for the rare types; early stopping on
dev macro F1 (at thresholds tuned on dev, as the exported model will use them); a checkpoint every
epoch (`last.pt`) from which `resume=True` continues, and the best epoch kept in `best.pt`.
Under torchrun the same code runs DistributedDataParallel (model.training.distributed).

RUN_DIR holds: config.json (options, model config, manifest hash, environment, seed, parameter
count), train.log, history.json, curves.png, last.pt, best.pt (model.training.checkpoints). Export
(model.training.export) turns best.pt into a model file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from ..encoder.bundle import file_sha256
from ..encoder.classifier import StutterClassifier, tokens_for_frames
from ..labels import MOMENT
from ..manifest import write_json
from . import distributed
from .checkpoints import CHECKPOINT_LAST, CONFIG_FILE, RunState, check_resume, restore, save_epoch
from .data import ClipSet, clip_set, epoch_batches, eval_batches, pos_weight
from .frame_targets import fit_frames, frame_pos_weight, frame_scores, has_frames, joint_loss, read_manifests
from .model_init import build_model
from .options import TrainOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    run_dir: Path  # where everything was written
    best_epoch: int  # 1-based epoch of best.pt
    best_score: float  # its dev macro F1 (tuned thresholds)
    epochs_run: int  # epochs finished, including earlier runs when resumed
    n_trainable: int  # trainable parameters


# -- set-up ------------------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but no CUDA device is available; use --device cpu")
    return torch.device(name)


def compute_dtype(precision: str, device: torch.device) -> str:
    """'bf16' or 'fp32': auto means bf16 autocast on CUDA and fp32 on the CPU."""
    if precision == "auto":
        return "bf16" if device.type == "cuda" else "fp32"
    return precision


def environment() -> dict:
    """What ran this: versions, machine, git commit."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False,
                                cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": sys.version.split()[0], "torch": torch.__version__, "platform": platform.platform(),
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "cuda": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "git_commit": commit, "argv": sys.argv,
    }


def split_records(records: list[dict], opt: TrainOptions) -> tuple[list[dict], list[dict]]:
    """(train, dev) records; runs with frame targets only for the frame head, joined samples if included."""
    if opt.head != "frame":
        records = [r for r in records if not has_frames(r)]
    train = [r for r in records if r.get("split") == opt.train_split
             and (opt.include_joined or not r.get("parts") or has_frames(r))]
    dev = [r for r in records if r.get("split") == opt.dev_split]
    if not train or not dev:
        raise ValueError(f"the manifest needs clips in both the {opt.train_split!r} and {opt.dev_split!r} splits "
                         f"(found {len(train)} and {len(dev)}); split it with `stutterscope prep ...`")
    return train, dev


def feature_kind(opt: TrainOptions, model: StutterClassifier) -> str:
    kind = opt.features if opt.features != "auto" else ("prefix" if model.frozen_blocks > 0 else "mel")
    if kind == "prefix" and model.frozen_blocks == 0:
        raise ValueError("with every block training nothing is frozen to cache; use features 'mel'")
    return kind


# -- data -------------------------------------------------------------------------------------------


@dataclass
class DataSets:
    """What a run trains and selects on."""

    kind: str  # "prefix" or "mel" features
    train: ClipSet  # clip votes and, for the frame head, runs with frame targets
    dev: ClipSet  # dev clips with clip votes: clip macro F1, thresholds
    dev_frames: ClipSet | None  # dev records with frame targets (frame head only), or None


def load_clip_sets(opt: TrainOptions, model: StutterClassifier, weights_sha: str, train: list[dict],
                   dev: list[dict], root: Path, info: distributed.DistInfo, device: torch.device,
                   ) -> DataSets:
    """Build (on the main process) and read the feature cache for train and dev records.

    With the frame head, records with frame targets train on them, and the dev ones score frames;
    with the mean head they are left out (it has no frames to supervise).
    """
    from tqdm import tqdm

    from .caches import CacheKey, FeatureCache, build_cache, default_cache_dir, prefix_key

    kind = feature_kind(opt, model)
    cache_dir = Path(opt.cache_dir) if opt.cache_dir else default_cache_dir()
    key = (prefix_key(model, weights_sha=weights_sha, compute=opt.cache_compute) if kind == "prefix"
           else CacheKey(kind="mel", n_mels=model.config.dims.n_mels))
    if info.is_main:
        records = train + dev
        with tqdm(total=len(records), unit="clip", desc=f"{kind} cache", disable=not opt.progress) as bar:
            bar.update(len(records) - len(FeatureCache.open(cache_dir, key).missing(records)))
            build_cache(records, root, cache_dir, key, model=model.to(device), progress=bar.update)
    distributed.barrier(info)
    cache = FeatureCache.open(cache_dir, key)
    labels = model.config.labels
    if model.config.head != "frame":
        return DataSets(kind, clip_set(train, cache, labels, soft=opt.soft_targets),
                        clip_set(dev, cache, labels, soft=False), None)
    framed = dict(moment=True, frame_channels=opt.frame_channels,
                  frame_records_clip_loss=opt.frame_records_clip_loss)
    dev_clips = [r for r in dev if not has_frames(r)]
    dev_runs = [r for r in dev if has_frames(r)]
    return DataSets(kind, clip_set(train, cache, labels, soft=opt.soft_targets, **framed),
                    clip_set(dev_clips, cache, labels, soft=False, **framed),
                    clip_set(dev_runs, cache, labels, soft=False, **framed) if dev_runs else None)


# -- one step ---------------------------------------------------------------------------------------


class _Step(nn.Module):
    """The trainable computation for one kind of feature: what DDP wraps."""

    def __init__(self, model: StutterClassifier, kind: str):
        super().__init__()
        self.model = model
        self.kind = kind

    def forward(self, x: Tensor, n_frames: Tensor) -> tuple[Tensor, Tensor | None]:
        """(pooled logits (batch, K), frame logits (batch, tokens, channels) or None for the mean head).

        K: the labels, after the moment channel for the frame head.
        """
        if self.model.config.head != "frame":
            if self.kind == "prefix":
                return self.model.forward_from_prefix(x, tokens_for_frames(n_frames)), None
            return self.model(x, n_frames), None
        encoded = self.model.suffix_from_prefix(x) if self.kind == "prefix" else self.model.encode(x)
        frames, pooled = self.model.head(encoded, tokens_for_frames(n_frames))  # (B, T, C), (B, C)
        return pooled, frames


class Augment:
    """Training-time perturbation: SpecAugment on mel, relative Gaussian noise on prefix tokens."""

    def __init__(self, opt: TrainOptions, kind: str):
        self.kind = kind
        self.noise = opt.feature_noise
        self.masks = None
        if kind == "mel" and opt.spec_augment:
            import torchaudio.transforms as T

            # Whisper's mel: 80 bands, 100 frames/s; by default up to 15 bands and up to 0.4 s, twice each.
            self.masks = [T.FrequencyMasking(opt.freq_mask_bands, iid_masks=True),
                          T.TimeMasking(opt.time_mask_frames, iid_masks=True)] * opt.spec_augment_masks

    def __call__(self, x: Tensor) -> Tensor:
        if self.masks is not None:
            x = x.unsqueeze(1)  # (batch, 1, mels, frames): torchaudio's iid masks want a channel axis
            for mask in self.masks:
                x = mask(x)
            x = x.squeeze(1)  # (batch, mels, frames)
        if self.kind == "prefix" and self.noise > 0:
            rms = x.pow(2).mean(dim=-1, keepdim=True).sqrt()  # (batch, tokens, 1)
            x = x + self.noise * rms * torch.randn_like(x)
        return x


def _autocast(device: torch.device, precision: str):
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


@dataclass(frozen=True)
class LossWeights:
    """Positive weights of the clip and frame BCE, and the frame loss's share."""

    clip: Tensor  # (K,) per pooled channel
    frame: Tensor | None  # (channels,) per frame channel, None without frame targets
    frame_loss_weight: float  # frame loss x this, added to the clip loss
    skip_first: bool = False  # frame head without clip_moment: no clip loss on the pooled moment (column 0)

    def to(self, device: torch.device) -> LossWeights:
        return LossWeights(self.clip.to(device), None if self.frame is None else self.frame.to(device),
                           self.frame_loss_weight, self.skip_first)


def batch_loss(step: nn.Module, data: ClipSet, idx: list[int], weights: LossWeights, *, augment: Augment,
               device: torch.device, precision: str) -> tuple[Tensor, Tensor, Tensor]:
    """Per-item (total, clip, frame) losses of clips idx, each (batch,)."""
    x, n_frames = data.batch(idx)
    x, n_frames, y = augment(x.to(device)), n_frames.to(device), data.y[idx].to(device)
    with _autocast(device, precision):
        pooled, frames = step(x, n_frames)
    clip_w = data.clip_w[idx].to(device) if data.clip_w is not None else torch.ones(len(idx), device=device)
    framed = data.frame_batch(idx, frames.shape[1]) if frames is not None else None
    frame_y, frame_w = (None, None) if framed is None else (framed[0].to(device), framed[1].to(device))
    clip_pos_weight = weights.clip
    if weights.skip_first:
        pooled, y, clip_pos_weight = pooled[:, 1:], y[:, 1:], clip_pos_weight[1:]
    return joint_loss(pooled.float(), y, clip_w, None if framed is None else frames.float(), frame_y, frame_w,
                      clip_pos_weight=clip_pos_weight, frame_pos_weight=weights.frame,
                      frame_loss_weight=weights.frame_loss_weight)


def train_epoch(step: nn.Module, data: ClipSet, batches: list[list[int]], *, optimizer, scheduler,
                weights: LossWeights, augment: Augment, device: torch.device, precision: str,
                info: distributed.DistInfo, progress: bool) -> dict[str, float]:
    """One pass over the train batches; returns this process's mean losses per clip (total, clip, frame)."""
    from tqdm import tqdm

    step.train()
    total, clip_total, frame_total, count = 0.0, 0.0, 0.0, 0
    for batch in tqdm(batches, desc="train", unit="batch", leave=False, disable=not (progress and info.is_main)):
        mine = distributed.shard(batch, info)
        per_clip, clip_part, frame_part = batch_loss(step, data, mine, weights, augment=augment, device=device,
                                                     precision=precision)
        # Sum over this share / size of the whole batch, times processes: DDP's average of the
        # processes' gradients is then exactly the gradient of the whole batch's mean loss.
        loss = per_clip.sum() / len(batch) * info.world_size
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total += float(per_clip.detach().sum())
        clip_total += float(clip_part.detach().sum())
        frame_total += float(frame_part.detach().sum())
        count += len(mine)
    n = max(count, 1)
    return {"train_loss": total / n, "train_clip_loss": clip_total / n, "train_frame_loss": frame_total / n}


@torch.no_grad()
def predict_set(model: StutterClassifier, data: ClipSet, kind: str, *, device: torch.device,
                precision: str, batch_size: int = 64) -> np.ndarray:
    """(clips, K) pooled probabilities for a ClipSet: the labels, after the moment for the frame head."""
    model.eval()
    step = _Step(model, kind)
    width = len(model.config.labels) + (model.config.head == "frame")  # the frame head pools its moment too
    out = np.zeros((len(data), width), dtype=np.float32)
    for idx in eval_batches(data.shapes(), batch_size):
        x, n_frames = data.batch(idx)
        with _autocast(device, precision):
            logits, _ = step(x.to(device), n_frames.to(device))
        out[idx] = torch.sigmoid(logits.float()).cpu().numpy()
    return out


@torch.no_grad()
def predict_frames(model: StutterClassifier, data: ClipSet, kind: str, *, device: torch.device,
                   precision: str, batch_size: int = 16) -> list[np.ndarray]:
    """Per clip (T, channels) frame probabilities, T = the clip's frame-target length."""
    model.eval()
    step = _Step(model, kind)
    out: list[np.ndarray] = [np.zeros(0)] * len(data)
    for idx in eval_batches(data.shapes(), batch_size):
        x, n_frames = data.batch(idx)
        with _autocast(device, precision):
            _, frames = step(x.to(device), n_frames.to(device))
        probs = torch.sigmoid(frames.float()).cpu()  # (batch, tokens, channels)
        for j, i in enumerate(idx):
            out[i] = fit_frames(probs[j], data.frame_y[i].shape[0]).numpy()
    return out


def dev_scores(data: ClipSet, probs: np.ndarray, criterion: nn.Module, labels: tuple[str, ...]) -> dict:
    """Dev loss, macro F1 at 0.5 and at thresholds tuned on dev (the early-stopping score)."""
    from .evaluation import compute_metrics
    from .thresholds import apply_thresholds, tune_thresholds

    p = torch.from_numpy(probs).clamp(1e-6, 1 - 1e-6)
    loss = float(criterion(torch.log(p / (1 - p)), data.y).mean())
    probs = probs[:, -len(labels):]  # the labels' columns (the frame head's moment comes first)
    thresholds = tune_thresholds(data.labels, probs, labels)
    tuned = compute_metrics(data.labels, apply_thresholds(probs, thresholds, labels), labels)
    half = compute_metrics(data.labels, (probs >= 0.5).astype(int), labels)
    return {"dev_loss": loss, "dev_macro_f1": tuned["macro_f1"], "dev_macro_f1_at_half": half["macro_f1"],
            "dev_per_type_f1": {k: v["f1"] for k, v in tuned["per_type"].items()}, "thresholds": thresholds}


# -- optimiser ------------------------------------------------------------------------------------


def make_optimizer(model: StutterClassifier, opt: TrainOptions) -> torch.optim.Optimizer:
    head = [p for p in model.head.parameters() if p.requires_grad]
    encoder = [p for p in model.encoder.parameters() if p.requires_grad]
    groups = [{"params": head, "lr": opt.head_lr}]
    if encoder:
        groups.append({"params": encoder, "lr": opt.lr})
    return torch.optim.AdamW(groups, weight_decay=opt.weight_decay)


def make_scheduler(optimizer, total_steps: int, warmup_fraction: float, lr_floor: float):
    """Linear warm-up over `warmup_fraction` of the steps, then cosine decay down to `lr_floor` of each rate."""
    warmup = max(1, int(total_steps * warmup_fraction))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        done = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return lr_floor + (1 - lr_floor) * 0.5 * (1 + math.cos(math.pi * done))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# -- the run ----------------------------------------------------------------------------------------


def _run_config(opt: TrainOptions, model: StutterClassifier, manifests: list[Path], weights_sha: str,
                train: list[dict], dev: list[dict], kind: str, info: distributed.DistInfo) -> dict:
    framed = [r for r in train if has_frames(r)]
    return {
        # Through JSON, so that a resumed run compares like with like (tuples are saved as lists).
        "options": json.loads(json.dumps(asdict(opt))), "classifier": model.config.to_dict(), "features": kind,
        "n_trainable": model.n_trainable(), "weights_sha256": weights_sha,
        "manifest": {"path": str(manifests[0].resolve()), "sha256": file_sha256(manifests[0]),
                     "train_clips": len(train), "dev_clips": len(dev)},
        "manifests": [{"path": str(m.resolve()), "sha256": file_sha256(m)} for m in manifests],
        "frame_targets": {"train_records": len(framed), "train_seconds": round(sum(r["duration"] for r in framed), 1),
                          "dev_records": sum(has_frames(r) for r in dev)},
        "world_size": info.world_size, "environment": environment(),
    }


def _log_to_file(run_dir: Path, info: distributed.DistInfo) -> logging.Handler | None:
    if not info.is_main:
        return None
    handler = logging.FileHandler(run_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)
    return handler


def train(manifest: str | Path | list[str | Path], run_dir: str | Path, opt: TrainOptions = TrainOptions(), *,
          resume: bool = False) -> TrainResult:
    """Train on the train split of `manifest` (one, or several read together) into `run_dir`.

    resume=True continues from last.pt. Records with frame targets (a `frames` field) train the
    frame head on them; the others give clip votes.
    """
    from ..manifest import manifest_root

    manifests = [Path(m) for m in (manifest if isinstance(manifest, (list, tuple)) else [manifest])]
    run_dir = Path(run_dir)
    device = resolve_device(opt.device)
    precision = compute_dtype(opt.precision, device)
    info = distributed.setup(device.type)
    if device.type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if (run_dir / CHECKPOINT_LAST).exists() and not resume:
        raise ValueError(f"{run_dir} already holds a run; pass --resume to continue it, or choose another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = _log_to_file(run_dir, info)
    try:
        records = read_manifests(manifests)
        train_recs, dev_recs = split_records(records, opt)
        model, weights_sha = build_model(opt.weights, train_blocks=opt.train_blocks, context=opt.context,
                                         head_hidden=opt.head_hidden, dropout=opt.dropout, seed=opt.seed,
                                         head=opt.head, pooling=opt.pooling)
        data = load_clip_sets(opt, model, weights_sha, train_recs, dev_recs, manifest_root(manifests[0]), info,
                              device)
        config = _run_config(opt, model, manifests, weights_sha, train_recs, dev_recs, data.kind, info)
        if resume and (run_dir / CONFIG_FILE).exists():
            check_resume(run_dir, config)
        if info.is_main:
            write_json(run_dir / CONFIG_FILE, config)
        log.info("trainable parameters: %s (%d of %d blocks, %s context, features: %s, %s)",
                 f"{model.n_trainable():,}", opt.train_blocks, model.config.dims.n_audio_layer,
                 opt.context, data.kind, precision)
        state = _fit(model, data, opt, run_dir, device, precision, info, resume)
        return TrainResult(run_dir, state.best_epoch, state.best_score, state.epoch, model.n_trainable())
    finally:
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()
        distributed.teardown(info)


def loss_weights(train_set: ClipSet, opt: TrainOptions) -> LossWeights:
    """Positive weights from the train targets (clip votes where the clip loss applies; supervised frames)."""
    clip_rows = train_set.y if train_set.clip_w is None else train_set.y[train_set.clip_w > 0]
    clip = pos_weight(clip_rows, cap=opt.pos_weight_cap) if opt.class_weighting else torch.ones(train_set.y.shape[1])
    frame = None
    if train_set.has_frames:
        ys = [y for y in train_set.frame_y if y is not None]
        ws = [w for w in train_set.frame_w if w is not None]
        frame = (frame_pos_weight(ys, ws, cap=opt.pos_weight_cap) if opt.frame_class_weighting
                 else torch.ones(ys[0].shape[1]))
    return LossWeights(clip, frame, opt.frame_loss_weight, skip_first=opt.head == "frame" and not opt.clip_moment)


def _fit(model: StutterClassifier, data: DataSets, opt: TrainOptions, run_dir: Path, device: torch.device,
         precision: str, info: distributed.DistInfo, resume: bool) -> RunState:
    kind, train_set, dev_set = data.kind, data.train, data.dev
    model.to(device)
    step = distributed.wrap(_Step(model, kind), info, device)
    optimizer = make_optimizer(model, opt)
    n_batches = len(epoch_batches(train_set.shapes(), opt.batch_size, seed=opt.seed, epoch=0))
    scheduler = make_scheduler(optimizer, n_batches * opt.epochs, opt.warmup_fraction, opt.lr_floor)
    weights = loss_weights(train_set, opt)
    log.info("positive weights: clip %s; frame %s", [round(float(w), 2) for w in weights.clip],
             None if weights.frame is None else [round(float(w), 2) for w in weights.frame])
    dev_criterion = nn.BCEWithLogitsLoss(pos_weight=weights.clip, reduction="none")
    augment = Augment(opt, kind)
    state = RunState()
    torch.manual_seed(opt.seed)
    if resume and (run_dir / CHECKPOINT_LAST).exists():
        restore(run_dir / CHECKPOINT_LAST, model, optimizer, scheduler, state)
        log.info("resumed after epoch %d (best dev macro F1 %.4f at epoch %d)",
                 state.epoch, state.best_score, state.best_epoch)
    while state.epoch < opt.epochs and not state.finished:
        epoch = state.epoch + 1
        batches = epoch_batches(train_set.shapes(), opt.batch_size, seed=opt.seed, epoch=epoch)
        if info.enabled:
            batches = [b for b in batches if len(b) >= info.world_size]  # every process needs a share
        t0 = time.perf_counter()
        losses = train_epoch(step, train_set, batches, optimizer=optimizer, scheduler=scheduler,
                             weights=weights.to(device), augment=augment, device=device, precision=precision,
                             info=info, progress=opt.progress)
        seconds = time.perf_counter() - t0
        probs = predict_set(model, dev_set, kind, device=device, precision=precision)
        scores = dev_scores(dev_set, probs, dev_criterion, model.config.labels)
        if data.dev_frames is not None and weights.frame is not None:
            frame_probs = predict_frames(model, data.dev_frames, kind, device=device, precision=precision)
            scores.update(frame_scores(frame_probs, data.dev_frames.frame_y, data.dev_frames.frame_w,
                                       model.config.channels, weights.frame))
        scores["score"] = selection_score(scores, opt.select_on)
        _end_epoch(state, epoch, losses, seconds, time.perf_counter() - t0 - seconds, scores, opt)
        if info.is_main:
            save_epoch(run_dir, model, optimizer, scheduler, state, scores, probs, dev_set)
        distributed.barrier(info)
    if info.is_main:
        plot_curves(state.history, run_dir / "curves.png")
    return state


def selection_score(scores: dict, select_on: str) -> float:
    """The early-stopping score: dev clip macro F1, dev frame moment F1, or ("auto") their mean when both exist."""
    moment_f1 = scores.get("dev_frame_f1", {}).get(MOMENT)
    if select_on == "frame":
        if moment_f1 is None:
            raise ValueError("select_on 'frame' needs dev records with frame targets; use 'clip' or 'auto'")
        return moment_f1
    if select_on == "auto" and moment_f1 is not None:
        return 0.5 * (scores["dev_macro_f1"] + moment_f1)
    return scores["dev_macro_f1"]


def _end_epoch(state: RunState, epoch: int, losses: dict[str, float], seconds: float, eval_seconds: float,
               scores: dict, opt: TrainOptions) -> None:
    state.epoch = epoch
    state.history.append({"epoch": epoch, **losses, "seconds": seconds, "eval_seconds": eval_seconds,
                          **{k: v for k, v in scores.items() if k != "thresholds"}})
    improved = scores["score"] > state.best_score + 1e-6
    if improved:
        state.best_epoch, state.best_score, state.bad_epochs = epoch, scores["score"], 0
    else:
        state.bad_epochs += 1
    state.finished = state.bad_epochs >= opt.patience
    frames = ""
    if "dev_frame_loss" in scores:
        frames = (f", frame loss train {losses['train_frame_loss']:.4f} dev {scores['dev_frame_loss']:.4f}, "
                  f"dev frame F1 {scores['dev_frame_f1']}")
    log.info("epoch %d: train loss %.4f, dev loss %.4f, dev macro F1 %.4f (tuned) / %.4f (0.5)%s, score %.4f, %.1f s%s",
             epoch, losses["train_loss"], scores["dev_loss"], scores["dev_macro_f1"], scores["dev_macro_f1_at_half"],
             frames, scores["score"], seconds, "  * best" if improved else "")
    if state.bad_epochs >= opt.patience:
        log.info("early stop: no better dev score for %d epochs (best %.4f at epoch %d)",
                 opt.patience, state.best_score, state.best_epoch)


def plot_curves(history: list[dict], path: Path) -> None:
    """Train/dev loss and dev macro F1 per epoch, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not history:
        return
    epochs = [h["epoch"] for h in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, [h["train_loss"] for h in history], label="train")
    ax1.plot(epochs, [h["dev_loss"] for h in history], label="dev")
    ax1.set(xlabel="epoch", ylabel="weighted BCE loss", title="loss")
    ax1.legend()
    ax2.plot(epochs, [h["dev_macro_f1"] for h in history], label="tuned thresholds")
    ax2.plot(epochs, [h["dev_macro_f1_at_half"] for h in history], label="threshold 0.5")
    ax2.set(xlabel="epoch", ylabel="macro F1", title="dev macro F1")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
