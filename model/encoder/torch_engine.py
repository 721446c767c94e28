"""The torch engine: a model file's classifier run by torch (training's own model; the fallback for inference).

model.pipeline.inference.Predictor runs a frame model through an engine; this one runs it on CPU or CUDA, in fp32 or
bf16, and gives clip probabilities too (`predict`). model.encoder.ct2_engine runs frame models without torch.
"""

from __future__ import annotations

import numpy as np
import torch

from ..audio.decode import TOKEN_SAMPLES, log_mel
from ..moments.frame_inference import mel_frames
from .bundle import Bundle
from .bundle_checks import check_finite_outputs
from .inference_options import InferenceOptions, cpu_has_fast_bf16


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but no CUDA device is available; use --device cpu")
    return dev


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    if precision == "fp32":
        return torch.float32
    if precision == "bf16":
        return torch.bfloat16
    if precision == "int8":
        raise ValueError("int8 runs on the CTranslate2 engine only: use --engine ct2, or --precision fp32/bf16")
    fast = device.type == "cuda" or cpu_has_fast_bf16()
    return torch.bfloat16 if fast else torch.float32


class TorchEngine:
    """A bundle's torch classifier on a device, in a precision."""

    name = "torch"

    def __init__(self, bundle: Bundle, options: InferenceOptions):
        self.bundle = bundle
        self.device = resolve_device(options.device)
        self.dtype = resolve_precision(options.precision, self.device)
        self.model = bundle.model.to(self.device).eval()

    @property
    def settings(self) -> dict:
        """What changes the output: the engine and its precision."""
        return {"engine": self.name, "precision": str(self.dtype).removeprefix("torch.")}

    @torch.no_grad()
    def clip_probs(self, mel: torch.Tensor | np.ndarray, n_frames: np.ndarray) -> np.ndarray:
        """log-mel (batch, n_mels, frames) and real frame counts (batch,) -> clip probabilities (batch, labels)."""
        n_frames = torch.as_tensor(n_frames, device=self.device)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32):
            logits = self.model(torch.as_tensor(mel).to(self.device), n_frames)
        probs = torch.sigmoid(logits.float()).cpu().numpy()
        check_finite_outputs(probs, model_path=self.bundle.path, what=f"{len(probs)} item(s)")
        return probs

    @torch.no_grad()
    def frame_probs(self, audio: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """audio (batch, window samples) -> frame probabilities (batch, tokens, channels); a FrameFn."""
        mel = log_mel(audio, n_samples=audio.shape[1]).to(self.device)  # (batch, 80, frames)
        n_frames = torch.as_tensor(mel_frames(n_real), device=self.device)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32):
            frame_logits, _ = self.model.forward_frames(mel, n_frames)  # (batch, tokens, channels)
        # In padded mode the encoder returns 30 s of tokens; only the window's own are wanted.
        tokens = audio.shape[1] // TOKEN_SAMPLES
        probs = torch.sigmoid(frame_logits[:, :tokens].float()).cpu().numpy()
        # As the ct2 engine does: a NaN compares below every onset, so a broken model would find no moment.
        check_finite_outputs(probs, model_path=self.bundle.path, what=f"{len(probs)} window(s)")
        return probs
