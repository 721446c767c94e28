"""The light core: the review state and the event rules load neither torch, Whisper nor Qt; nor does `assess`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "whisper", "torchaudio", "PySide6", "pyqtgraph")


@pytest.mark.parametrize("module", ["app.review", "model.measures.summary", "model.pipeline.analysis", "model.moments.decoding",
                                    "model.moments.frame_inference", "model.measures.clinical", "model.measures.exclusions",
                                    # issue 25: the analysis path on CTranslate2
                                    "model.encoder.bundle", "model.pipeline.inference", "model.encoder.ct2_engine", "model.pipeline.inference_cli"])
def test_importing_loads_nothing_heavy(module):
    # A fresh interpreter: this test process has torch loaded already.
    code = f"import json, sys, {module}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


# Runs the CLI as `stutterscope` does, then reports what it loaded as it exits.
_REPORTING_CLI = """
import atexit, json, sys
atexit.register(lambda: print("LOADED " + json.dumps([m for m in {heavy!r} if m in sys.modules])))
from app.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_assess_with_the_default_frame_model_never_imports_torch(speak, tmp_path):
    from model.encoder.bundle import default_model_path

    if not default_model_path().is_file():
        pytest.skip("the default model file is missing")
    wav = speak("So I I I went to the, um, the store. Then we we talked for a long time.", "speech.wav")
    proc = subprocess.run([sys.executable, "-c", _REPORTING_CLI.format(heavy=HEAVY), "assess", str(wav),
                           "--out", str(tmp_path / "out")], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "(ct2, " in proc.stderr  # the engine it ran on
    loaded = [line for line in proc.stdout.splitlines() if line.startswith("LOADED ")]
    assert json.loads(loaded[-1].removeprefix("LOADED ")) == []
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert "ct2" in json.dumps(results)  # every output's settings name the engine
