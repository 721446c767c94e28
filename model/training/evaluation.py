"""Evaluation: clip probabilities from a model, F1 metrics (scikit-learn), a table, PR curves."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from .thresholds import apply_thresholds

log = logging.getLogger(__name__)


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray, labels: tuple[str, ...] | list[str]) -> dict:
    """Micro, macro and weighted F1, and per-type precision/recall/F1/support, from 0/1 (clips, labels)."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    y_true, y_pred = np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    per_type = {name: {"precision": float(p[j]), "recall": float(r[j]), "f1": float(f[j]), "support": int(s[j])}
                for j, name in enumerate(labels)}
    return {
        "n_clips": int(len(y_true)),
        **{f"{avg}_f1": float(f1_score(y_true, y_pred, average=avg, zero_division=0))
           for avg in ("micro", "macro", "weighted")},
        "per_type": per_type,
    }


def format_table(metrics: dict) -> str:
    """The metrics as a plain-text table (one row per type, then the averages)."""
    lines = [f"{'type':<14}{'precision':>10}{'recall':>8}{'F1':>7}{'support':>9}"]
    for name, m in metrics["per_type"].items():
        lines.append(f"{name:<14}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>7.3f}{m['support']:>9d}")
    lines.append("")
    for avg in ("micro", "macro", "weighted"):
        lines.append(f"{avg + ' F1':<14}{metrics[f'{avg}_f1']:>25.3f}")
    lines.append(f"{'clips':<14}{metrics['n_clips']:>25d}")
    return "\n".join(lines)


def plot_pr_curves(y_true: np.ndarray, probs: np.ndarray, labels, path: str | Path, *,
                   thresholds: dict[str, float] | None = None, title: str = "") -> Path:
    """One precision-recall curve per type, the chosen operating point marked; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = plt.subplots(figsize=(6, 5))
    for j, name in enumerate(labels):
        if y_true[:, j].max(initial=0) == 0:
            continue  # no positives: no curve
        precision, recall, cuts = precision_recall_curve(y_true[:, j], probs[:, j])
        ap = average_precision_score(y_true[:, j], probs[:, j])
        (line,) = ax.plot(recall, precision, label=f"{name} (AP {ap:.2f})")
        if thresholds is not None:
            k = min(int(np.searchsorted(cuts, thresholds[name])), len(cuts) - 1)
            ax.plot(recall[k], precision[k], "o", color=line.get_color())
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title=title or "precision-recall per type")
    ax.legend(loc="lower left", fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


# -- probabilities from a model ----------------------------------------------------------------------


@torch.no_grad()
def predict_records(model, records: list[dict], root: str | Path, *, batch_size: int = 32,
                    compute: str = "fp32", progress: bool = False) -> np.ndarray:
    """(clips, labels) probabilities for manifest records: audio -> log-mel -> the whole model."""
    from tqdm import tqdm

    from ..manifest import load_record_audio
    from .caches import CacheKey, autocast, clip_mel
    from .data import eval_batches

    key = CacheKey(kind="mel", n_mels=model.config.dims.n_mels)
    mels = [clip_mel(load_record_audio(r, Path(root)), key)
            for r in tqdm(records, desc="decoding", unit="clip", disable=not progress)]
    model.eval()
    device = next(model.parameters()).device
    out = np.zeros((len(records), len(model.config.labels)), dtype=np.float32)
    for idx in eval_batches([tuple(m.shape) for m, _ in mels], batch_size):
        x = torch.stack([mels[i][0] for i in idx]).to(device)  # (batch, n_mels, frames)
        n = torch.tensor([mels[i][1] for i in idx], device=device)
        with autocast(device, compute):
            logits = model(x, n)
        out[idx] = torch.sigmoid(logits.float()).cpu().numpy()
    return out


def evaluate_model(model, thresholds: dict[str, float], records: list[dict], root: str | Path, *,
                   batch_size: int = 32, compute: str = "fp32", progress: bool = False) -> tuple[dict, np.ndarray]:
    """(metrics, probabilities) of a model with its thresholds on the records' hard labels."""
    from .data import hard_labels

    labels = model.config.labels
    probs = predict_records(model, records, root, batch_size=batch_size, compute=compute, progress=progress)
    y_true = hard_labels(records, labels)
    return compute_metrics(y_true, apply_thresholds(probs, thresholds, labels), labels), probs
