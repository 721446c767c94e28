import json
import pickle

import pytest
import torch
from safetensors.torch import save_file

from model.bundle import FORMAT_VERSION, load_bundle, read_metadata, save_bundle
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


def test_truncated_file_is_refused(tiny_bundle_path, tmp_path):
    data = tiny_bundle_path.read_bytes()
    bad = tmp_path / "truncated.safetensors"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated|corrupt|not a StutterScope"):
        load_bundle(bad)


def test_corrupt_header_is_refused(tiny_bundle_path, tmp_path):
    data = bytearray(tiny_bundle_path.read_bytes())
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


def test_foreign_safetensors_and_newer_versions_are_refused(tiny_bundle_path, tmp_path):
    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ValueError, match="not a StutterScope model"):
        load_bundle(tmp_path / "foreign.safetensors")
    meta = read_metadata(tiny_bundle_path)
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
