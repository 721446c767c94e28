"""Checks on a model file before and after its weights are allocated: nothing hostile reaches torch unchecked.

A model file is data from outside. Its metadata declares dims that decide how much memory the model
takes, so they are checked first: types, bounds from the largest known Whisper encoder, then the
stored encoder's size (read from the safetensors header, no data) against the size the declared
dims imply (counted by arithmetic, nothing allocated). Only then is the model
built, so a file can never make StutterScope allocate more than about twice its own size.
After loading, every weight must be finite and, where the file carries one, match its content
checksum; the model's outputs are checked finite at every forward pass (`check_finite_outputs`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Union

import numpy as np

from ..audio.decode import MAX_TOKENS
from ..errors import BrokenModelError

if TYPE_CHECKING:  # a model file is read with numpy (no torch) unless a torch model is built from it
    import torch

Weights = Union[np.ndarray, "torch.Tensor"]

# The audio encoders OpenAI released: name -> (width, heads, layers). n_mels is 80 (128 for large-v3).
WHISPER_ENCODERS = {"tiny": (384, 6, 4), "base": (512, 8, 6), "small": (768, 12, 12),
                    "medium": (1024, 16, 24), "large": (1280, 20, 32)}
WHISPER_N_MELS = (80, 128)
_MAX_WIDTH = max(w for w, _, _ in WHISPER_ENCODERS.values())  # 1280
_MAX_HEADS = max(h for _, h, _ in WHISPER_ENCODERS.values())  # 20
_MAX_LAYERS = max(n for _, _, n in WHISPER_ENCODERS.values())  # 32
_MAX_HEAD_HIDDEN = 4096  # the head's projection width: far above any trained here (256)
_MAX_LABELS = 64
_STORED_DTYPES = ("F16", "F32", "BF16")
CHECKSUM_KEY = "tensor_sha256"  # metadata key: SHA-256 over the stored tensors, names sorted


def _int_field(d: Mapping, key: str, lo: int, hi: int, where: str, path: Path) -> int:
    value = d.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{path}: the model file's {where}{key} is {value!r}, not a whole number; "
                         "the file is corrupt or was not written by StutterScope: re-export it")
    if not lo <= value <= hi:
        raise ValueError(f"{path}: the model file's {where}{key} = {value} is outside {lo}..{hi} "
                         "(the sizes Whisper encoders have); the file is corrupt: re-export it")
    return value


def check_config_dict(config: object, path: Path) -> None:
    """Raise ValueError naming the file unless config's types and sizes are ones a Whisper-based model can have."""
    if not isinstance(config, Mapping):
        raise ValueError(f"{path}: the model file's configuration is {type(config).__name__}, not a mapping")
    dims = config.get("dims")
    if not isinstance(dims, Mapping):
        raise ValueError(f"{path}: the model file's configuration has no encoder dims")
    n_mels = dims.get("n_mels")
    if n_mels not in WHISPER_N_MELS or isinstance(n_mels, bool):
        raise ValueError(f"{path}: the model file's dims.n_mels is {n_mels!r}; Whisper encoders take "
                         f"{' or '.join(map(str, WHISPER_N_MELS))} mel bands")
    ctx = dims.get("n_audio_ctx")
    if ctx != MAX_TOKENS or isinstance(ctx, bool):
        raise ValueError(f"{path}: the model file's dims.n_audio_ctx is {ctx!r}; Whisper encoders have {MAX_TOKENS}")
    width = _int_field(dims, "n_audio_state", 1, _MAX_WIDTH, "dims.", path)
    heads = _int_field(dims, "n_audio_head", 1, _MAX_HEADS, "dims.", path)
    layers = _int_field(dims, "n_audio_layer", 1, _MAX_LAYERS, "dims.", path)
    if width % heads or width % 2:
        raise ValueError(f"{path}: the model file's width {width} does not split into {heads} attention heads "
                         "(or is odd)")
    if "head_hidden" in config:
        _int_field(config, "head_hidden", 1, _MAX_HEAD_HIDDEN, "", path)
    if "train_blocks" in config:
        _int_field(config, "train_blocks", 0, layers, "", path)
    labels = config.get("labels")
    if (not isinstance(labels, list) or not 1 <= len(labels) <= _MAX_LABELS
            or not all(isinstance(x, str) for x in labels)):
        raise ValueError(f"{path}: the model file's labels are {labels!r}, not a list of type names")
    dropout = config.get("dropout", 0.0)
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"{path}: the model file's dropout is {dropout!r}, not a number in [0, 1)")
    if not isinstance(config.get("context", "trimmed"), str):
        raise ValueError(f"{path}: the model file's context is {config.get('context')!r}, not a name")


