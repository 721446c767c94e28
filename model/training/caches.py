"""Feature caches: Whisper log-mel per clip, and the frozen encoder prefix's output per clip.

The encoder blocks that do not train give the same output every epoch (docs/decisions.md #4), so
training computes them once per clip and reads them back from here. A cache is a folder of shards
(`shard-00000.safetensors`, N clips each, stored fp16) plus `index.json` mapping clip id -> shard.

The folder is named by a hash of everything that changes its contents (CacheKey): the weights'
SHA-256, context, frozen depth, mel settings, window length, dtypes and this module's version, so a
stale cache is never read. Each clip's entry also keeps a fingerprint of its audio reference, so a
record that now points at other audio is recomputed. Shards and the index are written atomically,
one shard at a time: an interrupted build loses at most the shard in progress and resumes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..audio.decode import N_MELS, WINDOW_SAMPLES
from ..audio.decode import clip_mel as audio_clip_mel
from ..fileio import atomic_path
from ..manifest import write_json

if TYPE_CHECKING:  # torch is imported where it is used: `stutterscope --help` stays instant
    import numpy as np
    import torch

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when what is stored, or how it is computed, changes
SHARD_SIZE = 128  # clips per shard: ~20 MB of trimmed prefix output at width 512
INDEX_FILE = "index.json"
KINDS = ("mel", "prefix")
COMPUTE_DTYPES = ("fp32", "bf16")  # prefix computed in float32, or under bfloat16 autocast


@dataclass(frozen=True)
class CacheKey:
    """Everything that changes a cache's contents; its hash names the cache folder."""

    kind: str  # "mel" (log-mel per clip) or "prefix" (frozen encoder prefix output per clip)
    weights_sha: str = ""  # SHA-256 of the encoder weights ("" for mel)
    context: str = "trimmed"  # the encoder's context: "trimmed" or "padded" to 30 s
    frozen_blocks: int = 0  # encoder blocks run before storing (prefix only)
    n_mels: int = N_MELS  # mel bands
    window_samples: int = WINDOW_SAMPLES  # shorter clips are zero-padded to this many samples
    dtype: str = "float16"  # what the shards store
    compute: str = "fp32"  # "fp32" or "bf16" autocast while computing the prefix
    version: int = CACHE_VERSION  # this module's storage/compute version

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"cache kind must be one of {KINDS}, not {self.kind!r}")
        if self.compute not in COMPUTE_DTYPES:
            raise ValueError(f"compute must be one of {COMPUTE_DTYPES}, not {self.compute!r}")
        if self.kind == "prefix" and not self.weights_sha:
            raise ValueError("a prefix cache needs the weights' SHA-256 (weights_sha) in its key")

    def digest(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def folder_name(self) -> str:
        return f"{self.kind}-{self.digest()}"


def state_sha256(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict's names, shapes, dtypes and values (order-independent)."""
    import torch

    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().to("cpu").contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def record_fingerprint(record: dict) -> str:
    """What a record's features depend on: its audio reference, offset, duration and parts."""
    ref = {k: record.get(k) for k in ("audio", "offset", "duration", "parts")}
    return hashlib.sha256(json.dumps(ref, sort_keys=True).encode()).hexdigest()[:16]


class FeatureCache:
    """One cache folder: `index.json` + shards. Entries: id -> {shard, fingerprint, n_frames}."""

    def __init__(self, folder: Path, key: CacheKey):
        self.folder = Path(folder)
        self.key = key
        self.entries: dict[str, dict] = {}
        index = self.folder / INDEX_FILE
        if index.is_file():
            data = json.loads(index.read_text())
            if data.get("key") != asdict(key):
                raise ValueError(f"{self.folder}: the cache index belongs to another key; delete the folder")
            self.entries = data["entries"]

    @classmethod
    def open(cls, cache_dir: str | Path, key: CacheKey) -> FeatureCache:
        folder = Path(cache_dir) / key.folder_name
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder, key)

    def missing(self, records: Sequence[dict]) -> list[dict]:
        """Records with no entry, or whose audio reference changed since they were cached."""
        return [r for r in records
                if self.entries.get(r["id"], {}).get("fingerprint") != record_fingerprint(r)]

    def _next_shard(self) -> int:
        used = {e["shard"] for e in self.entries.values()}
        return max(used, default=-1) + 1

    def add_shard(self, items: dict[str, tuple[torch.Tensor, int]], fingerprints: dict[str, str]) -> None:
        """Store features {id: (tensor, n_frames)} as one new shard, then record them in the index."""
        import torch

        shard = self._next_shard()
        tensors = {cid: t.to(getattr(torch, self.key.dtype)).contiguous() for cid, (t, _) in items.items()}
        from safetensors.torch import save_file

        with atomic_path(self.folder / f"shard-{shard:05d}.safetensors") as tmp:
            save_file(tensors, str(tmp))
        for cid, (_, n_frames) in items.items():
            self.entries[cid] = {"shard": shard, "fingerprint": fingerprints[cid], "n_frames": int(n_frames)}
        # The index is written after the shard: an interruption leaves at worst an unindexed shard,
        # which the next build overwrites.
        write_json(self.folder / INDEX_FILE, {"key": asdict(self.key), "entries": self.entries})

    def load(self, ids: Iterable[str]) -> dict[str, tuple[torch.Tensor, int]]:
        """{id: (features, n_frames)} for the given ids, reading each needed shard once."""
        from safetensors.torch import load_file

        by_shard: dict[int, list[str]] = {}
        for cid in ids:
            if cid not in self.entries:
                raise ValueError(f"{cid!r} is not in the cache {self.folder}; build it with `stutterscope prep cache`")
            by_shard.setdefault(self.entries[cid]["shard"], []).append(cid)
        out = {}
        for shard, cids in sorted(by_shard.items()):
            tensors = load_file(str(self.folder / f"shard-{shard:05d}.safetensors"))
            for cid in cids:
                out[cid] = (tensors[cid], self.entries[cid]["n_frames"])
        return out


# -- computing features ---------------------------------------------------------------------------


def clip_mel(audio: np.ndarray, key: CacheKey) -> tuple[torch.Tensor, int]:
    """(n_mels, frames) log-mel of one clip, and its real (unpadded) frame count (model.audio.decode.clip_mel)."""
    return audio_clip_mel(audio, n_mels=key.n_mels, min_samples=key.window_samples)


def autocast(device: torch.device, compute: str):
    """bf16 autocast on the device when compute is "bf16"; a no-op context for "fp32"."""
    import torch

    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=compute == "bf16")


