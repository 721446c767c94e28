"""Write a model file's encoder as a CTranslate2 Whisper model, so that inference runs on CTranslate2, not torch.

The inverse of model.encoder.ct2's reader (same layout, DESIGN.md "The offline Whisper weights"): every variable
that is not the encoder's is copied unchanged from a base CTranslate2 Whisper model (the offline package's
Whisper base; its decoder is never run, only `encode`), and the encoder's are the model file's own (the
fine-tuned last block and `ln_post` included), renamed, with query/key/value stacked row-wise and zeros
for the key bias Whisper does not have. Values are copied, never computed: the model file's fp16 encoder
stays fp16, and CTranslate2 converts it on loading (to float32 exactly, or to int8).
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .classifier_config import EncoderDims
from .ct2 import BINARY_VERSION, Ct2Model, _block_renames, _linear, _norm

# numpy dtype -> the file's dtype code (model.encoder.ct2 reads them back); bf16 is never written here.
_DTYPE_CODES = {np.dtype("<f4"): 0, np.dtype("<i1"): 1, np.dtype("<i2"): 2, np.dtype("<i4"): 3, np.dtype("<f2"): 4}
# What a CTranslate2 Whisper folder holds beside model.bin (faster-whisper's conversions, the offline packages).
ASSET_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
HEADS_VARIABLE = "encoder/num_heads"


def _string(out: BinaryIO, text: str) -> None:
    data = text.encode("utf-8") + b"\0"
    out.write(struct.pack("<H", len(data)) + data)  # the length counts the trailing NUL


def write_ct2(model: Ct2Model, out: BinaryIO) -> None:
    """Serialise a Ct2Model as a model.bin: variables sorted by name, then the aliases (model.encoder.ct2.parse_ct2 reads it)."""
    out.write(struct.pack("<I", BINARY_VERSION))
    _string(out, model.spec_name)
    out.write(struct.pack("<II", model.spec_revision, len(model.variables)))
    for name in sorted(model.variables):
        array = np.asarray(model.variables[name])  # not ascontiguousarray: it makes scalars rank 1
        code = _DTYPE_CODES.get(array.dtype.newbyteorder("="))
        if code is None:
            raise ValueError(f"variable {name!r} has dtype {array.dtype}, which a CTranslate2 file cannot hold")
        _string(out, name)
        out.write(struct.pack("<B", array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape))
        out.write(struct.pack("<BI", code, array.nbytes))
        out.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes(order="C"))
    out.write(struct.pack("<I", len(model.aliases)))
    for alias, target in model.aliases.items():
        _string(out, alias)
        _string(out, target)


def encoder_variables(tensors: dict[str, np.ndarray], dims: EncoderDims) -> dict[str, np.ndarray]:
    """A model file's `encoder.*` tensors under CTranslate2's names (ValueError naming what is missing)."""
    pairs = (_linear("encoder.conv1", "encoder/conv1") + _linear("encoder.conv2", "encoder/conv2")
             + [("encoder.positional_embedding", "encoder/position_encodings/encodings")]
             + _norm("encoder.ln_post", "encoder/layer_norm"))
    for i in range(dims.n_audio_layer):
        pairs += _block_renames(f"encoder.blocks.{i}", f"encoder/layer_{i}")
    stacked = [(f"encoder.blocks.{i}.attn", f"encoder/layer_{i}/self_attention/linear_0")
               for i in range(dims.n_audio_layer)]
    needed = [key for key, _ in pairs] + [f"{prefix}.{p}.{w}" for prefix, _ in stacked
                                          for p in ("query", "key", "value") for w in ("weight", "bias")
                                          if (p, w) != ("key", "bias")]
    missing = [key for key in needed if key not in tensors]
    if missing:
        raise ValueError(f"the model file lacks encoder tensors {missing[:3]} ({len(missing)} in all): "
                         "not a Whisper-encoder model file; re-export it")
    out = {src: tensors[key] for key, src in pairs}
    for prefix, src in stacked:
        q_bias = tensors[f"{prefix}.query.bias"]
        out[f"{src}/weight"] = np.concatenate([tensors[f"{prefix}.{p}.weight"] for p in ("query", "key", "value")])
        # Whisper's key projection has no bias: CTranslate2 stacks zeros in its place.
        out[f"{src}/bias"] = np.concatenate([q_bias, np.zeros_like(q_bias), tensors[f"{prefix}.value.bias"]])
    out[HEADS_VARIABLE] = np.asarray(dims.n_audio_head, np.int16)
    return out


def with_encoder(base: Ct2Model, tensors: dict[str, np.ndarray], dims: EncoderDims) -> Ct2Model:
    """The base model with its encoder replaced by the model file's (every other variable and alias unchanged)."""
    encoder = encoder_variables(tensors, dims)
    variables = {name: array for name, array in base.variables.items() if not name.startswith("encoder/")}
    if len(variables) == len(base.variables):
        raise ValueError("the base CTranslate2 model has no encoder variables: not a Whisper model")
    variables.update(encoder)
    dtypes = {name: _DTYPE_CODES[np.dtype(a.dtype)] for name, a in variables.items()}
    return Ct2Model(base.binary_version, base.spec_name, base.spec_revision, variables, dtypes, dict(base.aliases))


def write_encoder_model(base: Ct2Model, assets: Path, tensors: dict[str, np.ndarray], dims: EncoderDims,
                        folder: Path) -> Path:
    """Write a loadable CTranslate2 Whisper folder: model.bin with the model file's encoder, and the base's assets.

    folder must not exist yet or be empty (the caller renames it into place: model.encoder.ct2_engine.ct2_model_dir).
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "model.bin", "wb") as out:
        write_ct2(with_encoder(base, tensors, dims), out)
    for name in ASSET_FILES:
        if (assets / name).is_file():
            shutil.copyfile(assets / name, folder / name)
    return folder
