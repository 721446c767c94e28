"""Frame targets and the joint loss: the SLPs' per-20-ms moments where they exist, clip votes everywhere.

A record with frame targets (stitched runs from `stutterscope prep casa`) has a `frames` field
`{"file": npz path, "key": k, ...}`, read by model.moments.frame_targets: `soft` (channels, T), the share of
annotators who marked each 20 ms frame (frame i = samples [320 i, 320 i + 320) of the record),
channels "moment" then the labels; `mask` (T,), 1 where frames are supervised (0 over interviewer
speech); `supervised` (channels,). A channel is supervised where both the record (the SLPs do not
mark interjections) and TrainOptions.frame_channels say so; the others learn from clip votes only.

The joint loss per item: the clip loss (BCE on the pooled logits, clip votes) where the item has clip
votes, plus frame_loss_weight times the frame loss (BCE on the soft frame targets, averaged over the
item's supervised frames and channels) where it has frame targets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..labels import frame_channels
from ..manifest import manifest_root, map_record_paths, read_manifest, resolve_audio

FRAMES_FIELD = "frames"  # record field: path of the record's frame-target .npz


def read_manifests(paths: list[str | Path]) -> list[dict]:
    """Records of several manifests, their audio, parts and frames paths made absolute (ids must be unique)."""
    records, seen = [], set()
    for path in paths:
        root = manifest_root(path)
        for r in read_manifest(path):
            if r["id"] in seen:
                raise ValueError(f"record {r['id']!r} is in more than one of the manifests {list(map(str, paths))}; "
                                 "give each manifest its own ids")
            seen.add(r["id"])
            records.append(map_record_paths(r, lambda a, root=root: str(resolve_audio(a, root))))
    return records


def has_frames(record: dict) -> bool:
    return bool(record.get(FRAMES_FIELD))


def load_frame_targets(record: dict, labels: tuple[str, ...], supervised: tuple[str, ...],
                       ) -> tuple[Tensor, Tensor]:
    """(targets (T, channels), weights (T, channels)) of one record; weight 1 where a target supervises.

    Channels are the frame head's: "moment", then `labels`; unsupervised channels and masked frames
    weigh 0. The arrays are read by model.moments.frame_targets (the `prep casa` format; paths made absolute
    by read_manifests).
    """
    from ..moments.frame_targets import FRAME_CHANNELS
    from ..moments.frame_targets import load_frame_targets as read_arrays

    channels = frame_channels(labels)
    if tuple(FRAME_CHANNELS) != channels:
        raise ValueError(f"record {record['id']!r}: frame channels {list(FRAME_CHANNELS)} differ from the model's "
                         f"{list(channels)}; train with the labels {list(FRAME_CHANNELS[1:])}")
    arrays = read_arrays(record, "/")
    soft, mask = np.asarray(arrays["soft"], np.float32), np.asarray(arrays["mask"], np.float32)
    if soft.ndim != 2 or soft.shape[0] != len(channels) or mask.shape != (soft.shape[1],):
        raise ValueError(f"record {record['id']!r}: frame targets have soft {soft.shape} and mask {mask.shape}; "
                         f"expected ({len(channels)}, T) and (T,); re-run `prep casa`")
    marked = np.asarray(arrays["supervised"]).astype(bool)  # (channels,): what the annotators marked at all
    on = torch.tensor([bool(m) and c in supervised for c, m in zip(channels, marked, strict=True)],
                      dtype=torch.float32)  # (channels,)
    y = torch.from_numpy(np.clip(soft, 0.0, 1.0).T.copy())  # (channels, T) -> (T, channels)
    w = torch.from_numpy(mask)[:, None] * on[None, :]  # (T, 1) x (1, channels) -> (T, channels)
    return y, w


def fit_frames(t: Tensor, n_tokens: int) -> Tensor:
    """(T, channels) cut or zero-padded to (n_tokens, channels): padding carries weight 0."""
    if t.shape[0] >= n_tokens:
        return t[:n_tokens]
    return torch.cat([t, t.new_zeros(n_tokens - t.shape[0], t.shape[1])])


def frame_pos_weight(ys: list[Tensor], ws: list[Tensor], *, cap: float = 10.0) -> Tensor:
    """Per-channel BCE weight of positives over all supervised frames: negatives/positives, capped."""
    pos = sum((y * w).sum(dim=0) for y, w in zip(ys, ws, strict=True))  # (channels,)
    neg = sum(((1 - y) * w).sum(dim=0) for y, w in zip(ys, ws, strict=True))
    return (neg / torch.as_tensor(pos).clamp(min=1.0)).clamp(min=1.0, max=cap)


def bce(logits: Tensor, y: Tensor, pos_weight: Tensor) -> Tensor:
    """Element-wise weighted BCE with logits (no reduction)."""
    return torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), y, pos_weight=pos_weight,
                                                                reduction="none")


def joint_loss(pooled: Tensor, y: Tensor, clip_w: Tensor, frames: Tensor | None, frame_y: Tensor | None,
               frame_w: Tensor | None, *, clip_pos_weight: Tensor, frame_pos_weight: Tensor | None,
               frame_loss_weight: float) -> tuple[Tensor, Tensor, Tensor]:
    """Per-item (total, clip part, frame part), each (batch,).

    pooled, y: (batch, K) clip logits and targets; clip_w: (batch,) 1 where the clip loss applies;
    frames, frame_y, frame_w: (batch, tokens, channels) or None when no item has frame targets.
    """
    clip = bce(pooled, y, clip_pos_weight).mean(dim=1) * clip_w  # (batch,)
    frame = torch.zeros_like(clip)
    if frames is not None and frame_y is not None and frame_w is not None and frame_loss_weight > 0:
        per = bce(frames, frame_y, frame_pos_weight) * frame_w  # (batch, tokens, channels)
        frame = per.sum(dim=(1, 2)) / frame_w.sum(dim=(1, 2)).clamp(min=1.0)  # (batch,): mean over supervised
    return clip + frame_loss_weight * frame, clip, frame


def frame_scores(probs: list[np.ndarray], ys: list[Tensor], ws: list[Tensor], channels: tuple[str, ...],
                 pos_weight: Tensor) -> dict:
    """Dev frame metrics: weighted BCE, and per supervised channel ROC AUC and best F1 against a majority of SLPs.

    probs, ys, ws: per record (T, channels) frame probabilities, soft targets and weights.
    """
    from sklearn.metrics import precision_recall_curve, roc_auc_score

    p = torch.from_numpy(np.concatenate(probs)).clamp(1e-6, 1 - 1e-6)  # (frames, channels)
    y, w = torch.cat(ys), torch.cat(ws)
    loss = float((bce(torch.log(p / (1 - p)), y, pos_weight) * w).sum() / w.sum().clamp(min=1.0))
    out: dict = {"dev_frame_loss": loss, "dev_frame_auc": {}, "dev_frame_f1": {}}
    for c, name in enumerate(channels):
        keep = (w[:, c] > 0).numpy()
        truth = (y[keep, c] >= 0.5).numpy()  # marked by most annotators
        if truth.sum() == 0 or truth.all():
            continue
        scores = p[keep, c].numpy()
        out["dev_frame_auc"][name] = float(roc_auc_score(truth, scores))
        precision, recall, _ = precision_recall_curve(truth, scores)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        out["dev_frame_f1"][name] = float(f1.max())
    return out