def prefix_features(model, mels: torch.Tensor, *, compute: str = "fp32") -> torch.Tensor:
    """Frozen prefix output for a batch of equal-length mels: (batch, n_mels, frames) -> (batch, tokens, width)."""
    import torch

    device = next(model.parameters()).device
    with torch.no_grad(), autocast(device, compute):
        return model.encode_prefix(mels.to(device)).float().cpu()


def _batches_by_length(items: list[tuple[str, torch.Tensor, int]], batch_size: int):
    # Only equal-length inputs share a batch: the encoder has no attention mask.
    by_len: dict[int, list] = {}
    for item in items:
        by_len.setdefault(item[1].shape[-1], []).append(item)
    for group in by_len.values():
        for i in range(0, len(group), batch_size):
            yield group[i:i + batch_size]


def _compute_shard(records: list[dict], root: Path, key: CacheKey, model, batch_size: int):
    import torch

    from ..manifest import load_record_audio

    mels = []
    for r in records:
        mel, n_frames = clip_mel(load_record_audio(r, root), key)
        mels.append((r["id"], mel, n_frames))
    if key.kind == "mel":
        return {cid: (mel, n) for cid, mel, n in mels}
    out = {}
    for batch in _batches_by_length(mels, batch_size):
        feats = prefix_features(model, torch.stack([m for _, m, _ in batch]), compute=key.compute)
        out.update({cid: (f, n) for (cid, _, n), f in zip(batch, feats, strict=True)})
    return out


