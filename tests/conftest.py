"""Shared fixtures: marker handling, paths, tiny models and generated speech."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("STUTTERSCOPE_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

# One thread: the test models are small, and on a shared 2-core machine a second OpenMP thread mostly
# spin-waits (measured: a tiny backward pass took 62 ms with 2 threads, 6 ms with 1).
torch.set_num_threads(1)

# Fuzzing: random on a developer's machine (where new failing inputs are wanted), the same examples on CI
# (`CI` is set there), so a submission's run is repeatable; a failing example found locally becomes an
# @example in its test.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(config, items):
    has_gpu = torch.cuda.is_available()
    has_shared = SHARED_DATA.is_dir()
    for item in items:
        # Markers, not item.keywords: keywords also hold the names of the test's folders, so in a checkout
        # named "installer" (a worktree) every test would count as an installer test.
        if item.get_closest_marker("gpu") and not has_gpu:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))
        if item.get_closest_marker("shared_data") and not has_shared:
            item.add_marker(pytest.mark.skip(reason=f"needs the shared data folder {SHARED_DATA}"))
        if item.get_closest_marker("installer") and "installer" not in (config.getoption("-m") or ""):
            item.add_marker(pytest.mark.skip(reason="builds the desktop app; run with -m installer"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared data folder {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_config():
    """A tiny random Whisper-shaped classifier: for mechanics, where the weights don't matter."""
    from model.encoder.classifier import ClassifierConfig, EncoderDims

    return ClassifierConfig(dims=EncoderDims(n_mels=80, n_audio_ctx=1500, n_audio_state=64, n_audio_head=2,
                                             n_audio_layer=2), head_hidden=32)


@pytest.fixture(scope="session")
def tiny_model(tiny_config):
    from model.encoder.classifier import StutterClassifier

    torch.manual_seed(0)
    return StutterClassifier(tiny_config).eval()


def _espeak_bin() -> str | None:
    return shutil.which("espeak-ng") or shutil.which("espeak")


def espeak_wav(text: str, path: Path, *, voice: str = "en-us", speed: int = 160) -> Path:
    """Speak text into a WAV file with espeak-ng (22.05 kHz mono, as espeak writes it)."""
    exe = _espeak_bin()
    if exe is None:
        pytest.skip("espeak-ng is not installed (make test installs it as root)")
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


@pytest.fixture()
def speak(tmp_path):
    """speak("text", name="x.wav") -> path of an espeak-ng recording in tmp_path."""

    def _speak(text: str, name: str = "speech.wav", **kw) -> Path:
        return espeak_wav(text, tmp_path / name, **kw)

    return _speak


# A generated conversation (issue 26): an interviewer (a low male voice) asks, a client (a high female voice)
# answers at length, three times; shared by the speaker tests of model.measures.speakers, assess and the app.
TWO_VOICE_ASKS = ["Hello, thank you for coming in today.", "Can you tell me a little about your week?",
                  "That sounds like a lot of fun."]
TWO_VOICE_ANSWERS = ["Sure. I went to school on Monday and then I played football.",
                     "On Tuesday we had a maths test, but I think I did well.",
                     "Yes, it was great, we won the match by two goals."]
TWO_VOICE_PAUSE_S = 0.5  # between turns


def _speech_extent(audio: np.ndarray) -> tuple[int, int]:
    """First and last sample above -50 dBFS: espeak pads its output with silence."""
    loud = np.flatnonzero(np.abs(audio) > 10 ** (-50 / 20))
    return int(loud[0]), int(loud[-1]) + 1


@pytest.fixture(scope="session")
def two_voice_conversation(tmp_path_factory):
    """(audio at 16 kHz, interviewer turns [(start, end) s], client turns): the voices' speech, pauses apart."""
    from model.audio.decode import SAMPLE_RATE, load_audio

    tmp = tmp_path_factory.mktemp("two_voices")
    parts, turns, pos = [], {"interviewer": [], "client": []}, 0
    pause = int(TWO_VOICE_PAUSE_S * SAMPLE_RATE)
    for i, (ask, answer) in enumerate(zip(TWO_VOICE_ASKS, TWO_VOICE_ANSWERS, strict=True)):
        for who, text, voice in (("interviewer", ask, "en+m3"), ("client", answer, "en+f3")):
            audio = load_audio(espeak_wav(text, tmp / f"{who}{i}.wav", voice=voice))
            a, b = _speech_extent(audio)
            parts += [audio[a:b], np.zeros(pause, np.float32)]
            turns[who].append((pos / SAMPLE_RATE, (pos + b - a) / SAMPLE_RATE))
            pos += b - a + pause
    return np.concatenate(parts), turns["interviewer"], turns["client"]


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    import soundfile as sf

    sf.write(str(path), audio, rate)
    return path


@pytest.fixture(scope="session")
def frame_bundle_path(tiny_config, tmp_path_factory) -> Path:
    """The one model file of the tests, made once per session: the tiny random classifier with a frame head
    (what the shipped path runs), 3 s windows 2.5 s apart, thresholds 0.5 and a decoding that finds moments
    in its output. For mechanics, where the weights don't matter."""
    import dataclasses

    from model.encoder.bundle import save_bundle
    from model.encoder.classifier import StutterClassifier
    from model.labels import LABELS

    torch.manual_seed(0)
    model = StutterClassifier(dataclasses.replace(tiny_config, head="frame")).eval()
    path = tmp_path_factory.mktemp("frames") / "frames.safetensors"
    save_bundle(model, path, thresholds={label: 0.5 for label in LABELS},
                metadata={"frames": {"window_seconds": 3.0, "hop_seconds": 2.5},
                          "decoding": {"onset": 0.5, "offset": 0.45, "min_duration": 0.04, "merge_gap": 0.0}})
    return path


@pytest.fixture(scope="session")
def format1_bundle_path(tiny_model, tmp_path_factory) -> Path:
    """A format-1 model file as the first models were written (the mean-pooled clip head, one probability per
    type per 3 s window, no frame settings): what the analysis must refuse with a clear message."""
    import json

    from safetensors import safe_open

    from model.encoder.bundle import METADATA_KEY, save_bundle, write_bundle_file
    from model.labels import LABELS

    path = tmp_path_factory.mktemp("format1") / "old-window.safetensors"
    save_bundle(tiny_model, path, thresholds={label: 0.5 for label in LABELS})
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()[METADATA_KEY])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has keys(), not iteration
    meta = {k: v for k, v in meta.items() if k not in ("head", "channels", "frame_rate")}
    write_bundle_file(tensors, {**meta, "format_version": 1}, path)
    return path
