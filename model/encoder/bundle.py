"""The one-file model: a `.safetensors` bundle that rebuilds itself from its own metadata.

Tensors: the classifier's state dict (encoder in fp16 to halve the file, head in fp32).
`__metadata__["stutterscope"]` holds JSON: format version, ClassifierConfig, thresholds, training
description and metrics; from format 2 also the head kind, the frame rate, the inference windows
(`frames`: window and hop seconds) and the moment decoding settings (`decoding`, tuned on dev).
Loading never unpickles. The file's SHA-256 is the model id.

Reading a file needs no torch (safetensors' numpy API): the torch classifier is built from the tensors
when asked for (`Bundle.model`), at once by default, or never when the model runs on CTranslate2
(`load_bundle(path, build_model=False)`, model.encoder.ct2_engine).

Format 1 files (the first models: mean-pooled clip head, one probability per type per 3 s window) still
load, for training's clip evaluation, but they have no frame head, so they find no moments: the analysis
refuses them with a message that says what the file is and what to do (`require_frame_head`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError, safe_open

from .. import __version__
from ..audio.decode import TOKENS_PER_SECOND
from ..errors import BrokenModelError
from ..fileio import atomic_path
from ..folders import ASSETS_DIR, DEFAULT_MODEL_FILE, default_model_path  # noqa: F401 - re-exported
from ..jsonable import dumps
from ..moments.decoding import MomentDecoding
from ..moments.frame_inference import FrameWindows
from .bundle_checks import (
    CHECKSUM_KEY,
    check_config_dict,
    check_declared_size,
    check_finite_weights,
    finite_number,
    tensor_checksum,
)
from .classifier_config import ClassifierConfig

if TYPE_CHECKING:
    from .classifier import StutterClassifier

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: frame head, frame windows and moment decoding settings in the metadata
METADATA_KEY = "stutterscope"


def __getattr__(name: str):
    # The torch classifier is imported only when a torch model is built (tests replace it here).
    if name == "StutterClassifier":
        from .classifier import StutterClassifier

        return StutterClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _LazyModel:
    """Bundle.model: the torch classifier, built from the bundle's tensors on first use (torch loads then)."""

    def __get__(self, bundle, owner=None):
        if bundle is None:
            return self  # the dataclass field's default: "not built yet"
        model = bundle.__dict__.get("_model")
        if model is None:
            model = bundle.__dict__["_model"] = build_torch_model(bundle.config, bundle.tensors, bundle.path)
            bundle.tensors = {}  # the model holds the weights now: no second copy
        return model

    def __set__(self, bundle, model) -> None:
        bundle.__dict__["_model"] = None if model is self else model


@dataclass(kw_only=True)
class Bundle:
    config: ClassifierConfig
    thresholds: dict[str, float]  # per label, probabilities at or above are positive
    metadata: dict = field(repr=False)  # everything stored in the file
    model_id: str = ""  # SHA-256 of the file
    path: Path | None = None
    # The torch classifier, in eval mode, fp32 on the CPU; built from `tensors` when first read.
    model: StutterClassifier = field(default=_LazyModel(), repr=False, compare=False)  # type: ignore[assignment]
    # The file's tensors as stored (encoder fp16, head fp32); empty once a torch model holds them.
    tensors: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def short_id(self) -> str:
        return self.model_id[:12]

    def stored_tensors(self) -> dict[str, np.ndarray]:
        """The tensors as the model file stores them, whether read from the file or taken from the torch model."""
        if self.tensors:
            return self.tensors
        return {name: _as_stored(name, value).numpy() for name, value in self.model.state_dict().items()}


def _as_stored(name: str, value):
    """A state-dict tensor as the model file stores it."""
    value = value.detach().to("cpu")
    # The encoder is 40 MB in fp16 and Whisper was trained in fp16; the small head stays fp32.
    return (value.half() if name.startswith("encoder.") else value.float()).contiguous()


