"""Heads trained on frozen Whisper features (model.training.cv_train) as ONE shipped frame head.

The cross-validation's recipe averages two seeds of model.training.heads.MLPHead (LayerNorm, Linear, GELU,
dropout, Linear). The shipped model.encoder.frame_head.FrameHead with `head_norm` computes the same thing in one
pass: each seed's LayerNorm affine is folded into its first Linear (W (g * n + b) + c = (W g) n + (W b + c),
n the normalised input), the seeds' hidden units are stacked (2 x 128 = 256) and their second layers
averaged. That averages the seeds' logits, not their probabilities: `logit_mean` gives the same from stored
probabilities, so the cross-validation can measure whether the decisions change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..encoder.classifier import ClassifierConfig, StutterClassifier

MLP_KEYS = ("net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias", "net.4.weight", "net.4.bias")  # MLPHead


def fold_seeds(states: Sequence[Mapping[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """MLPHead state dicts -> one FrameHead's norm/proj/out tensors whose logits are the seeds' mean logit."""
    if not states:
        raise ValueError("give at least one head to fold")
    missing = [k for k in MLP_KEYS if k not in states[0]]
    if missing:
        raise ValueError(f"not an MLPHead state (missing {missing}): fold only heads made by heads.make_head('mlp')")
    proj_w, proj_b = [], []
    for s in states:
        g, b, w, c = (s[k].double() for k in MLP_KEYS[:4])
        proj_w.append(w * g[None, :])  # (hidden, width): the affine scale folded in
        proj_b.append(w @ b + c)  # (hidden,)
    width = states[0]["net.0.weight"].shape[0]
    return {
        "norm.weight": torch.ones(width), "norm.bias": torch.zeros(width),  # the plain normalisation stays
        "proj.weight": torch.cat(proj_w).float(), "proj.bias": torch.cat(proj_b).float(),
        "out.weight": (torch.cat([s["net.4.weight"].double() for s in states], dim=1) / len(states)).float(),
        "out.bias": torch.stack([s["net.4.bias"].double() for s in states]).mean(0).float(),
    }


def frozen_classifier(states: Sequence[Mapping[str, torch.Tensor]], encoder_state: Mapping[str, torch.Tensor],
                      config: ClassifierConfig) -> StutterClassifier:
    """The classifier the app loads: `encoder_state` (Whisper's encoder as it is) and the seeds folded into its
    frame head. config: head "frame", head_norm on, head_hidden = seeds x each seed's hidden units."""
    if config.head != "frame" or not config.head_norm or config.pooling != "auto":
        raise ValueError("the folded heads need a frame head with head_norm on and auto pooling")
    head = fold_seeds(states)
    if head["proj.weight"].shape[0] != config.head_hidden:
        raise ValueError(f"head_hidden must be {head['proj.weight'].shape[0]} (the seeds' hidden units stacked), "
                         f"not {config.head_hidden}")
    model = StutterClassifier(config)
    model.load_whisper_encoder(dict(encoder_state))
    # Clip pooling: alpha 1, the softmax of the frame logits themselves (FrameHead's starting point; the heads
    # learnt frames only).
    model.head.load_state_dict({**head, "alpha": torch.ones(len(config.channels))}, strict=True)
    return model.eval()


def logit_mean(parts: Sequence[Mapping[str, np.ndarray]], eps: float = 1e-7) -> dict[str, np.ndarray]:
    """Record id -> sigmoid(mean over parts of logit(p)): the folded head's output from each seed's probabilities."""
    out = {}
    for rid in parts[0]:
        logits = [np.log(np.clip(p[rid], eps, 1 - eps)) - np.log1p(-np.clip(p[rid], eps, 1 - eps)) for p in parts]
        out[rid] = (1.0 / (1.0 + np.exp(-np.mean(logits, axis=0)))).astype(np.float32)
    return out
