"""Read a CTranslate2 Whisper `model.bin` into openai-whisper's state dict.

The offline weights (docs/decisions.md #12, "The offline Whisper weights") are a CTranslate2 conversion. This
module reverses it exactly: the stored float tensors are copied unchanged (no arithmetic), the
stacked attention projections are split back into query/key/value, and the stored positional
encodings are kept (openai-whisper's float32 `sinusoids()` differs from them in thousands of values).

File layout, little-endian, no padding:

    u32 binary_version; str spec_name; u32 spec_revision
    u32 num_variables, then per variable: str name; u8 rank; u32 dims[rank]; u8 dtype; u32 num_bytes; data
    u32 num_aliases, then per alias: str alias; str target
    (str = u16 length including a trailing NUL, the UTF-8 bytes, the NUL)

Quantized files (int8/int16 weights) are refused: they cannot give the exact model back.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # reading and writing the file needs no torch; only the rebuilt state dict does
    from torch import Tensor
    from whisper.model import ModelDimensions

BINARY_VERSION = 6  # the only layout read here (CTranslate2 >= 3)
SPEC_NAME = "WhisperSpec"
SPEC_REVISION = 3

# dtype code -> numpy dtype; bf16 has no numpy type and travels as its raw 16 bits.
_NUMPY_DTYPES = {0: "<f4", 1: "<i1", 2: "<i2", 3: "<i4", 4: "<f2", 5: "<u2"}
_DTYPE_NAMES = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
_FLOAT_CODES = (0, 4, 5)
_BF16 = 5


@dataclass(frozen=True)
class Ct2Model:
    """The raw contents of a model.bin: numpy views into the file's bytes, by variable name."""

    binary_version: int
    spec_name: str
    spec_revision: int
    variables: dict[str, np.ndarray]  # name -> array (bf16 as uint16 bits)
    dtypes: dict[str, int]  # name -> dtype code of the file
    aliases: dict[str, str]  # alias -> target variable

    def get(self, name: str) -> np.ndarray:
        """A variable by name, following an alias; KeyError if neither exists."""
        return self.variables[self.aliases.get(name, name)]

    def dtype_code(self, name: str) -> int:
        """The file's dtype code of a variable, following an alias."""
        return self.dtypes[self.aliases.get(name, name)]


class _Cursor:
    """Reads the header fields of a byte buffer in order; every read is bounds-checked."""

    def __init__(self, buf: np.ndarray, origin: str):
        self.buf = buf
        self.pos = 0
        self.origin = origin

    def _take(self, n: int, what: str) -> int:
        start = self.pos
        if start + n > len(self.buf):
            raise ValueError(f"{self.origin}: truncated CTranslate2 file: {what} at byte {start} needs {n} bytes, "
                             f"only {len(self.buf) - start} left (re-install or re-copy the complete file)")
        self.pos += n
        return start

    def uint(self, fmt: str, what: str) -> int:
        start = self._take(struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.buf, start)[0]

    def string(self, what: str) -> str:
        n = self.uint("<H", what)
        start = self._take(n, what)
        # The length counts the trailing NUL.
        return bytes(self.buf[start:start + n]).rstrip(b"\0").decode("utf-8")

    def array(self, dtype_code: int, shape: tuple[int, ...], num_bytes: int, name: str) -> np.ndarray:
        dtype = np.dtype(_NUMPY_DTYPES[dtype_code])
        count = int(np.prod(shape, dtype=np.int64))
        if count * dtype.itemsize != num_bytes:
            raise ValueError(f"{self.origin}: variable {name!r} claims {num_bytes} bytes for shape {shape} "
                             f"of {_DTYPE_NAMES[dtype_code]}: not a valid CTranslate2 file")
        start = self._take(num_bytes, f"the data of {name!r}")
        return np.frombuffer(self.buf, dtype=dtype, count=count, offset=start).reshape(shape)


def _read_variable(cur: _Cursor) -> tuple[str, int, np.ndarray]:
    name = cur.string("a variable name")
    rank = cur.uint("<B", f"the rank of {name!r}")
    shape = tuple(cur.uint("<I", f"the shape of {name!r}") for _ in range(rank))
    code = cur.uint("<B", f"the dtype of {name!r}")
    if code not in _NUMPY_DTYPES:
        raise ValueError(f"{cur.origin}: variable {name!r} has unknown dtype code {code}: not a CTranslate2 "
                         f"file this version understands")
    num_bytes = cur.uint("<I", f"the size of {name!r}")
    return name, code, cur.array(code, shape, num_bytes, name)


