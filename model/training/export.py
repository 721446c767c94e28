"""Export: a training run's best epoch -> one model file, with thresholds, model card and metrics measured on it."""

from __future__ import annotations

from pathlib import Path

import torch

from ..bundle import file_sha256
from ..classifier import StutterClassifier
from ..intended_use import INTENDED_USE
from ..manifest import write_json
from .checkpoints import load_run
from .model_card import LICENCES, describe_split, describe_training


def _round_encoder_fp16(model: StutterClassifier) -> None:
    # The model file stores the encoder in fp16: measure what will be shipped, not the fp32 weights.
    with torch.no_grad():
        for t in list(model.encoder.parameters()) + list(model.encoder.buffers()):
            t.copy_(t.half().float())


def export_run(run_dir: str | Path, out: str | Path, *, manifest: str | Path | None = None,
               test_split: str = "test", json_copy: str | Path | None = None, progress: bool = False,
               ) -> tuple[str, dict]:
    """Write the run's best epoch as one model file, with thresholds, data description and metrics.

    Dev and test metrics are measured on the exported (fp16-encoder) model from the audio, as
    `stutterscope evaluate` would. Returns (model id, metadata).
    """
    from ..bundle import read_metadata, save_bundle
    from ..manifest import manifest_root, read_manifest
    from .evaluation import evaluate_model

    model, best, config = load_run(run_dir)
    manifest = Path(manifest or config["manifest"]["path"])
    records = read_manifest(manifest)
    opt = config["options"]
    _round_encoder_fp16(model)
    metrics = {}
    for split in (opt["dev_split"], test_split):
        chosen = [r for r in records if r.get("split") == split]
        if chosen:
            metrics[split], _ = evaluate_model(model, best["thresholds"], chosen, manifest_root(manifest),
                                               progress=progress)
    corpora = sorted({r.get("corpus", "") for r in records})
    training = {
        "manifest": manifest.name, "manifest_sha256": file_sha256(manifest), "corpora": corpora,
        "licences": {c: LICENCES.get(c, "see the corpus") for c in corpora},
        "splits": {s: describe_split(records, s) for s in (opt["train_split"], opt["dev_split"], test_split)},
        "thresholds_tuned_on": opt["dev_split"], "best_epoch": best["epoch"],
        "options": opt, "n_trainable": config["n_trainable"], "metrics": metrics,
        "environment": config["environment"],
    }
    metadata = {"whisper": {"name": opt["weights"], "encoder_sha256": config["weights_sha256"]},
                "training": training, "intended_use": INTENDED_USE,
                "description": describe_training(training, test_split)}
    model_id = save_bundle(model, out, thresholds=best["thresholds"], metadata=metadata)
    meta = read_metadata(out)
    if json_copy is not None:
        write_json(Path(json_copy), {"model_id": model_id, **meta})
    return model_id, meta
