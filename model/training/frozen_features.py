"""Frozen Whisper encoder features per `prep casa` run, cached once, for training small heads per fold.

The shipped default's encoder was fine-tuned on 14 of the 22 annotated episodes, so its features leak into
a cross-validation over all 22. The offline Whisper-base weights, never fine-tuned here, do not: heads
trained on their features per fold compare honestly, and in seconds to minutes on a CPU.

Each run is encoded as the app encodes a recording (model.moments.frame_inference.predict_frames: 10 s windows
8 s apart, the overlap cross-faded), so a head trained here sees what it would see in the app. What is kept
per frame is the encoder's output after its last block and ln_post (the 512 features the frame head
reads), or with `train_blocks` k > 0 the output of the frozen prefix before the last k blocks (what a head that
fine-tunes those blocks reads: model.training.heads' "block" heads), stored fp16 in one .npz keyed by record id,
OUTSIDE the repository (derived from the audio).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..audio.decode import log_mel
from ..jsonable import dumps
from ..manifest import load_record_audio
from ..moments.frame_inference import FrameWindows, predict_frames

log = logging.getLogger(__name__)

WINDOWS = FrameWindows(window_seconds=10.0, hop_seconds=8.0)  # the default model's windows (model/assets)
FEATURE_DTYPE = np.float16


def encoder_fn(model):
    """A FrameFn: audio (batch, window samples), real samples (batch,) -> encoder output (batch, tokens, width):
    after ln_post, or the frozen prefix's output when the model trains its last blocks."""
    import torch

    @torch.no_grad()
    def fn(audio: np.ndarray, n_real: np.ndarray) -> np.ndarray:
        mel = log_mel(audio, n_samples=audio.shape[1])  # (batch, 80, mel frames)
        del n_real  # the trimmed encoder has no pooling: every token is returned, padding masked by the taper
        out = model.encode_prefix(mel) if model.train_blocks else model.encode(mel)
        return out.float().numpy()  # (batch, tokens, width)

    return fn


def record_features(model, record: Mapping, root: Path) -> np.ndarray:
    """(frames, width) fp16 encoder features of one record's audio, windows overlap-added."""
    audio = load_record_audio(dict(record), root)
    width = model.config.dims.n_audio_state
    preds = predict_frames(iter([audio]), encoder_fn(model), windows=WINDOWS, channels=tuple(map(str, range(width))))
    return preds.probs.astype(FEATURE_DTYPE)


def build_features(records: Sequence[Mapping], root: Path, out: Path, *, weights: str = "base",
                   train_blocks: int = 0) -> dict:
    """Encode every record with the frozen `weights` and write `out` (.npz) and its .json; returns the info.

    train_blocks k > 0: keep the output before the last k blocks (for heads that fine-tune them), not after ln_post.

    Written only when all records are done (no partial cache); the .json names the weights' SHA-256.
    """
    import torch

    from .model_init import build_model

    if out.suffix != ".npz":
        raise ValueError(f"{out}: the feature cache is an .npz file; give a path ending in .npz")
    model, sha = build_model(weights, train_blocks=train_blocks, context="trimmed", head="frame")
    model.eval()
    torch.set_grad_enabled(False)
    feats, t0 = {}, time.perf_counter()
    for i, r in enumerate(records):
        feats[r["id"]] = record_features(model, r, root)
        if i % 50 == 0:
            log.info("%d/%d records, %.0f s", i + 1, len(records), time.perf_counter() - t0)
    info = {"weights": weights, "weights_sha": sha, "layer": f"before the last {train_blocks} block(s)" if train_blocks else "last block + ln_post",
            "train_blocks": train_blocks, "windows": WINDOWS.to_dict(),
            "records": len(feats), "seconds": round(sum(float(r["duration"]) for r in records), 1),
            "wall_s": round(time.perf_counter() - t0, 1), "dtype": np.dtype(FEATURE_DTYPE).name}
    tmp = out.with_name(out.stem + ".partial.npz")
    np.savez(tmp, **feats)
    tmp.replace(out)
    out.with_suffix(".json").write_text(dumps(info, indent=1))
    return info


def load_features(path: Path) -> tuple[dict[str, np.ndarray], dict]:
    """(record id -> (frames, width) fp16 features, the cache's info)."""
    if not path.is_file():
        raise ValueError(f"{path}: no feature cache; build it with benchmarks/cv_recipes.py features")
    with np.load(path) as z:
        feats = {k: z[k] for k in z.files}
    return feats, json.loads(path.with_suffix(".json").read_text())
