"""Running a model file over recordings (3 s windows, or frames and moments, streamed) and over short clips.

A recording is decoded in blocks (model.audio.iter_audio) and cut into windows as it streams, so a
2-hour file never sits in memory whole: only one block, one batch of windows and the (n_windows, 5)
probabilities are held.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import numpy as np
import torch

from .audio import (
    HOP_LENGTH,
    MAX_FRAMES,
    SAMPLE_RATE,
    TOKEN_SAMPLES,
    WINDOW_SAMPLES,
    audio_info,
    clip_mel,
    iter_audio,
    load_audio,
    log_mel,
)
from .bundle import Bundle
from .bundle_checks import check_finite_outputs
from .errors import Cancelled
from .frame_inference import FramePredictions, FrameWindows, mel_frames, predict_frames
from .inference_options import InferenceOptions as InferenceOptions  # re-exported: its home before
from .moments import Moment, MomentDecoding
from .predictions import WindowPredictions
from .speech_activity import (
    SpeechActivity,
    frame_speech,
    speech_frames,
    speech_seconds,
    windows_with_speech,
)

log = logging.getLogger(__name__)


@cache
def _cpu_has_fast_bf16() -> bool:
    # avx512_bf16 / amx_bf16 run bf16 matmuls natively; elsewhere bf16 is emulated and slower than fp32.
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


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
    fast = device.type == "cuda" or _cpu_has_fast_bf16()
    return torch.bfloat16 if fast else torch.float32


def n_windows(duration_samples: int, hop_samples: int) -> int:
    """Windows needed to cover a recording: starts 0, hop, ... until the last reaches the end."""
    if duration_samples <= WINDOW_SAMPLES:
        return 1
    return -(-(duration_samples - WINDOW_SAMPLES) // hop_samples) + 1  # ceil division


def iter_windows(blocks: Iterator[np.ndarray], hop_samples: int) -> Iterator[tuple[int, np.ndarray, int]]:
    """Cut streamed audio into (start_sample, window (WINDOW_SAMPLES,), real_samples) triples.

    The last window is zero-padded; real_samples says how much of it is audio.
    """
    buffer = np.zeros(0, np.float32)
    buffer_start = 0  # sample index of buffer[0]
    next_start = 0
    total = 0
    for block in blocks:
        buffer = np.concatenate([buffer, block])
        total += len(block)
        while next_start + WINDOW_SAMPLES <= buffer_start + len(buffer):
            i = next_start - buffer_start
            yield next_start, buffer[i:i + WINDOW_SAMPLES], WINDOW_SAMPLES
            next_start += hop_samples
        # Keep only what later windows can still use.
        drop = min(next_start - buffer_start, len(buffer))
        buffer, buffer_start = buffer[drop:], buffer_start + drop
    # The tail: windows that reach past the end, until one covers the end (or the only one, for short files).
    while next_start < total and (next_start == 0 or next_start + WINDOW_SAMPLES - hop_samples < total):
        i = next_start - buffer_start
        real = total - next_start
        yield next_start, np.pad(buffer[i:], (0, WINDOW_SAMPLES - real)), real
        next_start += hop_samples


class Predictor:
    """A loaded model file ready to analyse recordings and clips."""

    def __init__(self, bundle: Bundle, *, options: InferenceOptions | None = None):
        self.bundle = bundle
        self.options = options or InferenceOptions()
        self.device = resolve_device(self.options.device)
        self.dtype = resolve_precision(self.options.precision, self.device)
        self.model = bundle.model.to(self.device).eval()
        self.labels = tuple(bundle.config.labels)

    @property
    def settings(self) -> dict:
        """Every setting that changes the output (the model id aside); stored beside results and part of
        `assess`'s resume key, so that a resumed run never reuses a result made another way.

        Batch size and device are left out: they change how fast, not what.
        """
        settings = {"hop_seconds": self.options.hop_seconds, "precision": str(self.dtype).removeprefix("torch."),
                    "context": self.bundle.config.context}
        if self.has_frames:  # moments: the frame windows replace the 3 s / hop windows for the model ...
            settings.update({"hop_seconds": self.frame_windows.hop_seconds,
                             "window_seconds": self.frame_windows.window_seconds, "decoding": self.decoding.to_dict(),
                             # ... but the speech check still runs 3 s windows at the hop asked for (frame_speech)
                             "speech_check_hop_seconds": self.options.hop_seconds})
        return settings

    def _probs(self, audio: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """audio (batch, samples) -> probabilities (batch, labels)."""
        mel = log_mel(audio, n_samples=audio.shape[1])  # (batch, 80, frames)
        return self._run(mel, np.maximum(n_real // HOP_LENGTH, 1))

    @torch.no_grad()
    def _run(self, mel: torch.Tensor, n_frames: np.ndarray) -> np.ndarray:
        """log-mel (batch, n_mels, frames) and real frame counts (batch,) -> probabilities (batch, labels)."""
        n_frames = torch.as_tensor(n_frames, device=self.device)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32):
            logits = self.model(mel.to(self.device), n_frames)
        probs = torch.sigmoid(logits.float()).cpu().numpy()
        check_finite_outputs(probs, model_path=self.bundle.path, what=f"{len(probs)} item(s)")
        return probs

    def predict_recording(self, path: str | Path, *, progress: Callable[[float], None] | None = None,
                          cancel: Callable[[], bool] | None = None) -> WindowPredictions:
        """Per-window probabilities over a whole recording (raises AudioDecodeError, Cancelled)."""
        info = audio_info(path, cancel=cancel)
        hop = int(round(self.options.hop_seconds * SAMPLE_RATE))
        expected = max(1, int(info.duration * SAMPLE_RATE))
        starts: list[int] = []
        probs: list[np.ndarray] = []
        batch: list[np.ndarray] = []
        reals: list[int] = []
        total = 0
        activity = SpeechActivity()  # frame-level voice check, fed as the audio streams

        def flush() -> None:
            probs.append(self._probs(np.stack(batch), np.asarray(reals)))
            batch.clear()
            reals.clear()

        def counted(blocks: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            nonlocal total
            for block in blocks:
                total += len(block)
                activity.feed(block)
                yield block

        for start, window, real in iter_windows(counted(iter_audio(path, cancel=cancel)), hop):
            if cancel is not None and cancel():
                raise Cancelled(f"analysis of {path} cancelled")
            starts.append(start)
            batch.append(window)
            reals.append(real)
            if len(batch) == self.options.batch_size:
                flush()
                if progress is not None:
                    progress(min(1.0, (start + WINDOW_SAMPLES) / expected))
        if batch:
            flush()
        if not starts:
            raise ValueError(f"{path}: holds no audio samples")
        if progress is not None:
            progress(1.0)
        features = activity.finish()
        speech = windows_with_speech(features, np.asarray(starts), WINDOW_SAMPLES, cancel=cancel)
        frames = speech_frames(features, np.asarray(starts), WINDOW_SAMPLES, speech)
        return WindowPredictions(
            speech=speech, speech_seconds=speech_seconds(frames),
            labels=self.labels, starts=np.asarray(starts, np.float64) / SAMPLE_RATE,
            probs=np.concatenate(probs).astype(np.float32), window_seconds=WINDOW_SAMPLES / SAMPLE_RATE,
            hop_seconds=hop / SAMPLE_RATE, duration=total / SAMPLE_RATE, model_id=self.bundle.model_id,
            path=str(path))

    # -- frames and moments (model.frame_inference) ----------------------------------------------

    @property
    def has_frames(self) -> bool:
        """Whether the model file has a frame head, which moments need."""
        return getattr(self.bundle.config, "head", "mean") == "frame" and hasattr(self.model, "forward_frames")

    @property
    def frame_windows(self) -> FrameWindows:
        """Window length and hop for frame inference, from the model file (defaults for files without them)."""
        return FrameWindows.from_dict(self.bundle.metadata.get("frames", {}))

    @property
    def decoding(self) -> MomentDecoding:
        """Moment decoding settings, tuned on dev episodes and stored in the model file."""
        return MomentDecoding.from_dict(self.bundle.metadata.get("decoding", {}))

    @torch.no_grad()
    def frame_probs(self, audio: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """audio (batch, window samples) -> frame probabilities (batch, tokens, channels); a FrameFn."""
        if not self.has_frames:
            raise ValueError(f"{self.bundle.path or 'this model'} has no frame head (model format "
                             f"{self.bundle.metadata.get('format_version')}): moments need a model trained with "
                             "frame outputs; use the bundled default model or export a newer one")
        mel = log_mel(audio, n_samples=audio.shape[1]).to(self.device)  # (batch, 80, frames)
        n_frames = torch.as_tensor(mel_frames(n_real), device=self.device)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32):
            frame_logits, _ = self.model.forward_frames(mel, n_frames)  # (batch, tokens, channels)
        # In padded mode the encoder returns 30 s of tokens; only the window's own are wanted.
        tokens = audio.shape[1] // TOKEN_SAMPLES
        return torch.sigmoid(frame_logits[:, :tokens].float()).cpu().numpy()

    def predict_frames(self, path: str | Path, *, progress: Callable[[float], None] | None = None,
                       cancel: Callable[[], bool] | None = None) -> FramePredictions:
        """Overlap-added frame probabilities over a whole recording (raises AudioDecodeError, Cancelled)."""
        info = audio_info(path, cancel=cancel)
        try:
            preds = self.predict_frames_blocks(iter_audio(path, cancel=cancel), expected_seconds=info.duration,
                                               progress=progress, cancel=cancel)
        except ValueError as e:
            if "no audio samples" in str(e):
                raise ValueError(f"{path}: holds no audio samples") from e
            raise
        return dataclasses.replace(preds, path=str(path))

    def predict_frames_blocks(self, blocks: Iterator[np.ndarray], *, expected_seconds: float = 0.0,
                              progress: Callable[[float], None] | None = None,
                              cancel: Callable[[], bool] | None = None) -> FramePredictions:
        """Frame probabilities over audio given as mono SAMPLE_RATE blocks (e.g. iter([samples]))."""
        windows = self.frame_windows
        # About as much audio per forward pass as batch_size 3 s windows, whatever the window length.
        batch = max(1, round(self.options.batch_size * WINDOW_SAMPLES / windows.window_samples))
        activity = SpeechActivity()  # frame-level voice check, fed as the audio streams

        def checked(stream: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
            for block in stream:
                activity.feed(block)
                yield block

        preds = predict_frames(checked(blocks), self.frame_probs, windows=windows,
                               channels=self.bundle.config.channels, batch_size=batch,
                               expected_seconds=expected_seconds, progress=progress, cancel=cancel)
        # Silence and noise carry no moments (issue 12, item 9): the model's output there means nothing.
        speech = frame_speech(activity.finish(), round(preds.duration * SAMPLE_RATE),
                              round(self.options.hop_seconds * SAMPLE_RATE), cancel=cancel)
        preds.probs[~speech.in_speech] = 0.0  # in place: the array is this call's own
        return dataclasses.replace(preds, model_id=self.bundle.model_id, speech=speech.in_speech,
                                   speech_seconds=speech.speech_seconds)

    def predict_moments(self, path: str | Path, *, options: MomentDecoding | None = None,
                        progress: Callable[[float], None] | None = None,
                        cancel: Callable[[], bool] | None = None) -> tuple[FramePredictions, list[Moment]]:
        """Frame probabilities and the moments decoded from them (the model file's settings by default)."""
        preds = self.predict_frames(path, progress=progress, cancel=cancel)
        return preds, preds.moments(options or self.decoding, cancel=cancel)

    def predict_clip(self, path: str | Path) -> np.ndarray:
        """Probabilities (labels,) for one clip of at most 30 s, taken as a whole."""
        audio = load_audio(path, max_seconds=MAX_FRAMES * HOP_LENGTH / SAMPLE_RATE)
        return self.predict_clip_audio(audio)

    def predict_clip_audio(self, audio: np.ndarray) -> np.ndarray:
        """Probabilities (labels,) for one clip's samples, prepared as evaluation and training prepare it."""
        # model.audio.clip_mel: padded to whole seconds (at least 3 s); pooling ignores the padding.
        mel, n_frames = clip_mel(audio, n_mels=self.bundle.config.dims.n_mels)
        return self._run(mel[None], np.asarray([n_frames]))[0]
