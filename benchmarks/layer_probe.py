"""Which Whisper-base encoder layer carries the most about each disfluency type? A linear probe.

For every clip of a manifest (joined samples left out) the frozen Whisper-base encoder runs once on
the trimmed 3 s context; each layer's tokens (0 = conv stem + positions, 1-6 = after each block, the
last one after ln_post) are pooled to their mean and standard deviation over time. A logistic
regression per type (scikit-learn, balanced class weights) is then fitted on one layer's pooled
features at a time:

- "cv": leave-speakers-out cross-validation over the train and dev speakers (groups of speakers per
  fold); thresholds per type are tuned on the pooled out-of-fold probabilities; macro F1 there.
- "test": fitted on all train+dev clips, thresholds from the cross-validation, scored on the test
  speakers (which no choice here looked at).

It is an accuracy probe of frozen features, not a benchmark of speed, and says which layer a head (or
a truncated encoder) should read. Run:

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/layer_probe.py --manifest runs/fb/manifest.jsonl \
        --features runs/probe/features.npz --out benchmarks/results/layer_probe.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def pooled_features(records: list[dict], *, batch_size: int = 16) -> np.ndarray:
    """(clips, layers, 2 * width) mean and std per layer of the frozen encoder."""
    import torch
    from tqdm import tqdm

    from model.audio.decode import WINDOW_SAMPLES, fit_length, load_audio, log_mel
    from model.training.model_init import build_model

    model, _ = build_model("base", train_blocks=0, context="trimmed")
    model.eval()
    out = []
    with torch.inference_mode():
        for i in tqdm(range(0, len(records), batch_size), desc="encoding", unit="batch"):
            batch = records[i:i + batch_size]
            audio = np.stack([fit_length(load_audio(r["audio"], max_seconds=3.0), WINDOW_SAMPLES) for r in batch])
            x = model.embed(log_mel(audio))
            layers = [x]
            for j, block in enumerate(model.encoder.blocks):
                x = block(x)
                layers.append(model.encoder.ln_post(x) if j == len(model.encoder.blocks) - 1 else x)
            stats = [torch.cat([h.mean(dim=1), h.std(dim=1)], dim=-1) for h in layers]
            out.append(torch.stack(stats, dim=1).numpy())
    return np.concatenate(out)


def load_or_compute(records: list[dict], path: Path) -> np.ndarray:
    ids = [r["id"] for r in records]
    if path.exists():
        data = np.load(path, allow_pickle=False)
        if list(data["ids"]) == ids:
            return data["features"]
    features = pooled_features(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    from model.fileio import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file object: savez would append ".npz" to a name
        np.savez(fh, features=features, ids=np.array(ids))
    return features


def fit_predict(x_train, y_train, x_eval, c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probs = []
    for k in range(y_train.shape[1]):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=2000))
        clf.fit(x_train, y_train[:, k])
        probs.append(clf.predict_proba(x_eval)[:, 1])
    return np.stack(probs, axis=1)


def probe(x: np.ndarray, y: np.ndarray, groups: np.ndarray, is_test: np.ndarray, *, folds: int, c: float):
    """(cv per-type F1, test per-type F1) for one feature matrix; thresholds as model.training.thresholds tunes them."""
    from sklearn.model_selection import GroupKFold

    from model.training.evaluation import compute_metrics
    from model.training.thresholds import apply_thresholds, tune_thresholds

    names = [str(k) for k in range(y.shape[1])]

    def per_type_f1(y_true, probs, thresholds):
        metrics = compute_metrics(y_true, apply_thresholds(probs, thresholds, names), names)
        return np.array([metrics["per_type"][n]["f1"] for n in names])

    dev = ~is_test
    xd, yd, gd = x[dev], y[dev], groups[dev]
    oof = np.zeros(yd.shape, dtype=np.float64)
    for tr, va in GroupKFold(n_splits=folds).split(xd, yd, gd):
        oof[va] = fit_predict(xd[tr], yd[tr], xd[va], c)
    thresholds = tune_thresholds(yd, oof, names)
    test = per_type_f1(y[is_test], fit_predict(xd, yd, x[is_test], c), thresholds)
    return per_type_f1(yd, oof, thresholds), test


def main(argv: list[str] | None = None) -> int:
    from model.fileio import atomic_write_text
    from model.labels import LABELS
    from model.manifest import read_manifest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--features", required=True, help="cache of the pooled features (.npz)")
    parser.add_argument("--out", default="benchmarks/results/layer_probe.md")
    parser.add_argument("--folds", type=int, default=6)
    parser.add_argument("--c", type=float, default=0.01, help="inverse L2 strength of the logistic regressions")
    args = parser.parse_args(argv)

    records = [r for r in read_manifest(args.manifest) if "parts" not in r]
    feats = load_or_compute(records, Path(args.features))
    y = np.array([[r["labels"][name] for name in LABELS] for r in records])
    groups = np.array([r["speaker"] for r in records])
    is_test = np.array([r["split"] == "test" for r in records])

    rows = []
    variants = [(f"layer {i}", feats[:, i]) for i in range(feats.shape[1])]
    variants.append(("layers 2-4 concatenated", feats[:, 2:5].reshape(len(feats), -1)))
    variants.append(("all layers concatenated", feats.reshape(len(feats), -1)))
    for name, x in variants:
        cv, test = probe(x, y, groups, is_test, folds=args.folds, c=args.c)
        rows.append((name, cv, test))
        print(f"{name:26s} cv macro {cv.mean():.3f}  test macro {test.mean():.3f}  test per type "
              + " ".join(f"{v:.2f}" for v in test), flush=True)

    lines = [f"Linear probe per encoder layer ({len(records)} clips, {int((~is_test).sum())} in {args.folds}-fold "
             f"leave-speakers-out CV, {int(is_test.sum())} test; C={args.c})", "",
             "| features | CV macro F1 | test macro F1 | " + " | ".join(f"test {n}" for n in LABELS) + " |",
             "|---|---:|---:|" + "---:|" * len(LABELS)]
    for name, cv, test in rows:
        lines.append(f"| {name} | {cv.mean():.3f} | {test.mean():.3f} | " + " | ".join(f"{v:.3f}" for v in test) + " |")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, "\n".join(lines) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
