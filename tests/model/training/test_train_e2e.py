"""End to end on a synthetic corpus made in the test: train, tune thresholds, export, reload, predict.

Whisper tiny.en (the offline package) stands in for base: the same code at a fifth of the cost.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.labels import LABELS

N_CLIPS = 300  # about 30 s of espeak-ng on two cores


@pytest.fixture(scope="module")
def synthetic_manifest(tmp_path_factory, espeak):
    from data_prep.recipes.clip_votes import RecipeOptions, run_recipe
    from data_prep.splits import SplitOptions
    from data_prep.synth import generate_corpus
    root = tmp_path_factory.mktemp("synthetic")
    summary = generate_corpus(root / "corpus", n_clips=N_CLIPS, seed=7)
    manifest = root / "manifest.jsonl"
    run_recipe(summary.label_csv, root / "corpus", manifest,
               options=RecipeOptions(corpus="synthetic", split=SplitOptions(seed=0)), progress=False)
    return manifest


@pytest.mark.slow
@pytest.mark.whisper_weights
def test_train_export_reload_predict_beats_chance(synthetic_manifest, tiny_en, tmp_path):
    from model.encoder.bundle import load_bundle
    from model.manifest import manifest_root, read_manifest
    from model.pipeline.inference import InferenceOptions, Predictor
    from model.training.data import hard_labels
    from model.training.evaluation import compute_metrics
    from model.training.export import export_run
    from model.training.loop import train
    from model.training.options import TrainOptions
    from model.training.thresholds import apply_thresholds

    opt = TrainOptions(weights=tiny_en, train_blocks=1, epochs=5, patience=2, batch_size=16, lr=3e-4,
                       head_lr=2e-3, cache_dir=str(tmp_path / "cache"), progress=False)
    result = train(synthetic_manifest, tmp_path / "run", opt)
    assert result.best_score > 0.4

    model_id, meta = export_run(tmp_path / "run", tmp_path / "model.safetensors")
    bundle = load_bundle(tmp_path / "model.safetensors")
    assert bundle.model_id == model_id and set(bundle.thresholds) == set(LABELS)

    # Predict the held-out speakers' clips through the app's own inference path.
    records = [r for r in read_manifest(synthetic_manifest) if r["split"] == "test"]
    root = manifest_root(synthetic_manifest)
    predictor = Predictor(bundle, options=InferenceOptions(device="cpu", precision="fp32"))
    probs = np.stack([predictor.predict_clip(root / r["audio"]) for r in records])
    y = hard_labels(records, LABELS)
    metrics = compute_metrics(y, apply_thresholds(probs, bundle.thresholds, LABELS), LABELS)
    # Chance: calling every clip positive for every type (F1 = 2p / (1 + p) per type).
    prevalence = y.mean(axis=0)
    chance = float(np.mean(2 * prevalence / (1 + prevalence)))
    assert metrics["macro_f1"] > chance + 0.15, (metrics, chance)
    assert meta["training"]["metrics"]["test"]["macro_f1"] == pytest.approx(metrics["macro_f1"], abs=0.05)
