"""Fixtures for the app's tests: offscreen Qt, private folders, a tiny model file and recordings."""

from __future__ import annotations

import gc
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

import pytest


@pytest.fixture(autouse=True)
def private_folders(tmp_path, monkeypatch):
    """Keep the records, recordings and log of every test in its own temporary folder."""
    monkeypatch.setenv("STUTTERSCOPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STUTTERSCOPE_LOG_DIR", str(tmp_path / "log"))
    return tmp_path


@pytest.fixture(autouse=True)
def no_collection_on_job_threads(request):
    """As the app keeps it (app.qt.workers.collect_garbage_on_gui_thread): Qt tests run with automatic cycle
    collection off and collect on the GUI thread after the test. A job's thread that collected a dead
    widget of an earlier test deadlocked the suite (its destructor waited for the GIL, the GUI thread
    for the destructor's Qt lock)."""
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()


@pytest.fixture(scope="session")
def tiny_bundle(frame_bundle_path):
    from model.encoder.bundle import load_bundle

    return load_bundle(frame_bundle_path)


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory):
    """About 12 s of espeak-ng speech (numpy noise bursts when espeak-ng is missing)."""
    from app.sample import make_sample

    return make_sample(tmp_path_factory.mktemp("speech") / "speech.wav")


@pytest.fixture(scope="session")
def predictions(tiny_bundle, speech_wav):
    """The tiny frame model's output on speech_wav (model.moments.frame_inference.MomentPredictions), computed once."""
    from model.moments.frame_inference import MomentPredictions
    from model.pipeline.inference import InferenceOptions, Predictor

    predictor = Predictor(tiny_bundle, options=InferenceOptions(device="cpu"))
    return MomentPredictions.from_frames(predictor.predict_frames(speech_wav), decoding=predictor.decoding,
                                         model_thresholds=tiny_bundle.thresholds)


@pytest.fixture()
def app_settings(frame_bundle_path):
    from app.qt.settings import AppSettings

    return AppSettings(model_path=str(frame_bundle_path), device="cpu")
