"""The bundled default model: it loads, it is what the commands use, and bf16 agrees with fp32."""

import numpy as np
import pytest

from model.encoder.bundle import default_model_path, load_bundle
from model.labels import LABELS
from model.moments.decoding import MomentDecoding
from model.pipeline.inference import InferenceOptions, Predictor, _cpu_has_fast_bf16

pytestmark = pytest.mark.skipif(not default_model_path().is_file(), reason="the default model file is missing")


@pytest.fixture(scope="module")
def bundle():
    return load_bundle()


def test_default_model_is_whisper_base_with_its_metadata(bundle):
    assert default_model_path().stat().st_size <= 45 * 1024 * 1024
    assert bundle.config.dims.n_audio_state == 512 and bundle.config.dims.n_audio_layer == 6
    assert tuple(bundle.config.labels) == LABELS
    meta = bundle.metadata
    assert "not a diagnosis" in meta["intended_use"]
    # Issue 24 item 5: the recipe the cross-validation chose, trained on all 22 episodes, decoded as measured.
    assert bundle.config.head == "frame" and bundle.config.head_norm and bundle.config.train_blocks == 0
    assert MomentDecoding.from_dict(meta["decoding"]).smooth_seconds == 0.18
    training = meta["training"]
    assert len(training["episodes"]) == 22 and training["recipe"]["epochs"] == 7
    cv = training["cross_validation"]
    assert cv["folds"] == 8 and cv["run_floor_f1"] < cv["f1"] < cv["slp_agreement_f1"]
    assert f"{cv['f1']:.3f}" in meta["description"] and "Data licences" in meta["description"]


def test_the_default_encoder_is_whisper_base_as_released(bundle):
    from model.encoder.weights import load_encoder_state

    _, state, _ = load_encoder_state("base")
    stored = bundle.stored_tensors()
    assert {f"encoder.{k}" for k in state} == {k for k in stored if k.startswith("encoder.")}
    assert all(np.array_equal(stored[f"encoder.{k}"], v.half().numpy()) for k, v in state.items())


@pytest.mark.slow
def test_bf16_decisions_agree_with_fp32(bundle, speak):
    if not _cpu_has_fast_bf16():
        pytest.skip("this CPU has no native bf16; inference uses fp32 here")
    wav = speak("So I I I went to the, um, the the store and it was, uh, ssssso far away from home. "
                "Then we we talked about the weather for a long long time.", "speech.wav")
    # The frame path (the window path is gone): torch in fp32 and in bf16 autocast, the same recording.
    fp32, moments32 = Predictor(bundle, options=InferenceOptions(precision="fp32", engine="torch")).predict_moments(wav)
    bf16, moments16 = Predictor(bundle, options=InferenceOptions(precision="bf16", engine="torch")).predict_moments(wav)
    assert np.abs(fp32.probs - bf16.probs).max() < 0.2  # per 20 ms frame, unpooled: noisier than a 3 s window
    agree = ((fp32.probs >= 0.5) == (bf16.probs >= 0.5)).mean()
    assert agree >= 0.99, f"bf16 and fp32 agree on only {agree:.1%} of frame x channel decisions"
    # The same moments, kinds and types; a boundary may move by a frame or two where p crosses a threshold.
    assert moments32 and [(m.types, m.kind) for m in moments16] == [(m.types, m.kind) for m in moments32]
    assert all(abs(a.start - b.start) <= 0.04 + 1e-9 and abs(a.end - b.end) <= 0.04 + 1e-9
               for a, b in zip(moments32, moments16, strict=True))


def test_the_default_carries_its_tensor_checksum_and_default_json_names_its_id(bundle):
    # Issue 23: without tensor_sha256, 3 flipped bits in the weights loaded silently.
    import json

    from model.encoder.bundle import file_sha256
    from model.encoder.bundle_checks import CHECKSUM_KEY

    assert len(bundle.metadata.get(CHECKSUM_KEY, "")) == 64
    described = json.loads(default_model_path().with_suffix(".json").read_text(encoding="utf-8"))
    assert described["model_id"] == bundle.model_id == file_sha256(default_model_path())
    assert described[CHECKSUM_KEY] == bundle.metadata[CHECKSUM_KEY]
