"""Small frame heads over frozen encoder features, for comparing recipes in the cross-validation.

All map (batch, frames, width) features to (batch, frames, channels) logits, one frame per 20 ms token:
- "mlp": each frame on its own (the shipped frame head's shape: a hidden layer, GELU, dropout);
- "gru": a projection, then a bidirectional GRU over the frames (context both ways, as a clinician hears it);
- "conv": a projection, then dilated 1-D convolutions (1, 2, 4, 8, 16: +-1.2 s of context), residual.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

HEADS = ("mlp", "gru", "conv")
DILATIONS = (1, 2, 4, 8, 16)


class MLPHead(nn.Module):
    def __init__(self, width: int, hidden: int, n_channels: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, n_channels))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class GRUHead(nn.Module):
    def __init__(self, width: int, hidden: int, n_channels: int, dropout: float):
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout))
        self.gru = nn.GRU(hidden, hidden // 2, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, n_channels))

    def forward(self, x: Tensor) -> Tensor:
        h = self.proj(x)  # (batch, frames, hidden)
        return self.out(self.gru(h)[0] + h)  # residual: the frame's own evidence is never lost in the recurrence


class ConvHead(nn.Module):
    def __init__(self, width: int, hidden: int, n_channels: int, dropout: float):
        super().__init__()
        self.proj = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout))
        self.convs = nn.ModuleList(nn.Conv1d(hidden, hidden, 3, padding=d, dilation=d) for d in DILATIONS)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, n_channels))

    def forward(self, x: Tensor) -> Tensor:
        h = self.proj(x).transpose(1, 2)  # (batch, hidden, frames)
        for conv in self.convs:
            h = h + torch.nn.functional.gelu(conv(h))
        return self.out(h.transpose(1, 2))


def make_head(kind: str, *, width: int, hidden: int, n_channels: int, dropout: float = 0.1) -> nn.Module:
    heads = {"mlp": MLPHead, "gru": GRUHead, "conv": ConvHead}
    if kind not in heads:
        raise ValueError(f"head must be one of {HEADS}, not {kind!r}")
    return heads[kind](width, hidden, n_channels, dropout)
