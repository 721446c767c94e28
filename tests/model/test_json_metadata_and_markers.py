"""Issue 23: the JSON writers left outside model.jsonable (the model file's metadata, the recording marker) take
numpy values, and the model file's metadata bytes stay those of the files already shipped."""

from __future__ import annotations

import json

import numpy as np
from safetensors import safe_open

from app.wavstream import PcmFormat, WavStreamWriter, marker_path, recover
from model.encoder.bundle import METADATA_KEY, write_bundle_file
from model.folders import default_model_path
from model.jsonable import dumps


def test_the_shipped_models_metadata_is_written_back_byte_for_byte():
    # write_bundle_file's dump of the metadata it read gives the bytes stored: the same file, the same model id.
    with safe_open(str(default_model_path()), framework="numpy") as f:
        raw = f.metadata()[METADATA_KEY]
    assert dumps(json.loads(raw), sort_keys=True) == raw


def test_a_model_files_metadata_may_hold_numpy_numbers(tmp_path):
    import torch

    meta = {"thresholds": {"Block": np.float32(0.25)}, "training": {"epochs": np.int64(3), "ok": np.bool_(True)}}
    write_bundle_file({"w": torch.zeros(2)}, meta, tmp_path / "m.safetensors")  # TypeError before
    with safe_open(str(tmp_path / "m.safetensors"), framework="numpy") as f:
        stored = json.loads(f.metadata()[METADATA_KEY])
    assert stored["thresholds"] == {"Block": 0.25} and stored["training"] == {"epochs": 3, "ok": True}


def test_a_recording_whose_format_holds_numpy_numbers_is_marked_and_recovered(tmp_path):
    path = tmp_path / "recording.wav"
    writer = WavStreamWriter(path, PcmFormat(sample_rate=np.int64(16_000)))  # TypeError before
    writer.write(np.zeros(1600, np.int16).tobytes())
    assert json.loads(marker_path(path).read_text())["format"] == [16_000, 1, 2]
    assert recover(path) == path and not marker_path(path).exists()  # as after a crash mid-recording
    writer.close()
