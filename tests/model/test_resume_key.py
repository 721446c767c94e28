"""Issue 23, item 2: every setting that changes an output is in `assess`'s resume key.

Before, a frame model's `Predictor.settings` replaced the hop asked for (`--hop`, which the speech check
uses) by the model file's frame hop, so a run with `--hop 0.5` reused the results of a run with `--hop 1`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.encoder.bundle import load_bundle
from model.pipeline.assess import CACHED, assess_paths
from model.pipeline.inference import InferenceOptions, Predictor


def _speechlike(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(120 + 20 * np.sin(2 * np.pi * 0.7 * t)) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.1 * voice * 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2).astype(np.float32)


@pytest.fixture(scope="module")
def frame_model(frame_bundle_path):
    return load_bundle(frame_bundle_path)


def _assess(bundle, path, out, **options):
    predictor = Predictor(bundle, options=InferenceOptions(precision="fp32", **options))
    [result] = assess_paths([path], out, predictor=predictor).results
    return result


def test_another_hop_is_analysed_again_and_the_same_hop_is_resumed(frame_model, tmp_path):
    path = tmp_path / "speech.wav"
    sf.write(path, _speechlike(8.0), SAMPLE_RATE)
    out = tmp_path / "out"
    first = _assess(frame_model, path, out, hop_seconds=1.0)
    assert first.status == "ok"
    assert _assess(frame_model, path, out, hop_seconds=0.5).status != CACHED  # the speech check changed
    assert _assess(frame_model, path, out, hop_seconds=1.0).status == CACHED
    assert _assess(frame_model, path, out, hop_seconds=1.0, batch_size=3).status == CACHED  # speed only


def test_each_setting_that_changes_the_output_changes_the_key(frame_model, frame_bundle_path):
    def settings(bundle, **options) -> dict:
        return Predictor(bundle, options=InferenceOptions(**{"precision": "fp32", **options})).settings

    base = settings(frame_model)
    assert settings(frame_model, hop_seconds=0.5) != base
    assert settings(frame_model, precision="bf16") != base
    assert settings(frame_model, batch_size=3, device="cpu") == base  # how fast, not what
    for key, value in (("frames", {"window_seconds": 3.0, "hop_seconds": 2.0}), ("decoding", {"onset": 0.7})):
        other = dataclasses.replace(frame_model, metadata={**frame_model.metadata, key: value})
        assert settings(other) != base, key
    window_model = load_bundle(frame_bundle_path)
    assert settings(window_model, hop_seconds=0.5) != settings(window_model)


@pytest.mark.whisper_weights
def test_words_made_another_way_are_analysed_again(offline, frame_model, speak, tmp_path):
    from model.measures.words import TranscribeOptions, Transcriber

    path = speak("a speech therapist at school")
    predictor = Predictor(frame_model, options=InferenceOptions(precision="fp32"))
    out = tmp_path / "out"

    def assess_with(transcriber: Transcriber) -> str:
        [result] = assess_paths([path], out, predictor=predictor, transcriber=transcriber).results
        return result.status

    words = Transcriber(TranscribeOptions(threads=1))
    assert assess_with(words) == "ok"
    # Before, only backend, language, model, compute type and beam size were in the key.
    assert assess_with(Transcriber(TranscribeOptions(threads=1, snap_to_speech=False))) != CACHED
    assert assess_with(words) == CACHED
    # Every option but the threads (how fast, not what) is in the key.
    assert set(words.settings) == {f.name for f in dataclasses.fields(TranscribeOptions)} - {"threads"}
