"""The two engines (issue 25): CTranslate2 with numpy log-mel and head against torch, piece by piece and whole."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from model.audio.decode import log_mel, log_mel_numpy
from model.encoder.bundle import default_model_path, load_bundle
from model.encoder.ct2_engine import Ct2Engine, NumpyFrameHead
from model.encoder.frame_head import FrameHead
from model.encoder.inference_options import InferenceOptions
from model.encoder.torch_engine import TorchEngine
from model.pipeline.inference import Predictor, resolve_engine

needs_default = pytest.mark.skipif(not default_model_path().is_file(), reason="the default model file is missing")


def test_numpy_log_mel_is_torchs():
    rng = np.random.default_rng(1)
    audio = (rng.standard_normal((3, 48_000)) * 0.1).astype(np.float32)
    audio[1] *= 1e-4  # quiet: the clamp at max - 8 decides most bins
    audio[2, 20_000:] = 0.0  # digital silence after speech-like noise
    for n_samples in (48_000, 16_000, 60_000):  # cut, and zero-padded
        got, want = log_mel_numpy(audio, n_samples=n_samples), log_mel(audio, n_samples=n_samples).numpy()
        assert got.shape == want.shape == (3, 80, n_samples // 160)
        assert got.dtype == np.float32 and np.abs(got - want).max() < 1e-4
    assert np.abs(log_mel_numpy(audio[0]) - log_mel(audio[0]).numpy()).max() < 1e-4  # unbatched


def test_numpy_frame_head_is_torchs():
    torch.manual_seed(0)
    head = FrameHead(64, 32, 6, dropout=0.1, pooling="auto").eval()
    x = torch.randn(2, 150, 64) * 3
    with torch.no_grad():
        want = torch.sigmoid(head(x)[0]).numpy()
    tensors = {f"head.{k}": v.numpy() for k, v in head.state_dict().items()}
    got = NumpyFrameHead(tensors, "test").probs(x.numpy())
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-5
    with pytest.raises(ValueError, match="no frame head tensor.*re-export"):
        NumpyFrameHead({}, "test")


def test_numpy_frame_head_with_an_input_layernorm_is_torchs():
    torch.manual_seed(0)
    head = FrameHead(64, 32, 6, dropout=0.1, pooling="auto", norm=True).eval()
    with torch.no_grad():  # a LayerNorm that is not the identity: its affine part must be read too
        head.norm.weight.uniform_(0.5, 1.5)
        head.norm.bias.normal_(0.0, 0.3)
    x = torch.randn(2, 150, 64) * 3 + 1.0
    with torch.no_grad():
        want = torch.sigmoid(head(x)[0]).numpy()
    tensors = {f"head.{k}": v.numpy() for k, v in head.state_dict().items()}
    got = NumpyFrameHead(tensors, "test", norm=True).probs(x.numpy())
    assert np.abs(got - want).max() < 1e-5
    without = {k: v for k, v in tensors.items() if not k.startswith("head.norm.")}
    with pytest.raises(ValueError, match="no frame head tensor 'head.norm.weight'"):
        NumpyFrameHead(without, "test", norm=True)


def test_auto_picks_ct2_for_base_shaped_frame_models_and_torch_otherwise(frame_bundle_path, tiny_model, tmp_path):
    from model.encoder.bundle import save_bundle

    tiny = load_bundle(frame_bundle_path, build_model=False)
    assert resolve_engine(InferenceOptions(), tiny) == "torch"  # no CTranslate2 base of its shape
    base_shaped = dataclasses.replace(tiny, config=dataclasses.replace(tiny.config, dims=type(tiny.config.dims)()))
    assert resolve_engine(InferenceOptions(), base_shaped) == "ct2"
    assert resolve_engine(InferenceOptions(precision="bf16"), base_shaped) == "torch"  # bf16 is torch's
    save_bundle(tiny_model, tmp_path / "clip-head.safetensors", thresholds=dict(tiny.thresholds))
    clip_head = load_bundle(tmp_path / "clip-head.safetensors", build_model=False)
    for engine in ("ct2", "torch"):  # no engine runs a model without a frame head: the analysis refuses it first
        with pytest.raises(ValueError, match="clip-head.safetensors.*'mean' head.*stutterscope export"):
            Predictor(clip_head, options=InferenceOptions(engine=engine))
    with pytest.raises(ValueError, match="int8 runs on the CTranslate2 engine only"):
        TorchEngine(tiny, InferenceOptions(precision="int8"))


@pytest.fixture(scope="module")
def default_bundle():
    return load_bundle(None, build_model=False)


@needs_default
def test_the_frame_path_on_ct2_gives_torchs_frames_and_moments(default_bundle, speak):
    wav = speak("So I I I went to the, um, the the store and it was, uh, ssssso far away from home. "
                "Then we we talked about the weather for a long long time, and and then we left.", "speech.wav")
    ct2 = Predictor(default_bundle, options=InferenceOptions(device="cpu", engine="ct2", precision="fp32"))
    torch_ = Predictor(default_bundle, options=InferenceOptions(device="cpu", engine="torch", precision="fp32"))
    assert isinstance(ct2.engine, Ct2Engine) and isinstance(torch_.engine, TorchEngine)
    (a, moments_a), (b, moments_b) = ct2.predict_moments(wav), torch_.predict_moments(wav)
    assert a.probs.shape == b.probs.shape and a.duration > 8
    assert np.abs(a.probs - b.probs).max() < 1e-3
    assert [(m.start, m.end, m.types) for m in moments_a] == [(m.start, m.end, m.types) for m in moments_b]
    # The engine is part of the settings, so a resumed `assess` never mixes results made by the two.
    assert ct2.settings["engine"] == "ct2" and torch_.settings["engine"] == "torch"
    assert {**ct2.settings, "engine": "torch"} == torch_.settings


@needs_default
def test_int8_is_chosen_only_where_its_moments_were_checked(default_bundle, monkeypatch):
    from model.encoder import ct2_engine
    from model.pipeline.inference_cli import _engine_info

    shown = _engine_info(default_model_path())  # what `stutterscope info` prints for the default model
    assert shown["engine"] == "ct2" and shown["precision"] == "float32" and "0.976" in shown["int8_check"]
    assert ct2_engine.resolve_compute_type("auto", default_bundle) == "float32"
    monkeypatch.setitem(ct2_engine.INT8_CHECKS, default_bundle.model_id, (True, "agreed"))
    assert ct2_engine.resolve_compute_type("auto", default_bundle) == "int8"
    assert ct2_engine.resolve_compute_type("fp32", default_bundle) == "float32"
    with pytest.raises(ValueError, match="--engine torch for bf16"):
        ct2_engine.resolve_compute_type("bf16", default_bundle)