def build_torch_model(config: ClassifierConfig, tensors: dict[str, np.ndarray], path: Path | None) -> StutterClassifier:
    """The torch classifier from a model file's tensors (ValueError when they do not fit its configuration)."""
    import torch

    if not tensors:
        raise ValueError(f"{path or 'this bundle'}: no tensors to build a model from; load it with load_bundle")
    model = sys.modules[__name__].StutterClassifier(config)  # module attribute: tests may replace it
    try:
        model.load_state_dict({name: torch.from_numpy(np.array(t)).float() for name, t in tensors.items()},
                              strict=True)
    except RuntimeError as e:  # load_state_dict: missing/unexpected keys or wrong shapes
        raise ValueError(f"{path}: the model file's weights do not match its configuration ({e})") from e
    return model.eval()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_thresholds(thresholds: dict[str, float], labels: tuple[str, ...]) -> dict[str, float]:
    if not isinstance(thresholds, dict):
        raise ValueError(f"thresholds must map each label to a probability, not {type(thresholds).__name__}")
    missing = [label for label in labels if label not in thresholds]
    if missing:
        raise ValueError(f"thresholds are missing for {missing}; give one per label in {list(labels)}")
    bad = {k: thresholds[k] for k in labels if not finite_number(thresholds[k]) or not 0.0 < thresholds[k] < 1.0}
    if bad:
        raise ValueError(f"thresholds must be numbers strictly between 0 and 1, got {bad}")
    return {label: float(thresholds[label]) for label in labels}


def save_bundle(model: StutterClassifier, path: str | Path, *, thresholds: dict[str, float],
                metadata: dict | None = None) -> str:
    """Write the model file atomically; returns its model id (SHA-256)."""
    path = Path(path)
    config = model.config
    meta = dict(metadata or {})
    meta.update({
        "format_version": FORMAT_VERSION,
        "config": config.to_dict(),
        "labels": list(config.labels),
        "thresholds": _check_thresholds(thresholds, config.labels),
        "head": config.head,
        "app_version": __version__,
        "created": meta.get("created") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
    })
    if config.head == "frame":
        meta.update({"channels": list(config.channels), "frame_rate": TOKENS_PER_SECOND})
    tensors = {name: _as_stored(name, value) for name, value in model.state_dict().items()}
    check_finite_weights(tensors, path)  # never write a model that would report every recording clean
    check_decoding_settings(meta, path)  # never write settings that load_bundle would refuse
    return write_bundle_file(tensors, meta, path)


def write_bundle_file(tensors: dict, meta: dict, path: str | Path) -> str:
    """Write tensors as stored and their metadata, with the tensors' checksum, atomically; returns the model id.

    save_bundle's last step; also how a file exported before the checksum existed gets one (the bundled
    default: same tensors, same metadata plus `tensor_sha256`).
    """
    from safetensors.torch import save_file

    path = Path(path)
    meta = {**meta, CHECKSUM_KEY: tensor_checksum(tensors.items())}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={METADATA_KEY: dumps(meta, sort_keys=True)})
    return file_sha256(path)


def check_decoding_settings(meta: dict, path: Path) -> None:
    """The frame windows and moment decoding settings a model file stores: ValueError naming the file if bad."""
    for key, settings in (("frames", FrameWindows), ("decoding", MomentDecoding)):
        try:
            settings.from_dict(meta.get(key, {}))
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: the model file's {key} settings are invalid ({e}); re-export the model "
                             "(or re-install StutterScope for the bundled one)") from None


