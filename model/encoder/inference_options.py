"""The options of a model run (no torch here, so that the CLI can read its defaults at once)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..audio.decode import HOP_SECONDS, WINDOW_SECONDS

ENGINES = ("auto", "ct2", "torch")  # auto: CTranslate2 where it is installed and runs the model, else torch
PRECISIONS = ("auto", "fp32", "bf16", "int8")  # int8: CTranslate2 only; bf16: torch only


@cache
def cpu_has_fast_bf16() -> bool:
    """Whether the CPU runs bf16 matmuls natively (avx512_bf16 / amx_bf16); elsewhere bf16 is emulated, slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


@dataclass(frozen=True)
class InferenceOptions:
    """How a Predictor runs a model file; `stutterscope assess/predict` and the app read their defaults here."""

    hop_seconds: float = HOP_SECONDS  # step between the speech check's 3 s windows (model.audio.speech_activity)
    batch_size: int = 16  # about this many 3 s of audio per forward pass (frame windows: as much audio)
    device: str = "auto"  # "auto" (CUDA when present), "cpu", "cuda", "cuda:1", ...
    # "auto": torch bf16 where the hardware has it; CTranslate2 int8 where the model's int8 decisions were
    # checked against fp32 (model.encoder.ct2_engine), else fp32. "fp32", "bf16" (torch), "int8" (CTranslate2).
    precision: str = "auto"
    engine: str = "auto"  # one of ENGINES: what runs the encoder and the frame head

    def __post_init__(self) -> None:
        # Up to one window: a longer hop leaves the audio between the speech check's windows unchecked, so
        # moments there would be dropped.
        if not 0.05 <= self.hop_seconds <= WINDOW_SECONDS:
            raise ValueError(f"hop_seconds must be between 0.05 and {WINDOW_SECONDS:g} (the window), not "
                             f"{self.hop_seconds}: a longer hop leaves audio between the windows unanalysed")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {self.precision!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