def encoder_elements(dims: Mapping[str, int]) -> int:
    """Values in a Whisper audio encoder's state dict (its weights and positional embedding), by arithmetic.

    conv1 (n_mels*w*3 + w), conv2 (3w^2 + w), positional embedding (ctx*w), per block 12w^2 + 12w
    (attention 4w^2 + 3w, the key has no bias; MLP 8w^2 + 5w; two layer norms 4w), ln_post 2w.
    """
    w, layers = dims["n_audio_state"], dims["n_audio_layer"]
    return (dims["n_mels"] * w * 3 + w + 3 * w * w + w + dims["n_audio_ctx"] * w
            + layers * (12 * w * w + 12 * w) + 2 * w)


def check_declared_size(dims: Mapping[str, int], stored: Mapping[str, tuple[tuple[int, ...], str]],
                        path: Path) -> None:
    """The encoder the dims declare must hold exactly as many values as the file stores for it."""
    not_float = sorted(name for name, (_, dtype) in stored.items() if dtype not in _STORED_DTYPES)
    if not_float:
        raise ValueError(f"{path}: the model file stores {not_float[:3]} as non-float tensors; "
                         "the file is corrupt: re-export it")
    have = sum(math.prod(shape) for name, (shape, _) in stored.items() if name.startswith("encoder."))
    want = encoder_elements(dims)
    if have != want:
        raise ValueError(f"{path}: the model file's weights do not match its configuration (its dims declare an "
                         f"encoder of {want:,} values, the file holds {have:,}); the file is corrupt: re-export it")


def _as_numpy(t: Weights) -> np.ndarray:
    return t if isinstance(t, np.ndarray) else t.detach().cpu().numpy()


def tensor_checksum(tensors: Iterable[tuple[str, Weights]]) -> str:
    """SHA-256 over (name, raw bytes) of tensors as stored, in name order: catches damage that stays finite.

    Numpy arrays (safetensors' numpy API) and torch tensors of the same values give the same checksum.
    """
    h = hashlib.sha256()
    for name, t in sorted(tensors, key=lambda item: item[0]):
        h.update(name.encode())
        h.update(np.ascontiguousarray(_as_numpy(t)).tobytes())
    return h.hexdigest()


def _finite(t: Weights) -> bool:
    a = _as_numpy(t)
    return not np.issubdtype(a.dtype, np.floating) or bool(np.isfinite(a).all())


def check_finite_weights(state: Mapping[str, Weights], path: Path) -> None:
    bad = [name for name, t in state.items() if not _finite(t)]
    if bad:
        raise BrokenModelError(f"{path}: the model file is damaged: {len(bad)} weight tensor(s) hold NaN or "
                               f"infinite values ({', '.join(bad[:3])}); re-export or re-install the model")


def check_finite_outputs(values: np.ndarray, *, model_path: Path | str | None, what: str) -> None:
    """Raise BrokenModelError when a forward pass gave NaN or inf: a NaN compares below every threshold."""
    if not np.all(np.isfinite(values)):
        n_bad = int(np.sum(~np.isfinite(values)))
        raise BrokenModelError(f"{model_path or 'the model'}: the model gave {n_bad} NaN or infinite output(s) on "
                               f"{what}; the model file is broken: re-export or re-install it")


def finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
