"""Issue 23, item 2: Cancel reaches every long step of an analysis on a frame model, and the transcriber.

Before, `predict_frames` and `Transcriber.transcribe_file` handed no cancel to the decoder (a file that hangs
ffprobe or ffmpeg held Cancel until the decoder's own time limit: 31.7 s), and the speech check and the moment
decoding after the model run (seconds on long recordings) could not be stopped.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import model.audio.decode as audio
from model.audio.decode import SAMPLE_RATE
from model.encoder.bundle import load_bundle
from model.errors import Cancelled
from model.labels import LABELS
from model.moments.decoding import FRAME_CHANNELS, MomentDecoding
from model.moments.frame_inference import FramePredictions, FrameWindows, MomentPredictions
from model.pipeline.analysis import analyse_predictions, analyse_recording
from model.pipeline.assess import DONE_DIR, RESULTS_JSON, assess_paths
from model.pipeline.inference import InferenceOptions, Predictor

PROMPT = 2.0  # seconds from the request to Cancelled: what a clinician waits at most


def _fake_decoders(folder: Path, *, ffprobe: str, ffmpeg: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in (("ffprobe", ffprobe), ("ffmpeg", ffmpeg)):
        exe = folder / name
        exe.write_text(f"#!/bin/sh\n{body}\n")
        exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return folder


HANGS = "exec sleep 600"
# A header ffprobe reads at once: 10 minutes of 16 kHz mono; then ffmpeg hangs before giving any audio.
PROBES = "printf 'duration=600\\nsample_rate=16000\\nchannels=1\\n'"


@pytest.fixture()
def hanging(tmp_path, monkeypatch):
    """hanging("ffprobe" or "ffmpeg") -> a file libsndfile cannot read, whose decoder hangs at that step.

    The decoders' own time limits are cut to 5 s, so that the code before the fix fails in 5 s, not 60.
    """
    def make(step: str) -> Path:
        bindir = _fake_decoders(tmp_path / "bin", ffprobe=HANGS if step == "ffprobe" else PROBES, ffmpeg=HANGS)
        monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setattr(audio, "PROBE_TIMEOUT_SECONDS", 5.0)
        monkeypatch.setattr(audio, "DECODER_STALL_SECONDS", 5.0)
        path = tmp_path / "hangs.m4a"
        path.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(4000))
        return path

    return make


class Request:
    """A cancel callback that turns true when `ask()` is called (or after `after` seconds)."""

    def __init__(self, after: float | None = None):
        self.at = None if after is None else time.monotonic() + after

    def ask(self, *_args) -> None:
        if self.at is None:
            self.at = time.monotonic()

    def __call__(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at

    def waited(self) -> float:
        return time.monotonic() - self.at


def _predictor(bundle_path: Path, hop: float = 1.0) -> Predictor:
    return Predictor(load_bundle(bundle_path), options=InferenceOptions(precision="fp32", hop_seconds=hop))


@pytest.mark.parametrize("step", ["ffprobe", "ffmpeg"])
def test_cancel_reaches_a_hanging_decoder_on_a_frame_model(frame_bundle_path, hanging, step):
    path = hanging(step)
    cancel = Request(after=0.3)
    with pytest.raises(Cancelled):
        analyse_recording(path, _predictor(frame_bundle_path), cancel=cancel)
    assert cancel.waited() < PROMPT


@pytest.mark.parametrize("step", ["ffprobe", "ffmpeg"])
def test_cancel_reaches_a_hanging_decoder_while_the_app_draws_the_waveform(hanging, step):
    from app.peaks import compute_envelope  # the app's "open" job, before any analysis

    cancel = Request(after=0.3)
    with pytest.raises(Cancelled):
        compute_envelope(hanging(step), cancel=cancel)
    assert cancel.waited() < PROMPT


def _speechlike(seconds: float) -> np.ndarray:
    """Harmonics under a syllable-rate envelope: the speech check takes it for speech."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(120 + 20 * np.sin(2 * np.pi * 0.7 * t)) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    noise = 1e-3 * np.random.default_rng(0).standard_normal(len(t))
    return (0.1 * voice * 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2 + noise).astype(np.float32)


def test_cancel_after_the_model_run_stops_the_speech_check(frame_bundle_path, tmp_path):
    # 2 minutes at the smallest hop: the speech check after the model run checks 2,400 windows (~0.4 s here;
    # 2 hours: ~20 s). Cancel is asked when the model run reports it is done.
    path = tmp_path / "long.wav"
    sf.write(path, _speechlike(120.0), SAMPLE_RATE)
    cancel = Request()
    with pytest.raises(Cancelled):
        analyse_recording(path, _predictor(frame_bundle_path, hop=0.05), cancel=cancel,
                          progress=lambda f: f >= 1.0 and cancel.ask())
    assert cancel.waited() < PROMPT


def test_cancel_stops_the_moment_decoder():
    # Two hours of a random frame model's output: ~50,000 moments, 3.4 s to decode on 2 cores.
    n = 2 * 3600 * 50
    probs = np.random.default_rng(0).random((n, len(FRAME_CHANNELS)), dtype=np.float32)
    frames = FramePredictions(channels=FRAME_CHANNELS, probs=probs, frame_rate=50.0, duration=n / 50,
                              windows=FrameWindows(), n_windows=900)
    decoding = MomentDecoding(onset=0.5, offset=0.45, min_duration=0.04, merge_gap=0.0)
    preds = MomentPredictions.from_frames(frames, decoding=decoding, model_thresholds=dict.fromkeys(LABELS, 0.5))
    cancel = Request(after=0.2)
    with pytest.raises(Cancelled):
        analyse_predictions(preds, dict.fromkeys(LABELS, 0.5), cancel=cancel)
    assert cancel.waited() < PROMPT


def test_a_batch_cancelled_in_the_speech_check_leaves_no_result(frame_bundle_path, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, _speechlike(60.0), SAMPLE_RATE)
    cancel = Request()
    predictor = _predictor(frame_bundle_path, hop=0.05)
    real = predictor.predict_frames_blocks

    def asks_when_the_model_is_done(blocks, **kw):  # the real call; only the progress is watched
        progress = kw.pop("progress", None)
        return real(blocks, progress=lambda f: (progress and progress(f)) or (f >= 1.0 and cancel.ask()), **kw)

    predictor.predict_frames_blocks = asks_when_the_model_is_done
    with pytest.raises(Cancelled):
        assess_paths([path], tmp_path / "out", predictor=predictor, cancel=cancel)
    assert not list((tmp_path / "out" / DONE_DIR).iterdir())  # no resume entry for a half-done recording
    assert not (tmp_path / "out" / RESULTS_JSON).exists()


@pytest.mark.whisper_weights
@pytest.mark.parametrize("step", ["ffprobe", "ffmpeg"])
def test_cancel_reaches_a_hanging_decoder_while_transcribing(offline, hanging, step):
    from model.measures.words import TranscribeOptions, Transcriber

    transcriber = Transcriber(TranscribeOptions(threads=1))
    path = hanging(step)
    cancel = Request(after=0.3)
    with pytest.raises(Cancelled):
        transcriber.transcribe_file(path, cancel=cancel)
    assert cancel.waited() < PROMPT