def parse_ct2(buf: np.ndarray | bytes, *, origin: str = "model.bin") -> Ct2Model:
    """Parse the bytes of a CTranslate2 Whisper model.bin (no copies: arrays are views into buf).

    origin names the file in error messages. Raises ValueError for a file that is not a
    CTranslate2 Whisper model of the supported version, or that is truncated.
    """
    buf = np.frombuffer(buf, dtype=np.uint8) if not isinstance(buf, np.ndarray) else buf
    cur = _Cursor(buf, origin)
    version = cur.uint("<I", "the binary version")
    if version != BINARY_VERSION:
        raise ValueError(f"{origin}: CTranslate2 binary version {version}, but only version {BINARY_VERSION} "
                         f"is supported (convert the model again with a current ct2-transformers-converter)")
    spec = cur.string("the spec name")
    if spec != SPEC_NAME:
        raise ValueError(f"{origin}: a {spec!r} model, not {SPEC_NAME!r}: give a CTranslate2 Whisper conversion")
    revision = cur.uint("<I", "the spec revision")
    if revision != SPEC_REVISION:
        raise ValueError(f"{origin}: {SPEC_NAME} revision {revision}, but only revision {SPEC_REVISION} is "
                         f"supported (convert the model again with a current ct2-transformers-converter)")
    variables: dict[str, np.ndarray] = {}
    dtypes: dict[str, int] = {}
    for _ in range(cur.uint("<I", "the variable count")):
        name, code, array = _read_variable(cur)
        variables[name], dtypes[name] = array, code
    aliases = {}
    for _ in range(cur.uint("<I", "the alias count")):
        alias = cur.string("an alias name")
        aliases[alias] = cur.string(f"the target of alias {alias!r}")
    if cur.pos != len(buf):
        raise ValueError(f"{origin}: {len(buf) - cur.pos} unexpected bytes after the aliases: "
                         f"not a single complete CTranslate2 file")
    return Ct2Model(version, spec, revision, variables, dtypes, aliases)


