"""Whisper-base encoder with a trimmed context and a multi-label disfluency head.

Whisper pads every input to 30 s (1,500 encoder tokens). A 3 s window needs only 150, so the
encoder here slices its positional embedding to the input length (docs/decisions.md #3); padding
to 30 s stays available as `context="padded"`, the paper's setup.

Which blocks train is a setting (`train_blocks`): the last k blocks train, plus `ln_post` when
k >= 1, plus the head. Everything before them is the "frozen prefix", whose output can be cached
(model.training.caches) because it is the same every epoch.

Two heads (`head`): "mean", the first models' masked mean over tokens then clip logits, and
"frame" (model.encoder.frame_head), per-token logits for the moment and each type, pooled into the clip
logits; `forward` returns clip logits for either, `forward_frames` the frame logits too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from whisper.model import AudioEncoder

from ..audio.decode import MAX_FRAMES, MAX_TOKENS
from .classifier_config import ClassifierConfig as ClassifierConfig  # re-exported: its home before
from .classifier_config import EncoderDims as EncoderDims
from .frame_head import FrameHead


def tokens_for_frames(n_frames: Tensor | int) -> Tensor | int:
    """Encoder tokens covering n_frames mel frames (conv2 has stride 2, padding 1): ceil(n / 2)."""
    return (n_frames + 1) // 2


class MultiLabelHead(nn.Module):
    """Linear(width -> hidden) per token, masked mean over time, Linear(hidden -> labels)."""

    def __init__(self, width: int, hidden: int, n_labels: int, dropout: float):
        super().__init__()
        self.proj = nn.Linear(width, hidden)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, n_labels)

    def forward(self, x: Tensor, n_valid: Tensor | None = None) -> Tensor:
        h = F.gelu(self.proj(x))  # (batch, tokens, hidden)
        if n_valid is None:
            pooled = h.mean(dim=1)
        else:
            positions = torch.arange(h.shape[1], device=h.device)
            mask = (positions[None, :] < n_valid[:, None]).to(h.dtype)  # (batch, tokens)
            pooled = (h * mask[..., None]).sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp(min=1)
        return self.out(self.dropout(pooled))  # (batch, labels)


class StutterClassifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        d = config.dims
        self.encoder = AudioEncoder(d.n_mels, d.n_audio_ctx, d.n_audio_state, d.n_audio_head, d.n_audio_layer)
        if config.head == "frame":
            self.head = FrameHead(d.n_audio_state, config.head_hidden, len(config.channels), config.dropout,
                                  config.pooling, norm=config.head_norm)
        else:
            self.head = MultiLabelHead(d.n_audio_state, config.head_hidden, len(config.labels), config.dropout)
        self.set_trainable(config.train_blocks)

    # -- which parameters train ------------------------------------------------------------------

    def set_trainable(self, train_blocks: int) -> int:
        """Freeze everything but the last `train_blocks` blocks (+ ln_post if any) and the head.

        Returns the number of trainable parameters.
        """
        n_layer = self.config.dims.n_audio_layer
        if not 0 <= train_blocks <= n_layer:
            raise ValueError(f"train_blocks must be 0..{n_layer}, not {train_blocks}")
        self.train_blocks = train_blocks
        self.encoder.requires_grad_(train_blocks == n_layer)  # all blocks: the conv stem trains too
        for i, block in enumerate(self.encoder.blocks):
            block.requires_grad_(i >= n_layer - train_blocks)
        self.encoder.ln_post.requires_grad_(train_blocks > 0)
        self.head.requires_grad_(True)
        return self.n_trainable()

    def n_trainable(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    @property
    def frozen_blocks(self) -> int:
        return self.config.dims.n_audio_layer - self.train_blocks

    # -- forward ---------------------------------------------------------------------------------

    def input_frames(self, n_frames: int) -> int:
        """Mel frames the encoder sees for an input of n_frames: the input itself, or 30 s if padded."""
        if n_frames > MAX_FRAMES:
            raise ValueError(f"inputs are at most {MAX_FRAMES} mel frames (30 s), got {n_frames}")
        return MAX_FRAMES if self.config.context == "padded" else n_frames

    def embed(self, mel: Tensor) -> Tensor:
        """Conv stem + positional embedding: (batch, n_mels, frames) -> (batch, tokens, width)."""
        if self.config.context == "padded" and mel.shape[-1] < MAX_FRAMES:
            mel = F.pad(mel, (0, MAX_FRAMES - mel.shape[-1]))
        enc = self.encoder
        x = F.gelu(enc.conv1(mel))
        x = F.gelu(enc.conv2(x))
        x = x.permute(0, 2, 1)  # (batch, tokens, width)
        n_tokens = x.shape[1]
        assert n_tokens <= MAX_TOKENS
        return (x + enc.positional_embedding[:n_tokens]).to(x.dtype)

    def run_blocks(self, x: Tensor, start: int, stop: int) -> Tensor:
        for block in list(self.encoder.blocks)[start:stop]:
            x = block(x)
        return x

    def encode_prefix(self, mel: Tensor) -> Tensor:
        """The frozen prefix's output (what the feature cache stores): (batch, tokens, width)."""
        return self.run_blocks(self.embed(mel), 0, self.frozen_blocks)

    def suffix_from_prefix(self, x: Tensor) -> Tensor:
        """The trainable suffix and ln_post on the prefix's output: (batch, tokens, width) -> same shape."""
        x = self.run_blocks(x, self.frozen_blocks, self.config.dims.n_audio_layer)
        return self.encoder.ln_post(x)

    def forward_from_prefix(self, x: Tensor, n_valid: Tensor | None = None) -> Tensor:
        """Clip logits (batch, labels) from the frozen prefix's output (batch, tokens, width)."""
        if self.config.head == "frame":
            return self.forward_frames_from_prefix(x, n_valid)[1]
        return self.head(self.suffix_from_prefix(x), n_valid)

    def forward_frames_from_prefix(self, x: Tensor, n_valid: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(frame logits (batch, tokens, 1 + labels), clip logits (batch, labels)) from the prefix's output.

        Frame channel 0 is the moment, then the labels (config.channels); one token per 20 ms.
        """
        if self.config.head != "frame":
            raise ValueError("this model has the mean-pooling clip head, which gives no frame logits; "
                             "train one with the frame head (head 'frame')")
        frames, pooled = self.head(self.suffix_from_prefix(x), n_valid)  # (B, T, C), (B, C)
        return frames, pooled[:, 1:]  # clip logits: the labels' channels, without the moment

    def encode(self, mel: Tensor) -> Tensor:
        """Full encoder output after ln_post: (batch, tokens, width)."""
        x = self.run_blocks(self.embed(mel), 0, self.config.dims.n_audio_layer)
        return self.encoder.ln_post(x)

    def forward(self, mel: Tensor, n_frames: Tensor | None = None) -> Tensor:
        """mel: (batch, n_mels, frames) -> logits (batch, labels).

        n_frames: the real (unpadded) frames per item; pooling ignores tokens past them.
        In padded mode the default is the input's own length, so the 30 s padding is never pooled.
        """
        return self.forward_from_prefix(self.encode_prefix(mel), self._valid_tokens(mel, n_frames))

    def _valid_tokens(self, mel: Tensor, n_frames: Tensor | None) -> Tensor | None:
        # Padded mode defaults to the input's own length, so the 30 s padding is never pooled.
        if n_frames is None and self.config.context == "padded":
            n_frames = torch.full((mel.shape[0],), mel.shape[-1], device=mel.device)
        return None if n_frames is None else tokens_for_frames(n_frames)

    def forward_frames(self, mel: Tensor, n_frames: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """mel: (batch, n_mels, frames) -> (frame logits (batch, tokens, 1 + labels), clip logits (batch, labels)).

        Tokens are 20 ms each (two mel frames); in padded mode the frame logits cover all 30 s,
        but clip pooling reads only the input's own tokens, as in `forward`.
        """
        return self.forward_frames_from_prefix(self.encode_prefix(mel), self._valid_tokens(mel, n_frames))

    # -- weights ---------------------------------------------------------------------------------

    def load_whisper_encoder(self, encoder_state: dict[str, Tensor]) -> None:
        """Load Whisper's `encoder.*` weights (keys without the prefix), strictly."""
        self.encoder.load_state_dict(encoder_state, strict=True)