def build_cache(records: Sequence[dict], root: str | Path, cache_dir: str | Path, key: CacheKey, *,
                model=None, batch_size: int = 16, shard_size: int = SHARD_SIZE,
                progress: Callable[[int], None] | None = None) -> FeatureCache:
    """Compute and store what is missing for `records` (audio relative to `root`); returns the cache.

    model: a StutterClassifier whose encode_prefix matches the key (prefix caches only); its weights
    must hash to key.weights_sha. progress(n) is called with each finished shard's clip count.
    """
    if key.kind == "prefix":
        if model is None:
            raise ValueError("a prefix cache needs the model whose frozen prefix it stores")
        if model.frozen_blocks != key.frozen_blocks or model.config.context != key.context:
            raise ValueError(f"the model (frozen {model.frozen_blocks}, {model.config.context}) does not match "
                             f"the cache key (frozen {key.frozen_blocks}, {key.context})")
    cache = FeatureCache.open(cache_dir, key)
    todo = cache.missing(records)
    if todo:
        log.info("caching %s features for %d of %d clips in %s", key.kind, len(todo), len(records), cache.folder)
    root = Path(root)
    for start in range(0, len(todo), shard_size):
        chunk = todo[start:start + shard_size]
        items = _compute_shard(chunk, root, key, model, batch_size)
        cache.add_shard(items, {r["id"]: record_fingerprint(r) for r in chunk})
        if progress is not None:
            progress(len(chunk))
    return cache


# -- `stutterscope prep cache` --------------------------------------------------------------------


def default_cache_dir() -> Path:
    from ..folders import cache_dir

    return cache_dir() / "features"


def prefix_key(model, *, weights_sha: str, compute: str = "fp32") -> CacheKey:
    """The key of the prefix cache that `model` (with its trainable depth) trains from."""
    return CacheKey(kind="prefix", weights_sha=weights_sha, context=model.config.context,
                    frozen_blocks=model.frozen_blocks, n_mels=model.config.dims.n_mels, compute=compute)


def add_arguments(parser) -> None:
    parser.add_argument("manifest", type=Path, help="manifest (JSONL) whose clips to cache")
    parser.add_argument("--kind", choices=KINDS, default="prefix", help="log-mel or frozen prefix output")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where caches live (default: user cache)")
    parser.add_argument("--weights", default="base", help="Whisper weights name, or an encoder .safetensors")
    parser.add_argument("--train-blocks", type=int, default=1, help="final blocks that train (the rest is cached)")
    parser.add_argument("--context", choices=("trimmed", "padded"), default="trimmed")
    parser.add_argument("--compute", choices=COMPUTE_DTYPES, default="fp32",
                        help="bf16 autocast is faster on CPUs with AMX/AVX512-BF16")
    parser.add_argument("--batch-size", type=int, default=16)


def run(args) -> int:
    from tqdm import tqdm

    from ..manifest import manifest_root, read_manifest
    from .model_init import build_model

    records = read_manifest(args.manifest)
    cache_dir = args.cache_dir or default_cache_dir()
    model = None
    if args.kind == "prefix":
        model, weights_sha = build_model(args.weights, train_blocks=args.train_blocks, context=args.context)
        key = prefix_key(model, weights_sha=weights_sha, compute=args.compute)
    else:
        key = CacheKey(kind="mel")
    with tqdm(total=len(records), unit="clip", desc=f"{args.kind} cache") as bar:
        bar.update(len(records) - len(FeatureCache.open(cache_dir, key).missing(records)))
        cache = build_cache(records, manifest_root(args.manifest), cache_dir, key, model=model,
                            batch_size=args.batch_size, progress=bar.update)
    print(f"{len(cache.entries)} clips cached in {cache.folder}")
    return 0


