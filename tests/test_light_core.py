"""The light core: the review state and the event rules load neither torch, Whisper nor Qt."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "whisper", "torchaudio", "PySide6", "pyqtgraph")


@pytest.mark.parametrize("module", ["app.review", "model.events", "model.analysis", "model.moments",
                                    "model.frame_inference", "model.measures", "model.exclusions"])
def test_importing_loads_nothing_heavy(module):
    # A fresh interpreter: this test process has torch loaded already.
    code = f"import json, sys, {module}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120, check=True)
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
