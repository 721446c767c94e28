"""The desktop build's words pieces that can be checked without building: the PyAV placeholder
(installer/rthook_no_av.py) lets faster-whisper import and fails loudly where PyAV would be used."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOK = REPO_ROOT / "installer" / "rthook_no_av.py"


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

