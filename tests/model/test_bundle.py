import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from model.encoder.bundle import FORMAT_VERSION, load_bundle, read_metadata, save_bundle
from model.labels import LABELS


def test_round_trip_keeps_weights_thresholds_and_metadata(tiny_model, tmp_path):
    thresholds = dict(zip(LABELS, (0.3, 0.4, 0.5, 0.6, 0.7), strict=True))
    model_id = save_bundle(tiny_model, tmp_path / "m.safetensors", thresholds=thresholds,
                           metadata={"training": {"data": "unit test"}})
    bundle = load_bundle(tmp_path / "m.safetensors")
    assert bundle.model_id == model_id and len(model_id) == 64
    assert bundle.thresholds == thresholds
    assert bundle.config == tiny_model.config
    assert bundle.metadata["training"] == {"data": "unit test"}
    assert bundle.metadata["format_version"] == FORMAT_VERSION
    mel = torch.randn(2, 80, 300)
    with torch.no_grad():
        # The encoder is stored in fp16: outputs agree to fp16 precision.
        torch.testing.assert_close(bundle.model(mel), tiny_model(mel), atol=2e-3, rtol=1e-2)
    assert load_bundle(tmp_path / "m.safetensors").model_id == model_id  # stable id


def test_the_model_id_changes_with_the_thresholds(tiny_model, tmp_path):
    a = save_bundle(tiny_model, tmp_path / "a.safetensors", thresholds=dict.fromkeys(LABELS, 0.5),
                    metadata={"created": "2026-01-01T00:00:00+00:00"})
    b = save_bundle(tiny_model, tmp_path / "b.safetensors", thresholds=dict.fromkeys(LABELS, 0.6),
                    metadata={"created": "2026-01-01T00:00:00+00:00"})
    c = save_bundle(tiny_model, tmp_path / "c.safetensors", thresholds=dict.fromkeys(LABELS, 0.5),
                    metadata={"created": "2026-01-01T00:00:00+00:00"})
    assert a != b and a == c


def test_truncated_file_is_refused(frame_bundle_path, tmp_path):
    data = frame_bundle_path.read_bytes()
    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated|corrupt|not a StutterScope"):
        load_bundle(bad)


def test_corrupt_header_is_refused(frame_bundle_path, tmp_path):
    data = bytearray(frame_bundle_path.read_bytes())
    data[8:40] = b"\xff" * 32
    bad = tmp_path / "corrupt.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="not a StutterScope model file"):
        load_bundle(bad)


def test_pickle_file_is_refused_without_unpickling(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled!')",))

    bad = tmp_path / "evil.safetensors"
    bad.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ValueError, match="not a StutterScope model file"):
        load_bundle(bad)
    torch.save({"x": torch.zeros(1)}, tmp_path / "model.pt")
    with pytest.raises(ValueError):
        load_bundle(tmp_path / "model.pt")


def test_foreign_safetensors_and_newer_versions_are_refused(frame_bundle_path, tmp_path):
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ValueError, match="not a StutterScope model"):
        load_bundle(tmp_path / "foreign.safetensors")
    meta = read_metadata(frame_bundle_path)
    meta["format_version"] = FORMAT_VERSION + 1
    save_file({"w": torch.zeros(2)}, str(tmp_path / "newer.safetensors"), metadata={"stutterscope": json.dumps(meta)})
    with pytest.raises(ValueError, match="newer than this StutterScope"):
        load_bundle(tmp_path / "newer.safetensors")


def test_missing_default_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("STUTTERSCOPE_MODEL", str(tmp_path / "nope.safetensors"))
    with pytest.raises(ValueError, match="default model .* is missing"):
        load_bundle()


def test_thresholds_must_cover_every_label(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="missing"):
        save_bundle(tiny_model, tmp_path / "m.safetensors", thresholds={"Block": 0.5})
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_model_with_bad_decoding_settings_is_never_written(tiny_model, tmp_path):
    path = tmp_path / "bad.safetensors"
    with pytest.raises(ValueError, match=r"bad\.safetensors: the model file's decoding settings .*merge_gap is inf"):
        save_bundle(tiny_model, path, thresholds=dict.fromkeys(LABELS, 0.5),
                    metadata={"decoding": {"merge_gap": float("inf")}})
    assert not path.exists()


def test_write_bundle_file_adds_the_checksum_load_bundle_checks(frame_bundle_path, tmp_path, caplog):
    # How the bundled default got its tensor_sha256: the same tensors and metadata, plus the checksum.
    import logging

    from safetensors import safe_open

    from model.encoder.bundle import METADATA_KEY, write_bundle_file
    from model.encoder.bundle_checks import CHECKSUM_KEY

    with safe_open(str(frame_bundle_path), framework="pt") as f:
        meta = json.loads(f.metadata()[METADATA_KEY])
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    del meta[CHECKSUM_KEY]
    bare = tmp_path / "bare.safetensors"
    save_file(tensors, str(bare), metadata={METADATA_KEY: json.dumps(meta)})
    with caplog.at_level(logging.WARNING, logger="model.encoder.bundle"):
        load_bundle(bare)
    assert "carries no tensor_sha256" in caplog.text
    caplog.clear()
    model_id = write_bundle_file(tensors, meta, tmp_path / "with.safetensors")
    with caplog.at_level(logging.WARNING, logger="model.encoder.bundle"):
        loaded = load_bundle(tmp_path / "with.safetensors")
    assert loaded.model_id == model_id and loaded.metadata[CHECKSUM_KEY] and "carries no" not in caplog.text
