"""Running a frame model file over recordings (frames and moments, streamed) and over short clips.

An engine runs the model: model.encoder.ct2_engine (CTranslate2 encoder, numpy log-mel and frame head: no torch)
where CTranslate2 is installed, else model.encoder.torch_engine (training's model, in torch).
This module imports neither torch nor CTranslate2: the engine chosen loads what it needs.

A recording is decoded in blocks (model.audio.decode.iter_audio) and cut into the model's frame windows as it
streams (model.moments.frame_inference), so a 2-hour file never sits in memory whole. Only frame models run
here: a model file with another head is refused when the Predictor is made (model.encoder.bundle.require_frame_head).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from ..audio.decode import (
    HOP_LENGTH,
    MAX_FRAMES,
    SAMPLE_RATE,
    WINDOW_SAMPLES,
    audio_info,
    clip_mel,
    iter_audio,
    load_audio,
)
from ..audio.speech_activity import SpeechActivity, frame_speech
from ..encoder.bundle import Bundle, require_frame_head
from ..encoder.inference_options import InferenceOptions as InferenceOptions  # re-exported: its home before
from ..encoder.inference_options import cpu_has_fast_bf16 as _cpu_has_fast_bf16  # noqa: F401 - re-exported
from ..errors import Cancelled as Cancelled  # re-exported: callers catch it beside the Predictor
from ..moments.decoding import Moment, MomentDecoding
from ..moments.frame_inference import FramePredictions, FrameWindows, predict_frames

log = logging.getLogger(__name__)


def resolve_engine(options: InferenceOptions, bundle: Bundle) -> str:
    """The engine a Predictor runs: "ct2" or "torch".

    auto: CTranslate2 for a model of Whisper base's shape (the offline package supplies the rest of the
    CTranslate2 model) where CTranslate2 is installed; torch otherwise (other shapes, or bf16, which only
    torch runs).
    """
    from ..encoder.classifier_config import EncoderDims
    from ..encoder.ct2_engine import ct2_available

    if options.engine == "auto":
        fits = bundle.config.dims == EncoderDims() and options.precision != "bf16"
        return "ct2" if fits and ct2_available() else "torch"
    if options.engine == "ct2" and not ct2_available():
        raise ValueError("the ct2 engine needs CTranslate2: pip install ctranslate2, or use --engine torch")
    return options.engine


def make_engine(bundle: Bundle, options: InferenceOptions):
    """The engine that runs bundle under options (model.encoder.ct2_engine.Ct2Engine or model.encoder.torch_engine.TorchEngine)."""
    if resolve_engine(options, bundle) == "ct2":
        from ..encoder.ct2_engine import Ct2Engine

        return Ct2Engine(bundle, options)
    return _torch_engine_class()(bundle, options)


def _torch_engine_class():
    """model.encoder.torch_engine.TorchEngine; where torch cannot be imported (the desktop build has none), a ValueError
    that says so in one line instead of an import traceback."""
    try:
        from ..encoder.torch_engine import TorchEngine
    except ModuleNotFoundError as e:
        if (e.name or "").partition(".")[0] not in ("torch", "whisper"):
            raise
        raise ValueError(f"this needs the torch engine (--engine torch, bf16, or a model that is not a Whisper-base "
                         f"frame model), and torch cannot be imported here: {e}") from None
    return TorchEngine


class Predictor:
    """A loaded frame model file ready to analyse recordings and clips."""

    def __init__(self, bundle: Bundle, *, options: InferenceOptions | None = None, engine=None):
        """engine: an engine already made (model.encoder.ct2_engine / model.encoder.torch_engine); default the one options choose.

        Raises ValueError, naming the file and the fix, for a model file without a frame head (format 1).
        """
        require_frame_head(bundle)
        self.bundle = bundle
        self.options = options or InferenceOptions()
        self.engine = engine or make_engine(bundle, self.options)
        self._torch = self.engine if self.engine.name == "torch" else None
        self.labels = tuple(bundle.config.labels)

    @property
    def device(self) -> str:
        """Where the engine runs ("cpu", "cuda", ...)."""
        return str(self.engine.device)

    def torch_engine(self):
        """The torch engine, for what only torch runs (the torch model itself); loaded when first asked."""
        if self._torch is None:
            TorchEngine = _torch_engine_class()
            # int8 is CTranslate2's; the torch model is the same model in fp32/auto.
            precision = "auto" if self.options.precision == "int8" else self.options.precision
            self._torch = TorchEngine(self.bundle, dataclasses.replace(self.options, precision=precision))
        return self._torch

    @property
    def model(self):
        """The torch classifier (loads torch)."""
        return self.torch_engine().model

    @property
    def settings(self) -> dict:
        """Every setting that changes the output (the model id aside); stored beside results and part of
        `assess`'s resume key, so that a resumed run never reuses a result made another way.

        Batch size and device are left out: they change how fast, not what. The engine and its precision
        are in: CTranslate2 int8 and torch fp32 give slightly different probabilities.
        """
        # The frame windows are the model's; the speech check runs 3 s windows at the hop asked for (frame_speech).
        windows = self.frame_windows
        return {**self.engine.settings, "context": self.bundle.config.context,
                "hop_seconds": windows.hop_seconds, "window_seconds": windows.window_seconds,
                "decoding": self.decoding.to_dict(), "speech_check_hop_seconds": self.options.hop_seconds}

    # -- frames and moments (model.moments.frame_inference) ----------------------------------------------

    @property
    def frame_windows(self) -> FrameWindows:
        """Window length and hop for frame inference, from the model file (defaults for files without them)."""
        return FrameWindows.from_dict(self.bundle.metadata.get("frames", {}))

    @property
    def decoding(self) -> MomentDecoding:
        """Moment decoding settings, tuned on dev episodes and stored in the model file."""
        return MomentDecoding.from_dict(self.bundle.metadata.get("decoding", {}))

    def frame_probs(self, audio: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        """audio (batch, window samples) -> frame probabilities (batch, tokens, channels); a FrameFn."""
        return self.engine.frame_probs(audio, n_real)

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
        """Probabilities (labels,) for one clip's samples, prepared as evaluation and training prepare it.

        Runs on the Predictor's engine: CTranslate2 (numpy log-mel and pooling, no torch) or torch.
        """
        # model.audio.decode.clip_mel: padded to whole seconds (at least 3 s); pooling ignores the padding.
        if self.engine.name == "ct2":
            from ..encoder.ct2_engine import clip_mel_numpy

            mel, n_frames = clip_mel_numpy(audio, n_mels=self.bundle.config.dims.n_mels)
        else:
            mel, n_frames = clip_mel(audio, n_mels=self.bundle.config.dims.n_mels)
        return self.engine.clip_probs(mel[None], np.asarray([n_frames]))[0]
