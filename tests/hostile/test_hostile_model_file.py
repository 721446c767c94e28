"""Issue 12, items 2 and 11: a damaged or hostile model file is an error that names it, before any harm."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hostile_helpers import rewrite_bundle, tone_speechlike, write_wav
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model.encoder.bundle as bundle_module
from model.encoder.bundle import Bundle, load_bundle
from model.errors import BrokenModelError
from model.pipeline.inference import InferenceOptions, Predictor


def _nan_head_bias(tensors):
    tensors["head.out.bias"] = tensors["head.out.bias"].clone()
    tensors["head.out.bias"][0] = float("nan")


def test_nan_in_the_head_bias_is_refused_naming_the_file(frame_bundle_path, tmp_path, no_pickle):
    bad = rewrite_bundle(frame_bundle_path, tmp_path / "nan-bias.safetensors", tensor_edit=_nan_head_bias)
    with pytest.raises(BrokenModelError, match=r"nan-bias\.safetensors.*NaN or infinite.*head\.out\.bias"):
        load_bundle(bad)


def test_4kib_flipped_in_the_tensor_data_is_refused(frame_bundle_path, tmp_path):
    data = bytearray(frame_bundle_path.read_bytes())
    header_len = int.from_bytes(data[:8], "little")
    start = 8 + header_len + 10_000  # inside the encoder's fp16 weights
    data[start:start + 4096] = bytes(b ^ 0xFF for b in data[start:start + 4096])
    bad = tmp_path / "flipped.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises((BrokenModelError, ValueError), match=r"flipped\.safetensors.*damaged"):
        load_bundle(bad)


def test_damage_that_stays_finite_is_caught_by_the_checksum(frame_bundle_path, tmp_path):
    def nudge(tensors):
        tensors["head.proj.weight"] = tensors["head.proj.weight"] + 0.01

    bad = rewrite_bundle(frame_bundle_path, tmp_path / "nudged.safetensors", tensor_edit=nudge)
    with pytest.raises(BrokenModelError, match=r"nudged\.safetensors.*checksum"):
        load_bundle(bad)


def test_non_finite_outputs_stop_the_analysis_naming_the_model(frame_bundle_path, tmp_path):
    # A model broken in a way no load-time check sees (weights changed in memory): the outputs are checked too.
    good = load_bundle(frame_bundle_path)
    with torch.no_grad():
        good.model.head.out.bias[:] = float("nan")  # every channel: the clip path reads the types only
    broken = Bundle(model=good.model, config=good.config, thresholds=good.thresholds, metadata=good.metadata,
                    model_id=good.model_id, path=frame_bundle_path)
    wav = write_wav(tmp_path / "speech.wav", tone_speechlike(4.0))
    predictor = Predictor(broken, options=InferenceOptions(precision="fp32"))
    with pytest.raises(BrokenModelError, match=r"frames\.safetensors.*NaN or infinite output"):
        predictor.predict_frames(wav)  # before: NaN frames, no moment, "clean" (issue 23)
    with pytest.raises(BrokenModelError):
        predictor.predict_clip(wav)


def _set_dims(**dims):
    def edit(meta):
        meta["config"]["dims"].update(dims)
    return edit


def test_dims_given_as_strings_are_a_clear_error(frame_bundle_path, tmp_path):
    bad = rewrite_bundle(frame_bundle_path, tmp_path / "strings.safetensors",
                         meta_edit=_set_dims(n_audio_state="64", n_audio_layer="2"))
    with pytest.raises(ValueError, match=r"strings\.safetensors.*n_audio_state is '64', not a whole number"):
        load_bundle(bad)


@pytest.fixture()
def no_real_model(monkeypatch, tiny_config):
    """Building a real (allocated) model of any size but the tiny one fails the test at once."""
    real = bundle_module.StutterClassifier
    built = []

    def guarded(config):
        on_meta = torch.empty(0).device.type == "meta"
        if config.dims != tiny_config.dims and not on_meta:
            raise AssertionError(f"allocated a model of declared dims {config.dims} before checking the file")
        built.append(config)
        return real(config)

    monkeypatch.setattr(bundle_module, "StutterClassifier", guarded)
    return built


def test_huge_declared_dims_are_refused_before_allocating(frame_bundle_path, tmp_path, no_real_model):
    # Whisper large's sizes on a file holding a tiny model: the declared model would take about 2.5 GB.
    bad = rewrite_bundle(frame_bundle_path, tmp_path / "huge.safetensors",
                         meta_edit=_set_dims(n_audio_state=1280, n_audio_head=20, n_audio_layer=32))
    with pytest.raises(ValueError, match=r"huge\.safetensors.*weights do not match its configuration"):
        load_bundle(bad)
    bigger = rewrite_bundle(frame_bundle_path, tmp_path / "bigger.safetensors",
                            meta_edit=_set_dims(n_audio_state=1 << 20))
    with pytest.raises(ValueError, match=r"bigger\.safetensors.*n_audio_state = 1048576 is outside 1\.\.1280"):
        load_bundle(bigger)


_ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70)
                         | st.floats(allow_nan=False) | st.text(max_size=8),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                         max_leaves=6)
_DIM_KEYS = ("n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer")
_CONFIG_KEYS = ("labels", "head_hidden", "dropout", "context", "train_blocks", "dims")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dims=st.dictionaries(st.sampled_from(_DIM_KEYS), _ANY_JSON | st.integers(0, 5000), max_size=5),
       config=st.dictionaries(st.sampled_from(_CONFIG_KEYS), _ANY_JSON, max_size=3),
       drop=st.lists(st.sampled_from(("config", "thresholds", "labels")), max_size=2))
def test_fuzzed_metadata_loads_or_is_a_clear_value_error(frame_bundle_path, tmp_path_factory, no_real_model,
                                                          dims, config, drop):
    def edit(meta):
        meta["config"].update(config)
        if isinstance(meta["config"].get("dims"), dict):
            meta["config"]["dims"].update(dims)
        for key in drop:
            meta.pop(key, None)

    path = rewrite_bundle(frame_bundle_path, tmp_path_factory.mktemp("fuzz") / "fuzzed.safetensors", meta_edit=edit)
    try:
        bundle = load_bundle(path)
    except ValueError as e:
        assert "fuzzed.safetensors" in str(e) or "threshold" in str(e), e
    else:
        probs = bundle.model(torch.zeros(1, 80, 300))
        assert np.all(np.isfinite(probs.detach().numpy()))


def test_fuzzed_metadata_json_text_never_escapes_as_another_error(frame_bundle_path, tmp_path):
    # Raw metadata strings that are not JSON objects at all.
    for i, raw in enumerate(["", "null", "[]", '"x"', "{", "1e999", json.dumps({"format_version": "1"})]):
        from safetensors import safe_open
        from safetensors.torch import save_file

        with safe_open(str(frame_bundle_path), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        path = tmp_path / f"raw{i}.safetensors"
        save_file(tensors, str(path), metadata={"stutterscope": raw})
        with pytest.raises(ValueError, match=f"raw{i}.safetensors"):
            load_bundle(path)
