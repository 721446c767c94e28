"""Frame-level head: per-token logits for the moment and each type, pooled into clip logits.

Each encoder token (20 ms) gets logits for channel 0, "moment" (any stuttering-like disfluency),
and channels 1.., the types in the model's label order. Clip logits, what SEP-28k/FluencyBank clip
votes supervise and what `predict` returns, are pooled from those frame logits per channel, so a
short block or repetition is not diluted by a mean over every token (DESIGN.md, accuracy levers:
0.585-0.588 macro F1 against 0.554 for mean pooling, same cache and split):

- "auto": auto-pooling (McFee, Salamon & Bello 2018): softmax weights over time of the channel's
  own logits times a learned sharpness alpha (alpha 0 is the mean, large alpha the max);
- "attention": a separate per-channel attention score per token (softmax over time) weights that
  channel's frame logits.

Tokens past the valid count (padding to whole seconds, or to 30 s) get no weight.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..labels import POOLINGS


def token_mask(n_tokens: int, n_valid: Tensor | None, device: torch.device) -> Tensor | None:
    """(batch, tokens) True where a token is real audio, or None when every token is."""
    if n_valid is None:
        return None
    positions = torch.arange(n_tokens, device=device)
    return positions[None, :] < n_valid.to(device)[:, None]  # (batch, tokens)


def masked_softmax_pool(scores: Tensor, values: Tensor, mask: Tensor | None) -> Tensor:
    """Per channel: sum over time of softmax_t(scores) * values; (batch, tokens, C) x2 -> (batch, C).

    Masked tokens get weight 0; a row with no valid token pools to 0 rather than NaN.
    """
    scores = scores.float()
    if mask is not None:
        scores = scores.masked_fill(~mask[..., None], torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=1)  # (batch, tokens, C), sums to 1 over tokens
    if mask is not None:
        weights = weights * mask[..., None]  # all-masked rows: uniform weights -> 0
    return (weights * values.float()).sum(dim=1)  # (batch, C)


class FrameHead(nn.Module):
    """[LayerNorm], Linear(width -> hidden), GELU, dropout, Linear(hidden -> channels) per token; pooled per channel.

    norm: a LayerNorm over the encoder output first (the heads trained on frozen Whisper features have one:
    model.training.heads.MLPHead); off for the fine-tuned models, whose last block feeds the head directly.
    """

    def __init__(self, width: int, hidden: int, n_channels: int, dropout: float, pooling: str, norm: bool = False):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.pooling = pooling
        self.norm = nn.LayerNorm(width) if norm else nn.Identity()
        self.proj = nn.Linear(width, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_channels)
        if pooling == "auto":
            # Starts at 1 (the logits' own softmax, the measured 0.585 setting); learnt per channel.
            self.alpha = nn.Parameter(torch.ones(n_channels))
        else:
            self.attend = nn.Linear(hidden, n_channels)

    def forward(self, x: Tensor, n_valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """x: (batch, tokens, width) encoder output -> (frame logits (batch, tokens, C), pooled (batch, C)).

        n_valid: (batch,) real tokens per item; pooling ignores the rest.
        """
        h = self.dropout(F.gelu(self.proj(self.norm(x))))  # (batch, tokens, hidden)
        frames = self.out(h)  # (batch, tokens, C)
        mask = token_mask(x.shape[1], n_valid, x.device)
        scores = frames * self.alpha if self.pooling == "auto" else self.attend(h)  # (batch, tokens, C)
        return frames, masked_softmax_pool(scores, frames, mask)
