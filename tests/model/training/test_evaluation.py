"""Evaluation metrics against values computed by hand, the table and the PR-curve plot."""

from __future__ import annotations

import numpy as np
import pytest

from model.training.evaluation import compute_metrics, format_table, plot_pr_curves

Y_TRUE = np.array([[1, 0], [1, 1], [0, 1], [0, 0], [0, 1]])
Y_PRED = np.array([[1, 1], [0, 1], [0, 1], [1, 0], [0, 0]])


def test_metrics_match_the_hand_computed_values():
    m = compute_metrics(Y_TRUE, Y_PRED, ("A", "B"))
    # A: TP 1, FP 1, FN 1 -> P 1/2, R 1/2, F1 1/2, support 2.
    # B: TP 2, FP 1, FN 1 -> P 2/3, R 2/3, F1 2/3, support 3.
    assert m["per_type"]["A"] == pytest.approx({"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2})
    assert m["per_type"]["B"] == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert m["micro_f1"] == pytest.approx(0.6)  # pooled: TP 3, FP 2, FN 2
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert m["weighted_f1"] == pytest.approx((2 * 0.5 + 3 * 2 / 3) / 5)
    assert m["n_clips"] == 5


def test_a_type_never_predicted_scores_zero_without_warnings():
    m = compute_metrics(Y_TRUE, np.zeros_like(Y_PRED), ("A", "B"))
    assert m["macro_f1"] == 0 and m["per_type"]["A"]["precision"] == 0


def test_the_table_and_the_pr_curves(tmp_path):
    m = compute_metrics(Y_TRUE, Y_PRED, ("A", "B"))
    table = format_table(m)
    assert "macro F1" in table and "0.583" in table and table.count("\n") == 7
    probs = np.array([[0.9, 0.6], [0.4, 0.7], [0.1, 0.8], [0.6, 0.2], [0.2, 0.3]])
    png = plot_pr_curves(Y_TRUE, probs, ("A", "B"), tmp_path / "pr.png", thresholds={"A": 0.5, "B": 0.5})
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_predict_and_evaluate_agree_on_a_4_5_s_clip(frame_bundle_path, tmp_path):
    """One clip preparation (model.audio.decode.clip_mel) for `predict`, `evaluate` and the caches.

    predict used to pad to whole frames (450 mel frames for 4.5 s) and evaluate to whole seconds (500):
    the same clip got two probabilities.
    """
    import soundfile as sf

    from model.audio.decode import SAMPLE_RATE, clip_mel
    from model.encoder.bundle import load_bundle
    from model.pipeline.inference import InferenceOptions, Predictor
    from model.training.evaluation import predict_records

    rng = np.random.default_rng(0)
    audio = (0.1 * rng.standard_normal(int(4.5 * SAMPLE_RATE))).astype(np.float32)
    sf.write(tmp_path / "clip.wav", audio, SAMPLE_RATE)
    mel, n_frames = clip_mel(audio)
    assert mel.shape[-1] == 500 and n_frames == 450  # whole seconds; 4.5 s of it real

    bundle = load_bundle(frame_bundle_path)
    predicted = Predictor(bundle, options=InferenceOptions(device="cpu", precision="fp32")).predict_clip(
        tmp_path / "clip.wav")
    record = {"id": "c", "audio": "clip.wav", "offset": 0.0, "duration": 4.5}
    evaluated = predict_records(bundle.model, [record], tmp_path)[0]
    np.testing.assert_allclose(predicted, evaluated, atol=1e-6)
