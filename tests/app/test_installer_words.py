"""The desktop build's words pieces that can be checked without building: the PyAV placeholder
(installer/rthook_no_av.py) lets faster-whisper import and fails loudly where PyAV would be used; the numba
placeholder (installer/rthook_no_numba.py) lets openai-whisper import and run its word-timing DTW as plain
Python, with the same result as numba's compiled code."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOK = REPO_ROOT / "installer" / "rthook_no_av.py"
NUMBA_HOOK = REPO_ROOT / "installer" / "rthook_no_numba.py"


def test_placeholder_fails_loudly_but_looks_like_a_module():
    placeholder = runpy.run_path(str(HOOK))["_PyAVLeftOut"]("av")
    with pytest.raises(RuntimeError, match="PyAV is not part of the StutterScope desktop build"):
        placeholder.open  # noqa: B018 - the attribute access is what is tested
    with pytest.raises(AttributeError):
        placeholder.__path__  # noqa: B018
    assert placeholder.__name__ == "av"


def test_faster_whisper_imports_with_the_placeholder_and_refuses_files():
    pytest.importorskip("faster_whisper")
    # As in the frozen app: the hook's placeholder is in place before anything imports faster-whisper.
    code = f"""
import runpy, sys
sys.modules["av"] = runpy.run_path({str(HOOK)!r})["_PyAVLeftOut"]("av")
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio
try:
    decode_audio("recording.wav")
except RuntimeError as e:
    print("refused:", e)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "refused: av.audio: PyAV is not part of the StutterScope desktop build" in done.stdout


def test_numba_placeholder_hands_back_the_function_and_refuses_the_rest():
    placeholder = runpy.run_path(str(NUMBA_HOOK))["_NumbaLeftOut"]("numba")

    def f(x):
        return x + 1

    assert placeholder.jit(f) is f  # @numba.jit
    assert placeholder.jit(nopython=True, parallel=True)(f) is f  # @numba.jit(...), as whisper/timing.py has it
    with pytest.raises(RuntimeError, match="numba is not part of the StutterScope desktop build"):
        placeholder.prange  # noqa: B018 - the attribute access is what is tested
    with pytest.raises(AttributeError):
        placeholder.__path__  # noqa: B018
    assert placeholder.__name__ == "numba"


def test_whisper_dtw_as_plain_python_matches_numba(tmp_path):
    pytest.importorskip("numba")
    timing = pytest.importorskip("whisper.timing")
    rng = np.random.default_rng(0)
    # Token x frame costs as whisper.timing.dtw gives them (float64); the second has ties, for DTW's last branch.
    costs = {"random": rng.random((24, 150)), "ties": rng.integers(0, 3, size=(12, 40)).astype(np.float64)}
    np.savez(tmp_path / "costs.npz", **costs)
    # As in the frozen app: the placeholder is in place before anything imports whisper.
    code = f"""
import runpy, sys
import numpy as np
sys.modules["numba"] = runpy.run_path({str(NUMBA_HOOK)!r})["_NumbaLeftOut"]("numba")
import whisper.timing as timing
assert type(timing.dtw_cpu).__name__ == "function", type(timing.dtw_cpu)  # plain Python, not a numba dispatcher
costs = np.load({str(tmp_path / "costs.npz")!r})
np.savez({str(tmp_path / "plain.npz")!r}, **{{name: timing.dtw_cpu(costs[name]) for name in costs.files}})
"""
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    plain = np.load(tmp_path / "plain.npz")
    assert type(timing.dtw_cpu).__name__ != "function"  # here numba compiles it
    for name, cost in costs.items():
        compiled = timing.dtw_cpu(cost)  # shape (2, path length): token and frame indices
        assert compiled.shape[0] == 2 and compiled.shape[1] >= max(cost.shape)
        np.testing.assert_array_equal(plain[name], compiled)
        assert plain[name].dtype == compiled.dtype
