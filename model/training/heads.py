"""Small frame heads over frozen encoder features, for comparing recipes in the cross-validation.

All map (batch, frames, width) features to (batch, frames, channels) logits, one frame per 20 ms token:
- "mlp": each frame on its own (the shipped frame head's shape: a hidden layer, GELU, dropout);
- "gru": a projection, then a bidirectional GRU over the frames (context both ways, as a clinician hears it);
- "conv": a projection, then dilated 1-D convolutions (1, 2, 4, 8, 16: 31 frames, 0.62 s, of context each way), residual;
- "block-mlp", "block-gru", "block-conv": Whisper's last encoder block and ln_post, fine-tuned, then that head
  (the paper's recipe: only the final block unfrozen); they read the features BEFORE the last block
  (model.training.frozen_features with train_blocks=1) and are built by `make_block_head` from the weights.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

HEADS = ("mlp", "gru", "conv")
BLOCK = "block-"  # prefix of a head that fine-tunes Whisper's last block before one of HEADS
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


class BlockHead(nn.Module):
    """Whisper's last block(s) and ln_post (fine-tuned), then a frame head: prefix features -> frame logits."""

    def __init__(self, blocks: nn.ModuleList, ln_post: nn.Module, head: nn.Module):
        super().__init__()
        self.blocks, self.ln_post, self.head = blocks, ln_post, head

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_post(x))

    def encoder_parameters(self) -> list[nn.Parameter]:
        """The Whisper weights (a smaller learning rate than the fresh head's)."""
        return [*self.blocks.parameters(), *self.ln_post.parameters()]


def make_block_head(kind: str, *, weights: str = "base", train_blocks: int = 1, hidden: int, n_channels: int,
                    dropout: float = 0.1) -> BlockHead:
    """A "block-<head>" head: the last `train_blocks` blocks and ln_post of Whisper `weights` (as released), then
    a fresh `<head>`. The features it reads are the output before those blocks (frozen_features, same k)."""
    from .model_init import build_model

    if not kind.startswith(BLOCK):
        raise ValueError(f"a block head is named {BLOCK}<head>, e.g. 'block-mlp', not {kind!r}")
    model, _ = build_model(weights, train_blocks=train_blocks, context="trimmed", head="frame")
    blocks = nn.ModuleList(list(model.encoder.blocks)[-train_blocks:])
    width = model.config.dims.n_audio_state
    head = make_head(kind[len(BLOCK):], width=width, hidden=hidden, n_channels=n_channels, dropout=dropout)
    return BlockHead(blocks, model.encoder.ln_post, head).float()
