"""Issue 12, item 9: silence and noise get no stuttering labels; a recording with too little speech is flagged."""

from __future__ import annotations

import numpy as np
import pytest
from hostile_helpers import write_wav

from model.audio.decode import SAMPLE_RATE, TOKEN_SAMPLES, WINDOW_SAMPLES, load_audio
from model.audio.speech_activity import (
    SpeechActivity,
    frame_features,
    speech_frames,
    speech_seconds,
    windows_with_speech,
)
from model.encoder.bundle import default_model_path, load_bundle
from model.labels import LABELS
from model.moments.frame_inference import MomentPredictions
from model.pipeline.analysis import analyse_recording
from model.pipeline.assess import NOT_SCORED, analyse_one
from model.pipeline.inference import InferenceOptions, Predictor


def _noise(seconds: float, exponent: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    spec = np.fft.rfft(rng.standard_normal(n)) / np.maximum(np.arange(n // 2 + 1), 1) ** (exponent / 2)
    x = np.fft.irfft(spec, n)
    return (0.1 * x / x.std()).astype(np.float32)


def test_speech_keeps_its_moments_and_is_scored(frame_predictor, speak):
    path = speak("Well I I I went to the the store and um bought some bread, then we walked home slowly.")
    analysis = analyse_recording(path, frame_predictor, thresholds=LOW)
    preds = analysis.predictions
    assert preds.speech.mean() > 0.8
    assert not preds.too_little_speech and preds.speech_seconds > 2.0
    assert analysis.moments


def test_streaming_features_equal_whole_file_features():
    x = _noise(2.0, 2.0) * np.sin(np.linspace(0, 30, 2 * SAMPLE_RATE)).astype(np.float32)
    activity = SpeechActivity()
    for block in np.array_split(x, 7):  # blocks that split frames
        activity.feed(block)
    streamed = activity.finish()
    whole = frame_features(np.pad(x, (0, -len(x) % TOKEN_SAMPLES)))
    np.testing.assert_array_equal(streamed.voiced, whole.voiced)
    np.testing.assert_allclose(streamed.level_db, whole.level_db, atol=1e-4)


def test_speech_frames_lie_inside_speech_windows():
    x = _noise(6.0, 0.0)
    f = frame_features(x)
    starts = np.arange(0, len(x) - WINDOW_SAMPLES + 1, SAMPLE_RATE)
    windows = windows_with_speech(f, starts, WINDOW_SAMPLES)
    assert speech_seconds(speech_frames(f, starts, WINDOW_SAMPLES, windows)) == 0.0


# ---- the frame path (the default model is a frame model: moments come from model.pipeline.analysis) ----------------
LOW = dict.fromkeys(LABELS, 0.01)  # sliders at their lowest: the decoder's onset falls to 0.01


@pytest.fixture(scope="module")
def frame_predictor(frame_bundle_path):
    return Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(precision="fp32"))


@pytest.mark.parametrize("name, signal", [
    ("silence", np.zeros(7 * SAMPLE_RATE, np.float32)), ("white", _noise(7.0, 0.0)), ("pink", _noise(7.0, 1.0)),
    ("brown", _noise(7.0, 2.0)),
    ("hum", (0.2 * np.sin(2 * np.pi * 50 * np.arange(7 * SAMPLE_RATE) / SAMPLE_RATE)).astype(np.float32)),
])
def test_a_frame_model_gives_silence_and_noise_no_moments_and_assess_flags_them(frame_predictor, tmp_path,
                                                                                 name, signal):
    path = write_wav(tmp_path / f"{name}.wav", signal, subtype="FLOAT")
    analysis = analyse_recording(path, frame_predictor, thresholds=LOW)
    assert analysis.moments == () and analysis.events == ()
    preds = analysis.predictions
    assert isinstance(preds, MomentPredictions) and not preds.speech.any() and not preds.frames.probs.any()
    assert preds.too_little_speech and preds.speech_seconds == 0.0
    result, _ = analyse_one(path, frame_predictor, thresholds=LOW)
    assert result.status == NOT_SCORED and result.events == [] and result.moments == []


def test_a_frame_model_gives_moments_only_where_there_is_speech(frame_predictor, speak, tmp_path):
    spoken = load_audio(speak("I went to the the store and bought some bread.", "short.wav"))
    silence = np.zeros(6 * SAMPLE_RATE, np.float32)
    path = write_wav(tmp_path / "mixed.wav", np.concatenate([silence, _noise(6.0, 0.0), spoken, silence]),
                     subtype="FLOAT")
    analysis = analyse_recording(path, frame_predictor, thresholds=LOW)
    start, end = 12.0, 12.0 + len(spoken) / SAMPLE_RATE
    # Frames count as speech by the 3 s windows around them, so a moment may reach a window's length past it.
    assert analysis.moments and all(m.end > start - 3.0 and m.start < end + 3.0 for m in analysis.moments)
    assert any(m.start < end and m.end > start for m in analysis.moments)
    preds = analysis.predictions
    assert not preds.too_little_speech and preds.speech_seconds > 1.0
    assert not preds.speech[:int(8 * 50)].any() and not preds.speech[-int(3 * 50):].any()


@pytest.mark.skipif(not default_model_path().is_file(), reason="the default model file is missing")
def test_the_default_model_gives_white_noise_no_moments_and_flags_it(tmp_path):
    predictor = Predictor(load_bundle(default_model_path()), options=InferenceOptions(precision="fp32"))
    path = write_wav(tmp_path / "white.wav", _noise(4.0, 0.0), subtype="FLOAT")
    analysis = analyse_recording(path, predictor)
    assert analysis.moments == () and analysis.predictions.too_little_speech
