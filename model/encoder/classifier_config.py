"""A classifier's architecture as data: what a model file's metadata rebuilds it from (no torch here, so that
reading a model file, or running it on CTranslate2, never loads torch)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..labels import HEADS, LABELS, POOLINGS, frame_channels


@dataclass(frozen=True)
class EncoderDims:
    """The audio half of whisper.model.ModelDimensions (defaults: Whisper base)."""

    n_mels: int = 80  # mel bands in the input
    n_audio_ctx: int = 1500  # tokens in 30 s, the longest input
    n_audio_state: int = 512  # width
    n_audio_head: int = 8  # attention heads
    n_audio_layer: int = 6  # residual attention blocks


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything needed to rebuild a classifier from a model file's metadata."""

    dims: EncoderDims = field(default_factory=EncoderDims)
    labels: tuple[str, ...] = LABELS  # output order
    head_hidden: int = 256  # width of the per-token projection before pooling
    dropout: float = 0.1  # on the pooled vector, training only
    context: str = "trimmed"  # "trimmed": encoder context = input length; "padded": always 30 s
    train_blocks: int = 1  # how many final encoder blocks train (0 = head only; n_audio_layer = all)
    head: str = "mean"  # "mean": mean over tokens -> clip logits (format-1 files); "frame": per-token logits
    pooling: str = "auto"  # frame head: frames -> clip by "auto" (softmax of the logits) or "attention"
    head_norm: bool = False  # frame head: a LayerNorm over the encoder output before its first layer

    def __post_init__(self) -> None:
        if self.context not in ("trimmed", "padded"):
            raise ValueError(f"context must be 'trimmed' or 'padded', not {self.context!r}")
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {HEADS}, not {self.head!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {self.pooling!r}")
        if not 0 <= self.train_blocks <= self.dims.n_audio_layer:
            raise ValueError(f"train_blocks must be 0..{self.dims.n_audio_layer}, not {self.train_blocks}")

    @property
    def frozen_blocks(self) -> int:
        """Encoder blocks whose output never changes during training."""
        return self.dims.n_audio_layer - self.train_blocks

    @property
    def channels(self) -> tuple[str, ...]:
        """The frame head's output channels: "moment", then the labels."""
        return frame_channels(self.labels)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["labels"] = list(self.labels)
        if not self.head_norm:  # off, left out: files written before it keep their metadata and ids
            del d["head_norm"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ClassifierConfig:
        d = dict(d)
        d["dims"] = EncoderDims(**d["dims"])
        d["labels"] = tuple(d["labels"])
        d.setdefault("head", "mean")  # files written before the frame head had only the mean head
        return cls(**d)
