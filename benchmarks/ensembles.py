"""How much would averaging models, or perfect thresholds, add? Diagnostics for exported models.

For each model file the dev and test probabilities are computed from the audio (fp32, as `evaluate`
does; cached in --work). Then, per line of the table:

- a single model or an ensemble ("a+b": the mean of the members' probabilities), with thresholds
  tuned per type on the dev split, scored on test;
- "oracle thresholds": the same probabilities with thresholds tuned on the test split itself, an
  upper bound of what any threshold choice could reach with that model (not a fair test figure);
- the test ROC AUC per type: how well the model ranks clips, whatever the threshold.

With --smooth W every clip's probabilities are first averaged with those of the clips of the same
episode that overlap it in time (weight W times the overlap's share of 3 s): what smoothing over
overlapping windows would do for a long recording.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/ensembles.py --manifest runs/fb/manifest.jsonl \
        --work runs/ensembles --out benchmarks/results/ensembles.md \
        last1=runs/last1/model.safetensors seed1=runs/last1_seed1/model.safetensors ... \
        --combine last1+seed1 last1+seed1+seed2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def split_records(manifest: Path, split: str) -> list[dict]:
    """The split's clips, joined samples left out."""
    from model.manifest import read_manifest

    return [r for r in read_manifest(manifest) if r["split"] == split and "parts" not in r]


def probabilities(name: str, model_path: Path, splits: dict[str, list[dict]], work: Path) -> dict[str, np.ndarray]:
    """{split: (clips, labels)} for one model file, cached by the file's SHA-256."""
    from model.encoder.bundle import file_sha256, load_bundle
    from model.fileio import atomic_path
    from model.training.evaluation import predict_records

    cache = work / f"{name}-{file_sha256(model_path)[:16]}.npz"
    if cache.exists():
        data = np.load(cache)
        return {split: data[split] for split in splits}
    bundle = load_bundle(model_path)
    out = {split: predict_records(bundle.model, records, "/") for split, records in splits.items()}
    with atomic_path(cache) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **out)
    return out


def neighbour_weights(records: list[dict], clip_seconds: float = 3.0) -> np.ndarray:
    """(clips, clips) overlap in time as a share of a clip, between clips of one episode; 0 on the diagonal."""
    start = np.array([r["episode_start"] for r in records])
    episode = np.array([r["episode"] for r in records])
    overlap = np.clip(clip_seconds - np.abs(start[:, None] - start[None, :]), 0, None) / clip_seconds
    overlap *= episode[:, None] == episode[None, :]
    np.fill_diagonal(overlap, 0.0)
    return overlap


def smooth(probs: np.ndarray, weights: np.ndarray, w: float) -> np.ndarray:
    return (probs + w * weights @ probs) / (1 + w * weights.sum(axis=1, keepdims=True))


def row(name: str, dev: np.ndarray, test: np.ndarray, y_dev: np.ndarray, y_test: np.ndarray, labels) -> str:
    from sklearn.metrics import roc_auc_score

    from model.training.evaluation import compute_metrics
    from model.training.thresholds import apply_thresholds, tune_thresholds

    thresholds = tune_thresholds(y_dev, dev, labels)
    dev_macro = compute_metrics(y_dev, apply_thresholds(dev, thresholds, labels), labels)["macro_f1"]
    fair = compute_metrics(y_test, apply_thresholds(test, thresholds, labels), labels)
    oracle = compute_metrics(y_test, apply_thresholds(test, tune_thresholds(y_test, test, labels), labels), labels)
    auc = [roc_auc_score(y_test[:, k], test[:, k]) for k in range(len(labels))]
    return (f"| {name} | {dev_macro:.3f} | {fair['micro_f1']:.3f} | {fair['macro_f1']:.3f} | {fair['weighted_f1']:.3f} | "
            + " | ".join(f"{fair['per_type'][k]['f1']:.3f}" for k in labels)
            + f" | {oracle['macro_f1']:.3f} | " + " | ".join(f"{a:.2f}" for a in auc) + " |")


def main(argv: list[str] | None = None) -> int:
    from model.fileio import atomic_write_text
    from model.labels import LABELS
    from model.training.data import hard_labels

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="NAME=MODEL_FILE")
    parser.add_argument("--manifest", required=True, type=Path)
    parser.add_argument("--work", required=True, type=Path, help="folder for the cached probabilities")
    parser.add_argument("--combine", nargs="*", default=[], help="ensembles: NAME+NAME[+...]")
    parser.add_argument("--smooth", type=float, default=0.0, help="weight of overlapping neighbours (0: none)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ensembles.md"))
    args = parser.parse_args(argv)

    files = dict(m.split("=", 1) for m in args.models)
    splits = {split: split_records(args.manifest, split) for split in ("dev", "test")}
    y = {split: hard_labels(records, LABELS) for split, records in splits.items()}
    probs = {name: probabilities(name, Path(path), splits, args.work) for name, path in files.items()}
    if args.smooth:
        weights = {split: neighbour_weights(records) for split, records in splits.items()}
        probs = {name: {split: smooth(p, weights[split], args.smooth) for split, p in by_split.items()}
                 for name, by_split in probs.items()}
    lines = [f"Thresholds tuned on dev ({len(splits['dev'])} clips), scored on test ({len(splits['test'])} clips); "
             "ensembles average the members' probabilities"
             + (f"; neighbour smoothing weight {args.smooth}." if args.smooth else "."), "",
             "| model | dev macro | test micro | test macro | test weighted | " + " | ".join(LABELS)
             + " | macro, oracle thresholds | " + " | ".join(f"AUC {n}" for n in LABELS) + " |",
             "|---|" + "---:|" * (5 + 2 * len(LABELS))]
    for name in [*files, *args.combine]:
        members = name.split("+")
        dev = np.mean([probs[m]["dev"] for m in members], axis=0)
        test = np.mean([probs[m]["test"] for m in members], axis=0)
        lines.append(row(name, dev, test, y["dev"], y["test"], LABELS))
        print(lines[-1], flush=True)
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