def read_metadata(path: str | Path) -> dict:
    """The model file's metadata, checked, without loading tensors."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="np") as f:
            raw = (f.metadata() or {}).get(METADATA_KEY)
    except (SafetensorError, OSError) as e:
        raise ValueError(f"{path}: not a StutterScope model file (unreadable safetensors: {e}); "
                         "export one with `stutterscope export`") from e
    if raw is None:
        raise ValueError(f"{path}: a safetensors file but not a StutterScope model (no '{METADATA_KEY}' metadata)")
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: the model file's metadata is corrupt ({e})") from e
    if not isinstance(meta, dict):
        raise ValueError(f"{path}: the model file's metadata is corrupt (a JSON {type(meta).__name__}, not an object)")
    version = meta.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"{path}: the model file has no format version")
    if version > FORMAT_VERSION:
        raise ValueError(f"{path}: model format {version} is newer than this StutterScope understands "
                         f"({FORMAT_VERSION}); update StutterScope")
    return meta


def require_frame_head(bundle: Bundle) -> None:
    """ValueError, naming the file, what it is and the fix, unless the model file has a frame head.

    StutterScope finds moments in a frame model's 20 ms probabilities (model.moments.decoding); a format-1 file's
    clip head gives one probability per type per 3 s window, which says neither where a moment starts nor
    where it ends, so it is refused rather than converted into frames it does not have.
    """
    if bundle.config.head == "frame":  # format 2 brought the frame head: no file of format 1 has one
        return
    version = bundle.metadata.get("format_version")
    made = f"a model file of format {version}" if version is not None else "a model"
    raise ValueError(
        f"{bundle.path or 'this model file'}: {made} with the {bundle.config.head!r} head (one probability per "
        f"type per 3 s window), from before StutterScope found moments; it has no frame head, so it cannot find "
        f"stuttering moments. Use the bundled default model (leave the model choice empty / drop --model), or "
        f"export a frame model with `stutterscope export` (format {FORMAT_VERSION})")


def load_bundle(path: str | Path | None = None, *, build_model: bool = True) -> Bundle:
    """Read a model file (None: the bundled default model), checked, and rebuild its classifier.

    build_model: build the torch classifier now (its weights checked against the configuration); False
    keeps the file's tensors in `Bundle.tensors` and loads no torch until `Bundle.model` is read.
    """
    if path is None:
        path = default_model_path()
        if not path.is_file():
            raise ValueError(f"the default model {path} is missing; choose a model file (--model) "
                             "or reinstall StutterScope")
    path = Path(path)
    meta = read_metadata(path)
    # Everything the metadata declares is checked before any memory is allocated for it.
    check_config_dict(meta.get("config"), path)
    try:
        config = ClassifierConfig.from_dict(meta["config"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: the model file's configuration is incomplete or invalid ({e})") from e
    thresholds = _check_thresholds(meta.get("thresholds", {}), config.labels)
    check_decoding_settings(meta, path)
    try:
        with safe_open(str(path), framework="np") as f:
            stored = {name: (tuple(f.get_slice(name).get_shape()), f.get_slice(name).get_dtype())
                      for name in f.keys()}  # noqa: SIM118 - safe_open has keys(), not iteration
            check_declared_size(meta["config"]["dims"], stored, path)
            raw = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError) as e:
        raise ValueError(f"{path}: the model file is truncated or corrupt ({e})") from e
    check_finite_weights(raw, path)
    expected_sum = meta.get(CHECKSUM_KEY)
    if expected_sum is None:
        # Files exported before the checksum existed still load, but damage that stays finite goes unseen.
        log.warning("%s: the model file carries no %s, so damage to its weights cannot be detected; re-export it "
                    "with this StutterScope", path, CHECKSUM_KEY)
    elif tensor_checksum(raw.items()) != expected_sum:
        raise BrokenModelError(f"{path}: the model file is damaged (its weights do not match the checksum stored "
                               "with them); re-export or re-install the model")
    bundle = Bundle(config=config, thresholds=thresholds, metadata=meta, model_id=file_sha256(path), path=path,
                    tensors=raw)
    if build_model:
        bundle.model = build_torch_model(config, raw, path)
        bundle.tensors = {}  # the model holds the weights now: no second copy
    return bundle
