"""What training reads: targets, batches, and clips held in memory as features (`ClipSet`).

Features are either the frozen prefix's output (the fast path: only the trainable blocks run) or
the log-mel (the full forward, with SpecAugment), both read from model.training.caches.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..labels import SLD_LABELS
from .frame_targets import fit_frames, has_frames, load_frame_targets

log = logging.getLogger(__name__)


def hard_labels(records: list[dict], labels: tuple[str, ...]) -> np.ndarray:
    """(clips, labels) 0/1 from each record's `labels`."""
    return np.array([[int(r["labels"][name]) for name in labels] for r in records], dtype=np.int64)


def targets(records: list[dict], labels: tuple[str, ...], *, soft: bool) -> Tensor:
    """(clips, labels) BCE targets: the hard labels, or votes/3 where a record has `soft` and soft is set."""
    rows = []
    for r in records:
        source = r["soft"] if soft and r.get("soft") else r["labels"]
        rows.append([float(source[name]) for name in labels])
    return torch.tensor(rows, dtype=torch.float32)


def pos_weight(y: Tensor, *, cap: float) -> Tensor:
    """Per-label BCE weight of positives, negatives/positives capped: the rare types count more."""
    pos = y.sum(dim=0)
    neg = y.shape[0] - pos
    return (neg / pos.clamp(min=1.0)).clamp(min=1.0, max=cap)


# -- clips in memory ---------------------------------------------------------------------------------


@dataclass
class ClipSet:
    """Clips ready for the model: features per clip (prefix tokens or mel), lengths and targets."""

    ids: list[str]
    features: list[Tensor]  # per clip: (tokens, width) prefix output, or (n_mels, frames) mel; fp16
    n_frames: Tensor  # (clips,) real mel frames, for masked pooling
    y: Tensor  # (clips, K) training targets (hard or soft): the labels, after the moment for the frame head
    labels: np.ndarray  # (clips, labels) hard 0/1, for F1
    clip_w: Tensor | None = None  # (clips,) 1 where the clip loss applies; None: everywhere
    frame_y: list[Tensor | None] | None = None  # per clip (T, channels) soft frame targets, or None
    frame_w: list[Tensor | None] | None = None  # per clip (T, channels) 1 where a frame target supervises

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def has_frames(self) -> bool:
        return self.frame_y is not None and any(t is not None for t in self.frame_y)

    def frame_batch(self, idx: list[int], n_tokens: int) -> tuple[Tensor, Tensor] | None:
        """(targets, weights), each (batch, n_tokens, channels), for clips idx; None when none has frames."""
        if self.frame_y is None or all(self.frame_y[i] is None for i in idx):
            return None
        width = next(t.shape[1] for t in self.frame_y if t is not None)
        empty = torch.zeros(0, width)
        ys = [fit_frames(self.frame_y[i] if self.frame_y[i] is not None else empty, n_tokens) for i in idx]
        ws = [fit_frames(self.frame_w[i] if self.frame_w[i] is not None else empty, n_tokens) for i in idx]
        return torch.stack(ys), torch.stack(ws)  # (batch, n_tokens, channels) each

    def shapes(self) -> list[tuple[int, ...]]:
        """Each clip's feature shape: only equal shapes can share a batch."""
        return [tuple(f.shape) for f in self.features]

    def batch(self, idx: list[int]) -> tuple[Tensor, Tensor]:
        """(features, real mel frames) for clips idx, all of one shape: stacked to float32."""
        x = torch.stack([self.features[i] for i in idx]).float()  # (batch, tokens, width) or (batch, mels, frames)
        return x, self.n_frames[idx]


def clip_set(records: list[dict], cache, labels: tuple[str, ...], *, soft: bool, moment: bool = False,
             frame_channels: tuple[str, ...] | None = None, frame_records_clip_loss: bool = False) -> ClipSet:
    """The records' cached features and targets.

    moment: prepend a clip target for the frame head's moment channel (any stuttering-like type);
    frame_channels: the frame channels that records' frame targets supervise (None: read no frame targets);
    frame_records_clip_loss: clip loss on records with frame targets too (else only the frame loss).
    """
    loaded = cache.load(r["id"] for r in records)
    ids = [r["id"] for r in records]
    y = targets(records, labels, soft=soft)
    if moment:
        sld = [j for j, name in enumerate(labels) if name in SLD_LABELS]
        y = torch.cat([y[:, sld].max(dim=1, keepdim=True).values, y], dim=1)  # (clips, 1 + labels)
    data = ClipSet(ids=ids, features=[loaded[i][0] for i in ids],
                   n_frames=torch.tensor([loaded[i][1] for i in ids], dtype=torch.long),
                   y=y, labels=hard_labels(records, labels))
    if frame_channels is not None:
        pairs = [load_frame_targets(r, labels, frame_channels) if has_frames(r) else (None, None) for r in records]
        data.frame_y, data.frame_w = [fy for fy, _ in pairs], [fw for _, fw in pairs]
        data.clip_w = torch.tensor([float(frame_records_clip_loss or not has_frames(r)) for r in records])
    return data


def epoch_batches(lengths: list, batch_size: int, *, seed: int, epoch: int) -> list[list[int]]:
    """This epoch's batches of clip indices: shuffled, seeded by (seed, epoch), one input length per batch.

    The encoder has no attention mask, so clips of different lengths never share a batch.
    """
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    by_len: dict = {}
    for i, n in enumerate(lengths):
        by_len.setdefault(n, []).append(i)
    batches = []
    for n in sorted(by_len):
        group = by_len[n]
        order = torch.randperm(len(group), generator=g).tolist()
        shuffled = [group[j] for j in order]
        batches += [shuffled[k:k + batch_size] for k in range(0, len(shuffled), batch_size)]
    order = torch.randperm(len(batches), generator=g).tolist()
    return [batches[j] for j in order]


def eval_batches(lengths: list, batch_size: int) -> list[list[int]]:
    """Batches in a fixed order, one input length per batch."""
    by_len: dict = {}
    for i, n in enumerate(lengths):
        by_len.setdefault(n, []).append(i)
    return [group[k:k + batch_size] for group in by_len.values() for k in range(0, len(group), batch_size)]