def read_ct2(path: str | Path) -> Ct2Model:
    """Parse a model.bin file, memory-mapped (the arrays stay views into the mapping)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file (give the path of a CTranslate2 model.bin)")
    return parse_ct2(np.memmap(path, dtype=np.uint8, mode="r"), origin=str(path))


# -- CTranslate2 names -> openai-whisper state-dict keys ---------------------------------------------


def _pair(dst: str, src: str, a: str, b: str) -> list[tuple[str, str]]:
    return [(f"{dst}.weight", f"{src}/{a}"), (f"{dst}.bias", f"{src}/{b}")]


def _linear(dst: str, src: str) -> list[tuple[str, str]]:
    return _pair(dst, src, "weight", "bias")


def _norm(dst: str, src: str) -> list[tuple[str, str]]:
    return _pair(dst, src, "gamma", "beta")


def _block_renames(dst: str, src: str) -> list[tuple[str, str]]:
    """The one-to-one renames of a residual block (both stacks): attention out, norms and MLP."""
    return (_linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
            + _norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
            + _linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
            + _linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
            + _norm(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm"))


def _renames(n_audio_layer: int, n_text_layer: int) -> list[tuple[str, str]]:
    """Every (whisper key, CTranslate2 name) pair that is a plain copy."""
    pairs = (_linear("encoder.conv1", "encoder/conv1") + _linear("encoder.conv2", "encoder/conv2")
             + [("encoder.positional_embedding", "encoder/position_encodings/encodings")]
             + _norm("encoder.ln_post", "encoder/layer_norm")
             + [("decoder.token_embedding.weight", "decoder/embeddings/weight"),
                ("decoder.positional_embedding", "decoder/position_encodings/encodings")]
             + _norm("decoder.ln", "decoder/layer_norm"))
    for i in range(n_audio_layer):
        pairs += _block_renames(f"encoder.blocks.{i}", f"encoder/layer_{i}")
    for i in range(n_text_layer):
        dst, src = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        pairs += (_block_renames(dst, src) + _linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
                  + _linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
                  + _norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm"))
    return pairs


def _stacked(n_audio_layer: int, n_text_layer: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """(whisper attention prefix, CTranslate2 linear, the projections it stacks row-wise)."""
    qkv = ("query", "key", "value")
    out = [(f"encoder.blocks.{i}.attn", f"encoder/layer_{i}/self_attention/linear_0", qkv)
           for i in range(n_audio_layer)]
    for i in range(n_text_layer):
        out.append((f"decoder.blocks.{i}.attn", f"decoder/layer_{i}/self_attention/linear_0", qkv))
        out.append((f"decoder.blocks.{i}.cross_attn", f"decoder/layer_{i}/attention/linear_1", ("key", "value")))
    return out


def _n_layers(model: Ct2Model, stack: str) -> int:
    pattern = re.compile(rf"{stack}/layer_(\d+)/")
    found = {int(m.group(1)) for name in model.variables if (m := pattern.match(name))}
    return max(found) + 1 if found else 0


def _scalar(model: Ct2Model, name: str) -> int:
    return int(model.get(name).reshape(()))


def _dims(model: Ct2Model) -> ModelDimensions:
    from whisper.model import ModelDimensions

    conv1 = model.get("encoder/conv1/weight")  # (width, n_mels, 3)
    embeddings = model.get("decoder/embeddings/weight")  # (vocab, width)
    return ModelDimensions(
        n_mels=conv1.shape[1], n_audio_ctx=model.get("encoder/position_encodings/encodings").shape[0],
        n_audio_state=conv1.shape[0], n_audio_head=_scalar(model, "encoder/num_heads"),
        n_audio_layer=_n_layers(model, "encoder"), n_vocab=embeddings.shape[0],
        n_text_ctx=model.get("decoder/position_encodings/encodings").shape[0], n_text_state=embeddings.shape[1],
        n_text_head=_scalar(model, "decoder/num_heads"), n_text_layer=_n_layers(model, "decoder"),
    )


def _check_present(model: Ct2Model, origin: str, needed: list[str]) -> None:
    missing = [n for n in needed if model.aliases.get(n, n) not in model.variables]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise ValueError(f"{origin}: not a complete CTranslate2 Whisper model: missing {shown}")


def _check_float(model: Ct2Model, origin: str, weights: list[str]) -> None:
    # Integer scalars (num_heads, flags) are normal; integer weights or scales mean quantization.
    quantized = [n for n in weights if model.dtype_code(n) not in _FLOAT_CODES]
    quantized += [n for n in model.variables if n.endswith("weight_scale")]
    if quantized:
        code = model.dtype_code(quantized[0])
        kind = _DTYPE_NAMES[code] if code not in _FLOAT_CODES else "int8"
        raise ValueError(f"{origin}: a quantized model ({kind} weights, e.g. {quantized[0]!r}); it cannot be "
                         f"rebuilt exactly: convert with --quantization float16 or float32")


def _tensor(array: np.ndarray, code: int) -> Tensor:
    import torch

    # A copy: the result must not keep the file mapping (or the joined buffer) alive.
    t = torch.from_numpy(array.copy())
    return t.view(torch.bfloat16) if code == _BF16 else t


def _split_stacked(model: Ct2Model, prefix: str, src: str, parts: tuple[str, ...], origin: str) -> dict:
    weight, bias = model.get(f"{src}/weight"), model.get(f"{src}/bias")
    code = model.dtype_code(f"{src}/weight")
    width = weight.shape[0] // len(parts)
    if weight.shape[0] != width * len(parts) or bias.shape != (weight.shape[0],):
        raise ValueError(f"{origin}: {src} has shape {weight.shape}, not {len(parts)} stacked projections")
    out = {}
    for j, part in enumerate(parts):
        rows = slice(j * width, (j + 1) * width)
        out[f"{prefix}.{part}.weight"] = _tensor(weight[rows], code)
        if part == "key":
            # Whisper's key projection has no bias; the conversion stored zeros in its place.
            if np.any(bias[rows] != 0):
                raise ValueError(f"{origin}: {src}/bias has a non-zero key bias, which Whisper cannot hold: "
                                 f"not a Whisper conversion")
        else:
            out[f"{prefix}.{part}.bias"] = _tensor(bias[rows], code)
    return out


def whisper_state_dict(model: Ct2Model, *, origin: str = "model.bin") -> tuple[ModelDimensions, dict[str, Tensor]]:
    """openai-whisper's (dims, state dict) from a parsed CTranslate2 Whisper model.

    Tensors keep the file's float dtype (float16 for the offline packages): loading them into a
    float32 `Whisper` converts them exactly.
    """
    _check_present(model, origin, ["encoder/conv1/weight", "decoder/embeddings/weight", "encoder/num_heads",
                                   "decoder/num_heads", "encoder/position_encodings/encodings",
                                   "decoder/position_encodings/encodings"])
    dims = _dims(model)
    renames = _renames(dims.n_audio_layer, dims.n_text_layer)
    stacked = _stacked(dims.n_audio_layer, dims.n_text_layer)
    needed = [src for _, src in renames] + [f"{src}/{p}" for _, src, _ in stacked for p in ("weight", "bias")]
    _check_present(model, origin, needed)
    _check_float(model, origin, needed)
    state = {}
    for key, src in renames:
        state[key] = _tensor(model.get(src), model.dtype_code(src))
    for prefix, src, parts in stacked:
        state.update(_split_stacked(model, prefix, src, parts, origin))
    return dims, state
