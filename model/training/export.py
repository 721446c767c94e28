"""Export: a training run's best epoch -> one model file, with thresholds, model card and metrics measured on it.

A frame-head model also gets its inference windows and its moment decoding settings: the decoding
is grid-searched on the dev records with SLP moments (mean any-overlap moment F1 over the SLPs,
model.training.moment_scores.tune_decoding), then dev and test moments are scored with it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from ..encoder.bundle import file_sha256
from ..encoder.classifier import StutterClassifier
from ..intended_use import INTENDED_USE
from ..manifest import write_json
from ..moments.frame_inference import FrameWindows
from .checkpoints import load_run
from .frame_targets import has_frames, read_manifests
from .model_card import LICENCES, describe_split, describe_training

log = logging.getLogger(__name__)



def _round_encoder_fp16(model: StutterClassifier) -> None:
    # The model file stores the encoder in fp16: measure what will be shipped, not the fp32 weights.
    with torch.no_grad():
        for t in list(model.encoder.parameters()) + list(model.encoder.buffers()):
            t.copy_(t.half().float())


def export_run(run_dir: str | Path, out: str | Path, *, manifest: str | Path | None = None,
               test_split: str = "test", json_copy: str | Path | None = None, progress: bool = False,
               moments_manifest: str | Path | None = None) -> tuple[str, dict]:
    """Write the run's best epoch as one model file, with thresholds, data description and metrics.

    Dev and test metrics are measured on the exported (fp16-encoder) model from the audio, as
    `stutterscope evaluate` would: clip F1 on clip votes, and for a frame model moment F1 against the
    SLPs on the records with moments (the run's, or moments_manifest's), decoding tuned on dev.
    Returns (model id, metadata).
    """
    from ..encoder.bundle import read_metadata, save_bundle
    from ..manifest import manifest_root
    from .evaluation import evaluate_model

    model, best, config = load_run(run_dir)
    manifests = [Path(manifest)] if manifest else [Path(m["path"]) for m in config.get("manifests", [config["manifest"]])]
    records = read_manifests(manifests)
    manifest = manifests[0]
    opt = config["options"]
    _round_encoder_fp16(model)
    metrics = {}
    for split in (opt["dev_split"], test_split):
        # Clip metrics on clip votes only, as the first models were measured; runs are scored as moments.
        chosen = [r for r in records if r.get("split") == split and not has_frames(r)]
        if chosen:
            metrics[split], _ = evaluate_model(model, best["thresholds"], chosen, manifest_root(manifest),
                                               progress=progress)
    corpora = sorted({r.get("corpus", "") for r in records})
    training = {
        "manifest": manifest.name, "manifest_sha256": file_sha256(manifest), "corpora": corpora,
        "manifests": [{"name": m.name, "sha256": file_sha256(m)} for m in manifests],
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
    if model.config.head == "frame":
        # Records with SLP moments: the run's own, or another manifest's (a model trained without them).
        source = read_manifests([Path(moments_manifest)]) if moments_manifest else records
        moments = [r for r in source if r.get("moments") is not None]
        metadata["frames"] = FrameWindows().to_dict()  # 10 s windows 8 s apart: why, in FrameWindows
        model_id = save_bundle(model, out, thresholds=best["thresholds"], metadata=metadata)
        if moments:
            decoding, moment_metrics = tune_and_score_moments(out, moments, dev_split=opt["dev_split"],
                                                              test_split=test_split, progress=progress)
            metadata["decoding"] = decoding
            training["moment_metrics"] = moment_metrics
            metadata["description"] = describe_training(training, test_split)
            model_id = save_bundle(model, out, thresholds=best["thresholds"], metadata=metadata)
    meta = read_metadata(out)
    if json_copy is not None:
        write_json(Path(json_copy), {"model_id": model_id, **meta})
    return model_id, meta


def tune_and_score_moments(model_file: Path, records: list[dict], *, dev_split: str, test_split: str,
                           progress: bool = False) -> tuple[dict, dict]:
    """(decoding settings tuned on the dev records, moment scores per split with them) for a frame model file.

    records: records with SLP moments (`prep casa`), audio paths absolute. The scores are those of
    `stutterscope evaluate --moments` (model.training.moment_eval), without the syllable measures.
    """
    from ..audio.decode import TOKENS_PER_SECOND
    from ..encoder.bundle import load_bundle
    from ..pipeline.inference import InferenceOptions, Predictor
    from .moment_eval import decode_records, predict_records
    from .moment_scores import score_moments, tune_decoding

    predictor = Predictor(load_bundle(model_file), options=InferenceOptions(device="cpu", precision="fp32"))
    channels = predictor.bundle.config.channels
    dev = [r for r in records if r.get("split") == dev_split]
    if not dev:
        raise ValueError(f"no records with SLP moments in the {dev_split!r} split to tune the decoding on")
    test = [r for r in records if r.get("split") == test_split]
    # Each record's frames once: the grid search and both splits' scores decode the same probabilities.
    probs = predict_records(predictor, dev + test, "/", progress=progress)
    decoding, mean_f1, _ = tune_decoding(dev, probs, frame_rate=TOKENS_PER_SECOND, channels=channels,
                                         base=predictor.decoding)
    log.info("decoding tuned on %d %s records: mean moment F1 %.3f with %s", len(dev), dev_split, mean_f1, decoding)
    scores = {}
    for split, chosen in ((dev_split, dev), (test_split, test)):
        if chosen:
            estimates = decode_records(chosen, probs, channels=channels, decoding=decoding,
                                       frame_rate=TOKENS_PER_SECOND)
            scores[split] = score_moments(chosen, estimates=estimates)
    return decoding.to_dict(), scores
