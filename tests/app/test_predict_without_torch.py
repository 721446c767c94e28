"""`stutterscope predict` in the desktop build: clip probabilities on the CTranslate2 engine with torch unimportable
(as tests/app/test_torch_free_build.py runs the self-test: the build's no-torch hook in a fresh interpreter)."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from test_torch_free_build import DEFAULT_MODEL, bundle_dir, run_without_torch  # noqa: F401 - a fixture

from model.labels import LABELS


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no default model file")
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_predict_runs_without_torch(bundle_dir, speak, tmp_path):  # noqa: F811 - the imported fixture
    wav = speak("so I I I went to the, um, the the store", "clip.wav")
    done = run_without_torch(f"from app.cli import main\nrc = main(['predict', {str(wav)!r}])\n"
                             "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(rc)\n",
                             bundle_dir, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    [row] = list(csv.DictReader(io.StringIO(done.stdout)))
    assert row["error"] == "" and row["path"].endswith("clip.wav")
    for label in LABELS:
        assert 0.0 <= float(row[f"p_{label}"]) <= 1.0 and row[label] in ("0", "1")
