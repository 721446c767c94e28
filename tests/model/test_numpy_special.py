"""The ct2 engine's numpy erf and expit: scipy is a training extra, so the shipped head must not need it."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np

from model.encoder.ct2_engine import erf, expit


def test_erf_matches_the_standard_library_to_float32_precision():
    x = np.linspace(-6, 6, 20001, dtype=np.float32)
    exact = np.array([math.erf(float(v)) for v in x])
    assert np.abs(erf(x) - exact).max() < 5e-7
    assert erf(np.float32(0.0)) == 0.0


def test_expit_is_the_logistic_function_and_never_overflows():
    x = np.linspace(-30, 30, 6001)
    assert np.allclose(expit(x), 1 / (1 + np.exp(-x)), atol=1e-12)
    with np.errstate(over="raise"):
        assert expit(np.float32(-1e4)) == 0.0 and expit(np.float32(1e4)) == 1.0


def test_the_frame_head_runs_without_scipy(frame_bundle_path):
    """A plain install has no scipy (pyproject's `train` extra brings it): the numpy head must not import it."""
    code = ("import sys; sys.modules['scipy'] = None\n"  # `import scipy` now raises ImportError
            "import numpy as np\nfrom model.encoder.bundle import load_bundle\nfrom model.encoder.ct2_engine import NumpyFrameHead\n"
            f"b = load_bundle({str(frame_bundle_path)!r}, build_model=False)\n"
            "head = NumpyFrameHead(b.stored_tensors(), 'tiny', norm=b.config.head_norm, pooling=b.config.pooling)\n"
            "x = np.random.default_rng(0).standard_normal((2, 7, b.config.dims.n_audio_state)).astype(np.float32)\n"
            "p = head.probs(x); c = head.clip_logits(x, np.array([7, 3]))\n"
            "assert p.shape[:2] == (2, 7) and ((p >= 0) & (p <= 1)).all() and np.isfinite(c).all()\n"
            "print('scipy' in sys.modules and sys.modules['scipy'] is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
