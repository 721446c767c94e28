"""A small head trained per cross-validation fold on cached frozen features, its epoch chosen by dev frame AUC.

Per fold k (model.training.cv.fold_splits: fold k test, k + 1 dev, the rest train) a head
(model.training.heads) learns the CASA frame targets (the SLPs' share per 20 ms frame, `prep casa`'s
`soft`, masked over the interviewer), the Interjection channel from Timestamped's filled pauses when given.
Training draws random crops of the training runs; after each epoch the dev runs are predicted whole and the
epoch with the best frame ROC AUC of p(moment) is kept: frame loss alone stopped a temporal head at
epoch 1, undertrained (issue 24). The held-out runs' probabilities are what the cross-validation scores.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..moments.decoding import FRAME_CHANNELS, INTERJECTION_LABEL
from ..moments.frame_targets import load_frame_targets
from .interjection_targets import interjection_frames

log = logging.getLogger(__name__)

INTERJECTION = FRAME_CHANNELS.index(INTERJECTION_LABEL)


@dataclass(frozen=True)
class HeadRecipe:
    """How one head is trained; stored beside its probabilities."""

    head: str = "mlp"  # model.training.heads.HEADS
    hidden: int = 128
    dropout: float = 0.1
    epochs: int = 12  # at most
    patience: int = 4  # epochs without a better dev AUC before stopping
    crop_frames: int = 500  # 10 s crops
    batch: int = 16
    lr: float = 1e-3
    weight_decay: float = 1e-2
    epoch_share: float = 1.0  # an "epoch" draws this share of the training frames (shorter epochs: finer choice)
    encoder_lr: float = 1e-4  # a "block-" head's Whisper block (the fresh head learns at `lr`)
    encoder_weights: str = "base"  # ...and the Whisper its block comes from (that of the feature cache)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Item:
    """One run: features (T, width) fp16, targets and weights (T, channels) float32."""

    id: str
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray


def make_item(record: Mapping, features: np.ndarray, root: Path,
              pauses: Mapping[str, Sequence[tuple[float, float]]] | None,
              repetitions: Mapping[str, Mapping[str, Sequence[tuple[float, float]]]] | None = None) -> Item:
    """The record's features with its frame targets (channels FRAME_CHANNELS), cut to the shorter length.

    repetitions: type -> episode -> spans (interjection_targets.read_repetitions): those frames of the type's
    channel become 1 (the SLPs' share elsewhere), supervised wherever the client speaks."""
    arrays = load_frame_targets(dict(record), root)
    soft = np.asarray(arrays["soft"], np.float32).T  # (T, channels)
    mask = np.asarray(arrays["mask"], np.float32)
    on = np.asarray(arrays["supervised"], np.float32)  # (channels,)
    y, w = soft.copy(), mask[:, None] * on[None, :]
    if pauses is not None:  # the SLPs did not mark interjections: Timestamped's filled pauses do
        y[:, INTERJECTION] = interjection_frames(record, pauses)[: len(y)]
        w[:, INTERJECTION] = mask
    for label, spans in (repetitions or {}).items():
        c = FRAME_CHANNELS.index(label)
        y[:, c] = np.maximum(y[:, c], interjection_frames(record, spans)[: len(y)])
        w[:, c] = mask
    n = min(len(features), len(y))
    return Item(record["id"], features[:n], y[:n], w[:n])


def _batch(items: Sequence[Item], rng: np.random.Generator, recipe: HeadRecipe):
    import torch

    from .heads import BLOCK

    lengths = np.array([len(it.x) for it in items], np.float64)
    chosen = rng.choice(len(items), size=recipe.batch, p=lengths / lengths.sum())
    n = recipe.crop_frames
    if recipe.head.startswith(BLOCK):
        # Attention has no padding mask here: every crop of a batch is real frames, as long as the first run
        # drawn (or crop_frames), the others drawn among the runs at least that long.
        n = int(min(n, lengths[chosen[0]]))
        long_enough = np.flatnonzero(lengths >= n)
        chosen[1:] = rng.choice(long_enough, size=recipe.batch - 1, p=lengths[long_enough] / lengths[long_enough].sum())
    x = np.zeros((recipe.batch, n, items[0].x.shape[1]), np.float32)  # (batch, frames, width)
    y = np.zeros((recipe.batch, n, items[0].y.shape[1]), np.float32)
    w = np.zeros_like(y)  # padding weighs 0
    for b, i in enumerate(chosen):
        it = items[i]
        start = int(rng.integers(0, max(1, len(it.x) - n + 1)))
        m = min(n, len(it.x) - start)
        x[b, :m], y[b, :m], w[b, :m] = it.x[start:start + m], it.y[start:start + m], it.w[start:start + m]
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(w)


def predict(model, items: Sequence[Item]) -> dict[str, np.ndarray]:
    """Record id -> (T, channels) probabilities, each run predicted whole."""
    import torch

    model.eval()
    with torch.no_grad():
        return {it.id: torch.sigmoid(model(torch.from_numpy(it.x.astype(np.float32))[None]))[0].numpy()
                for it in items}


def frame_auc(probs: Mapping[str, np.ndarray], items: Sequence[Item], channel: int = 0) -> float:
    """ROC AUC of a channel over the supervised frames, truth = marked by most annotators (soft >= 0.5)."""
    from sklearn.metrics import roc_auc_score

    keep = np.concatenate([it.w[:, channel] > 0 for it in items])
    truth = np.concatenate([it.y[:, channel] >= 0.5 for it in items])[keep]
    scores = np.concatenate([probs[it.id][:, channel] for it in items])[keep]
    if truth.all() or not truth.any():
        raise ValueError("the dev runs need frames both marked and unmarked to score an epoch; check the folds")
    return float(roc_auc_score(truth, scores))


def _start(recipe: HeadRecipe, train: Sequence[Item], seed: int):
    """(a fresh seeded head, its optimizer, frame pos_weight, steps per epoch, the crop generator)."""
    import torch

    from .frame_targets import frame_pos_weight
    from .heads import BLOCK, make_block_head, make_head

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_channels = train[0].y.shape[1]
    if recipe.head.startswith(BLOCK):  # Whisper's last block fine-tuned, at its own (smaller) learning rate
        model = make_block_head(recipe.head, weights=recipe.encoder_weights, hidden=recipe.hidden,
                                n_channels=n_channels, dropout=recipe.dropout)
        encoder = {id(p) for p in model.encoder_parameters()}
        groups = [{"params": model.encoder_parameters(), "lr": recipe.encoder_lr},
                  {"params": [p for p in model.parameters() if id(p) not in encoder]}]
    else:
        model = make_head(recipe.head, width=train[0].x.shape[1], hidden=recipe.hidden, n_channels=n_channels,
                          dropout=recipe.dropout)
        groups = [{"params": list(model.parameters())}]
    pos_weight = frame_pos_weight([torch.from_numpy(it.y) for it in train], [torch.from_numpy(it.w) for it in train])
    opt = torch.optim.AdamW(groups, lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps = max(1, int(np.ceil(recipe.epoch_share * sum(len(it.x) for it in train) / (recipe.crop_frames * recipe.batch))))
    return model, opt, pos_weight, steps, rng


def _train_epoch(model, opt, pos_weight, steps: int, rng, train: Sequence[Item], recipe: HeadRecipe) -> float:
    """One epoch of random crops; returns the mean training loss."""
    import torch

    model.train()
    total = 0.0
    for _ in range(steps):
        x, y, w = _batch(train, rng, recipe)
        per = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y, pos_weight=pos_weight,
                                                                   reduction="none") * w
        loss = per.sum() / w.sum().clamp(min=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item()
    return total / steps


def train_head(recipe: HeadRecipe, train: Sequence[Item], dev: Sequence[Item], *, seed: int):
    """(the head at its best dev epoch, per-epoch log). Seeded: the same seed gives the same head."""
    model, opt, pos_weight, steps, rng = _start(recipe, train, seed)
    best, best_auc, best_epoch, history = None, -1.0, 0, []
    for epoch in range(1, recipe.epochs + 1):
        loss = _train_epoch(model, opt, pos_weight, steps, rng, train, recipe)
        auc = frame_auc(predict(model, dev), dev)
        history.append({"epoch": epoch, "train_loss": round(loss, 4), "dev_auc": round(auc, 4)})
        if auc > best_auc:
            best_auc, best_epoch, best = auc, epoch, {k: v.clone() for k, v in model.state_dict().items()}
        elif epoch - best_epoch >= recipe.patience:
            break
    model.load_state_dict(best)
    return model, history


def train_head_fixed(recipe: HeadRecipe, train: Sequence[Item], *, seed: int):
    """(the head after exactly recipe.epochs epochs, per-epoch log): no dev set, for a head trained on every
    episode once the cross-validation has chosen the number of epochs."""
    model, opt, pos_weight, steps, rng = _start(recipe, train, seed)
    history = [{"epoch": e, "train_loss": round(_train_epoch(model, opt, pos_weight, steps, rng, train, recipe), 4)}
               for e in range(1, recipe.epochs + 1)]
    return model.eval(), history
