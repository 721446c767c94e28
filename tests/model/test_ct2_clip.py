"""Clip probabilities on the CTranslate2 engine (`stutterscope predict` without torch): the frame head's masked
softmax pooling in numpy against model.encoder.frame_head's, and the two engines' clip probabilities on real speech."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model.audio.decode import SAMPLE_RATE, clip_mel, load_audio
from model.encoder.bundle import default_model_path, load_bundle
from model.encoder.ct2_engine import Ct2Engine, NumpyFrameHead, clip_mel_numpy
from model.encoder.frame_head import FrameHead
from model.encoder.inference_options import InferenceOptions
from model.pipeline.inference import Predictor

needs_default = pytest.mark.skipif(not default_model_path().is_file(), reason="the default model file is missing")


@pytest.mark.parametrize("pooling", ["auto", "attention"])
def test_numpy_clip_pooling_is_the_frame_heads(pooling):
    torch.manual_seed(0)
    head = FrameHead(64, 32, 6, dropout=0.1, pooling=pooling).eval()
    if pooling == "auto":
        with torch.no_grad():  # a learnt alpha, not the initial ones: each channel its own sharpness
            head.alpha.uniform_(0.2, 3.0)
    x = torch.randn(3, 150, 64) * 3
    n_valid = np.array([150, 61, 0])  # whole, padded, and no real token (pools to 0, not NaN)
    with torch.no_grad():
        want = head(x, torch.as_tensor(n_valid))[1].numpy()
    tensors = {f"head.{k}": v.numpy() for k, v in head.state_dict().items()}
    got = NumpyFrameHead(tensors, "test", pooling=pooling).clip_logits(x.numpy(), n_valid)
    assert got.shape == want.shape == (3, 6) and np.abs(got - want).max() < 1e-4
    assert np.all(got[2] == 0.0)
    other = "attention" if pooling == "auto" else "auto"
    with pytest.raises(ValueError, match=f"no frame head tensor .* for its '{other}' pooling: re-export"):
        NumpyFrameHead(tensors, "test", pooling=other).clip_logits(x.numpy(), n_valid)


def test_numpy_clip_mel_is_clip_mels():
    rng = np.random.default_rng(2)
    for seconds in (1.2, 4.5, 31.0):  # padded to 3 s, to 5 s, cut to 30 s
        audio = (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 0.1).astype(np.float32)
        (got, n_got), (want, n_want) = clip_mel_numpy(audio, n_mels=80), clip_mel(audio, n_mels=80)
        assert n_got == n_want and got.shape == tuple(want.shape)
        assert np.abs(got - want.numpy()).max() < 1e-4


@needs_default
def test_ct2_clip_probabilities_are_torchs(speak):
    wav = speak("So I I I went to the, um, the the store and it was, uh, ssssso far away from home.", "clip.wav")
    bundle = load_bundle(None, build_model=False)
    ct2 = Predictor(bundle, options=InferenceOptions(device="cpu", engine="ct2", precision="fp32"))
    torch_ = Predictor(bundle, options=InferenceOptions(device="cpu", engine="torch", precision="fp32"))
    assert isinstance(ct2.engine, Ct2Engine) and ct2._torch is None
    audio = load_audio(wav)
    for clip in (audio, audio[: 2 * SAMPLE_RATE]):  # a whole clip, and one padded to 3 s
        a, b = ct2.predict_clip_audio(clip), torch_.predict_clip_audio(clip)
        assert a.shape == b.shape == (len(bundle.config.labels),)
        assert np.abs(a - b).max() < 1e-3, (a, b)
    assert ct2._torch is None, "the ct2 Predictor never loaded the torch engine"
