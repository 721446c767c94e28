"""Overlap-add frame inference with hand-made frame models: alignment, taper, tail, streaming memory."""

import dataclasses
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import torch

from model.audio.decode import SAMPLE_RATE, log_mel
from model.moments.decoding import FRAME_CHANNELS
from model.moments.frame_inference import (
    TOKEN_SAMPLES,
    FrameWindows,
    OverlapAdd,
    iter_frame_windows,
    predict_frames,
    taper,
)


def blocks_of(audio: np.ndarray, size: int):
    return (audio[i:i + size] for i in range(0, len(audio), size))


def loudness_model(audio: np.ndarray, reals: np.ndarray) -> np.ndarray:
    """A 'frame model' whose every channel, per token, is the token's peak |sample|: depends on the audio
    at that token only, so overlap-adding windows must give back exactly the token's own value."""
    batch, samples = audio.shape
    peak = np.abs(audio).reshape(batch, samples // TOKEN_SAMPLES, TOKEN_SAMPLES).max(axis=2)  # (batch, tokens)
    return np.repeat(peak[..., None], len(FRAME_CHANNELS), axis=2)


def test_taper_sums_to_one_over_a_regular_overlap():
    w = taper(500, 50)  # 10 s windows, 1 s overlap, in tokens
    assert w.min() > 0 and w[50:450].tolist() == [1.0] * 400
    np.testing.assert_allclose(w[450:] + w[:50], 1.0, atol=1e-6)


@pytest.mark.parametrize("seconds,starts,reals", [
    (25.0, [0, 9, 15], [10, 10, 10]),  # 0-10, 9-19, then moved back to end at 25: 15-25
    (19.0, [0, 9], [10, 10]),  # the second window ends exactly at the end: nothing more
    (19.01, [0, 9, 9.02], [10, 10, 9.99]),  # 0.01 s more: a last window from the next token boundary
    (4.0, [0], [4.0]),  # shorter than a window: one zero-padded window
])
def test_windows_cover_the_recording_on_token_boundaries(seconds, starts, reals):
    win = FrameWindows(window_seconds=10.0, hop_seconds=9.0)
    audio = np.arange(int(round(seconds * SAMPLE_RATE)), dtype=np.float32)
    got = list(iter_frame_windows(blocks_of(audio, 7001), win))
    assert [s / SAMPLE_RATE for s, _, _ in got] == pytest.approx(starts)
    assert [r / SAMPLE_RATE for _, _, r in got] == pytest.approx(reals)
    for start, window, real in got:
        assert start % TOKEN_SAMPLES == 0 and len(window) == win.window_samples
        np.testing.assert_array_equal(window[:real], audio[start:start + real])  # sample-exact
        assert not window[real:].any()


def test_overlap_add_gives_back_each_tokens_own_value():
    rng = np.random.default_rng(0)
    audio = (rng.uniform(-1, 1, int(37.37 * SAMPLE_RATE)) * rng.uniform(0, 1, int(37.37 * SAMPLE_RATE))).astype(np.float32)
    win = FrameWindows(window_seconds=3.0, hop_seconds=2.5)
    out = predict_frames(blocks_of(audio, 16_000), loudness_model, windows=win, batch_size=3)
    n_tokens = -(-len(audio) // TOKEN_SAMPLES)
    padded = np.pad(audio, (0, n_tokens * TOKEN_SAMPLES - len(audio)))
    expected = np.abs(padded).reshape(n_tokens, TOKEN_SAMPLES).max(axis=1)
    assert out.probs.shape == (n_tokens, len(FRAME_CHANNELS))
    np.testing.assert_allclose(out.probs[:, 0], expected, rtol=1e-5)
    assert out.duration == pytest.approx(37.37) and out.n_windows == 15  # 0, 2.5, ..., 32.5, then 34.38-37.38


def test_overlaps_are_cross_faded_by_the_taper():
    # A model that says 1 in every window but the second, which says 0: the tokens they share
    # (2.5-3.0 s, 25 tokens) fade linearly from the first window's value to the second's.
    calls = []

    def model(audio, reals):
        out = np.ones((len(audio), 150, len(FRAME_CHANNELS)), np.float32)
        for b in range(len(audio)):
            calls.append(len(calls))
            if calls[-1] == 1:
                out[b] = 0.0
        return out

    win = FrameWindows(window_seconds=3.0, hop_seconds=2.5)
    p = predict_frames(blocks_of(np.ones(8 * SAMPLE_RATE, np.float32), SAMPLE_RATE), model, windows=win,
                       batch_size=1).probs[:, 0]
    shared = p[125:150]  # tokens 125..149
    np.testing.assert_allclose(shared, 1.0 - (np.arange(25) + 0.5) / 25, atol=1e-6)
    assert p[:125].tolist() == [1.0] * 125 and p[150:250].tolist() == [0.0] * 100


def test_a_moment_in_the_audio_comes_out_at_its_time_across_window_edges():
    # Loud exactly over 8.9-10.3 s, which crosses the overlap of the windows 0-10 and 9-19.
    audio = np.zeros(30 * SAMPLE_RATE, np.float32)
    audio[int(8.9 * SAMPLE_RATE):int(10.3 * SAMPLE_RATE)] = 0.9
    out = predict_frames(blocks_of(audio, 12_345), loudness_model, windows=FrameWindows(10.0, 9.0))
    (m, i) = out.moments()
    assert (m.kind, m.start, m.end) == ("stuttering", pytest.approx(8.9), pytest.approx(10.3))
    assert (i.kind, i.start, i.end) == ("interjection", pytest.approx(8.9), pytest.approx(10.3))


def test_two_hours_stream_in_flat_memory():
    # 2 hours of audio would be 460 MB as float32; streamed, only a block, a window, a batch and the
    # (tokens, 6) output (8.6 MB) are held.
    win = FrameWindows(window_seconds=10.0, hop_seconds=9.5)
    minute = np.full(60 * SAMPLE_RATE, 0.1, np.float32)

    def two_hours():
        for _ in range(120):
            yield minute.copy()

    def cheap_model(audio, reals):
        return np.zeros((len(audio), win.window_tokens, len(FRAME_CHANNELS)), np.float32)

    tracemalloc.start()
    out = predict_frames(two_hours(), cheap_model, windows=win, expected_seconds=7200.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.probs.shape == (360_000, 6) and out.duration == 7200.0
    assert out.n_windows == 758  # starts 0, 9.5, ..., 7182 (757 of them), then one moved back to 7190-7200
    assert peak < 60e6, f"peak traced memory {peak / 1e6:.0f} MB"


def test_bad_settings_and_models_are_refused():
    with pytest.raises(ValueError, match="leave audio unanalysed"):
        FrameWindows(window_seconds=3.0, hop_seconds=4.0)
    with pytest.raises(ValueError, match="20 ms"):
        FrameWindows(window_seconds=3.01, hop_seconds=2.5)
    with pytest.raises(ValueError, match="newer than this StutterScope"):
        FrameWindows.from_dict({"window_seconds": 3.0, "stride": 1})
    with pytest.raises(ValueError, match="expected"):
        predict_frames(iter([np.zeros(SAMPLE_RATE, np.float32)]), lambda a, r: np.zeros((1, 3, 6)),
                       windows=FrameWindows())
    with pytest.raises(ValueError, match="no audio"):
        predict_frames(iter([]), loudness_model, windows=FrameWindows())


def test_overlap_add_grows_past_the_expected_length():
    acc = OverlapAdd(FrameWindows(window_seconds=1.0, hop_seconds=1.0), 1, expected_tokens=50)
    acc.add(0, np.ones((50, 1), np.float32), SAMPLE_RATE)
    acc.add(SAMPLE_RATE, np.full((50, 1), 2.0, np.float32), SAMPLE_RATE // 2)
    assert acc.result()[:, 0].tolist() == [1.0] * 50 + [2.0] * 25


def test_predictor_frames_equal_the_model_on_each_window(tiny_model, tmp_path):
    from model.encoder.bundle import Bundle
    from model.encoder.classifier import StutterClassifier
    from model.labels import LABELS
    from model.pipeline.inference import InferenceOptions, Predictor

    torch.manual_seed(1)
    config = dataclasses.replace(tiny_model.config, head="frame")
    model = StutterClassifier(config).eval()  # a random frame head: mechanics only
    bundle = Bundle(model=model, config=config, thresholds=dict.fromkeys(LABELS, 0.5),
                    metadata={"frames": {"window_seconds": 3.0, "hop_seconds": 2.5}, "decoding": {"onset": 0.6}},
                    model_id="tiny", path=tmp_path / "tiny.safetensors")
    predictor = Predictor(bundle, options=InferenceOptions(precision="fp32", batch_size=2))
    # A voiced, syllable-modulated tone: speech to the speech check, so no frame is masked (white noise would be).
    t = np.arange(int(6.3 * SAMPLE_RATE)) / SAMPLE_RATE
    audio = (0.05 * sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 11))
             * (0.55 + 0.45 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)
    sf.write(tmp_path / "r.wav", audio, SAMPLE_RATE, subtype="FLOAT")
    preds, moments = predictor.predict_moments(tmp_path / "r.wav")
    assert preds.speech.all() and preds.speech_seconds == pytest.approx(6.3, abs=0.02)
    assert predictor.decoding.onset == 0.6 and preds.model_id == "tiny" and preds.n_windows == 3  # 0, 2.5, 3.3
    expected = np.zeros_like(preds.probs)
    weight = np.zeros(len(preds.probs))
    w = taper(150, 25)
    for start in (0, 40_000, 52_800):  # samples; the last moved back to end at 6.3 s (ceil to 20 ms)
        window = np.pad(audio[start:start + 48_000], (0, max(0, start + 48_000 - len(audio))))
        with torch.no_grad():
            logits, _ = model.forward_frames(log_mel(window)[None], torch.tensor([300]))
        p = torch.sigmoid(logits)[0].numpy()
        first = start // TOKEN_SAMPLES
        n = min(150, len(preds.probs) - first)
        expected[first:first + n] += p[:n] * w[:n, None]
        weight[first:first + n] += w[:n]
    np.testing.assert_allclose(preds.probs, expected / weight[:, None], atol=1e-5)
    assert moments == preds.moments(predictor.decoding)

    with pytest.raises(ValueError, match="tiny.safetensors.*no frame head.*stutterscope export"):  # refused at once
        Predictor(dataclasses.replace(bundle, model=tiny_model, config=tiny_model.config),
                  options=InferenceOptions(precision="fp32"))
