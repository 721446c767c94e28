"""Cache a frame model's overlap-added frame probabilities on `prep casa` splits, for cheap decoding experiments.

The probabilities come from the app's own path (model.pipeline.inference.Predictor.predict_frames_blocks through
model.training.moment_eval.predict_records, the model file's windows, fp32 on the CPU), exactly what
`stutterscope evaluate --moments` decodes. One .npz per model and split, keyed by record id, written
OUTSIDE the repository (derived from the CASA audio: never commit it), with a .json beside it (the model id,
channels and the model file's decoding). benchmarks/decoding_sweep.py and `stutterscope evaluate --cv` read them.
`--split all` caches every annotated record (e.g. one model scored on the episodes it never trained on).

`PYTHONPATH=$PWD .venv/bin/python benchmarks/frame_probs_cache.py --manifest <runs>/casa/manifest.jsonl
--model <runs>/frames/a_frame_slp/model.safetensors --name a --splits dev test --out <cache>/decode`
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.encoder.bundle import load_bundle  # noqa: E402
from model.jsonable import dumps  # noqa: E402
from model.manifest import manifest_root, read_manifest  # noqa: E402
from model.pipeline.inference import InferenceOptions, Predictor  # noqa: E402
from model.training.moment_eval import predict_records  # noqa: E402

log = logging.getLogger(__name__)


def cache_path(out: Path, name: str, split: str) -> Path:
    """Where the probabilities of model `name` on `split` are cached."""
    return out / f"{name}_{split}.npz"


def load_cached(out: Path, name: str, split: str) -> tuple[dict[str, np.ndarray], dict]:
    """(record id -> (frames, channels) probabilities, the cache's info: model id, channels)."""
    path = cache_path(out, name, split)
    if not path.is_file():
        raise ValueError(f"{path} is not cached yet; run benchmarks/frame_probs_cache.py --name {name} --splits {split}")
    with np.load(path) as z:
        probs = {k: z[k] for k in z.files}
    info = json.loads(path.with_suffix(".json").read_text())
    return probs, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True, help="a `prep casa` manifest")
    ap.add_argument("--model", type=Path, required=True, help="a frame model file")
    ap.add_argument("--name", required=True, help="short name for the cache files (e.g. a, d)")
    ap.add_argument("--splits", nargs="+", default=["dev"], help="manifest splits (default dev)")
    ap.add_argument("--out", type=Path, required=True, help="cache folder, outside the repository")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    bundle = load_bundle(args.model)
    predictor = Predictor(bundle, options=InferenceOptions(precision="fp32", device="cpu"))
    manifest = read_manifest(args.manifest)
    for split in args.splits:
        records = [r for r in manifest if r.get("moments") is not None and split in ("all", r.get("split"))]
        if not records:
            raise ValueError(f"no records with SLP moments in split {split!r} of {args.manifest}")
        t0 = time.perf_counter()
        probs = predict_records(predictor, records, manifest_root(args.manifest))
        wall = time.perf_counter() - t0
        path = cache_path(args.out, args.name, split)
        np.savez(path, **probs)
        info = {"model": str(args.model), "model_id": bundle.model_id, "channels": list(bundle.config.channels),
                "split": split, "records": len(records), "wall_s": round(wall, 1), "precision": "fp32",
                "decoding": predictor.decoding.to_dict()}
        path.with_suffix(".json").write_text(dumps(info, indent=1))
        log.info("%s: %d records in %.0f s -> %s", split, len(records), wall, path)


if __name__ == "__main__":
    main()
