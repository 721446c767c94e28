"""The options of a model run (no torch here, so that the CLI can read its defaults at once)."""

from __future__ import annotations

from dataclasses import dataclass

from .audio import HOP_SECONDS, WINDOW_SECONDS


@dataclass(frozen=True)
class InferenceOptions:
    """How a Predictor runs a model file; `stutterscope assess/predict` and the app read their defaults here."""

    hop_seconds: float = HOP_SECONDS  # step between 3 s windows (a frame model's speech check uses them)
    batch_size: int = 16  # windows per forward pass
    device: str = "auto"  # "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    precision: str = "auto"  # "auto" (bf16 where the hardware has it), "fp32", "bf16"

    def __post_init__(self) -> None:
        # Up to one window: a longer hop leaves the audio between windows unanalysed (a frame model's speech
        # check runs these windows too, so its moments there would be dropped).
        if not 0.05 <= self.hop_seconds <= WINDOW_SECONDS:
            raise ValueError(f"hop_seconds must be between 0.05 and {WINDOW_SECONDS:g} (the window), not "
                             f"{self.hop_seconds}: a longer hop leaves audio between the windows unanalysed")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', not {self.precision!r}")
