"""The desktop build has no torch (installer/stutterscope.spec, installer/rthook_no_torch.py): its whole path runs
without torch, and what needs torch says so in one line, never a traceback.

Each check runs in a subprocess where torch cannot be imported: installer/rthook_no_torch.py's finder, placed
as in the frozen app (first on sys.meta_path, with the bundled `whisper/assets/mel_filters.npz` under
sys._MEIPASS), so `import torch` and `import whisper` fail as they do in the build.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOK = REPO_ROOT / "installer" / "rthook_no_torch.py"
DEFAULT_MODEL = REPO_ROOT / "model" / "assets" / "default.safetensors"


def whisper_mel_file() -> Path:
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("openai-whisper is not installed: no mel filters file to bundle")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "mel_filters.npz"


@pytest.fixture
def bundle_dir(tmp_path) -> Path:
    """A stand-in for the frozen app's _internal folder: only Whisper's mel filters file, as the spec bundles it."""
    folder = tmp_path / "_internal"
    (folder / "whisper" / "assets").mkdir(parents=True)
    shutil.copyfile(whisper_mel_file(), folder / "whisper" / "assets" / "mel_filters.npz")
    return folder


def run_without_torch(code: str, bundle: Path, tmp_path: Path, *, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run code in a fresh interpreter with the build's no-torch hook in place (set up before anything else)."""
    prelude = (f"import runpy, sys\nsys._MEIPASS = {str(bundle)!r}\nrunpy.run_path({str(HOOK)!r})\n"
               "assert 'torch' not in sys.modules\n")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path / "home"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("STUTTERSCOPE_MODEL", None)
    return subprocess.run([sys.executable, "-c", prelude + code], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_torch_and_whisper_code_refuse_in_one_line_and_the_mel_filters_still_load(bundle_dir, tmp_path):
    saved = tmp_path / "mel.npy"
    code = f"""
import json
import numpy as np
out = {{}}
for name in ("torch", "whisper.model", "torch.nn"):
    try:
        __import__(name)
        out[name] = "imported"
    except ModuleNotFoundError as e:
        out[name] = str(e)
from model.audio.decode import mel_filters
np.save({str(saved)!r}, mel_filters(80))
print(json.dumps(out))
"""
    done = run_without_torch(code, bundle_dir, tmp_path)
    assert done.returncode == 0, done.stderr
    refusals = json.loads(done.stdout.strip().splitlines()[-1])
    for name, message in refusals.items():
        assert "desktop build has no torch" in message, (name, message)
        assert "\n" not in message
    with np.load(whisper_mel_file()) as f:
        np.testing.assert_array_equal(np.load(saved), f["mel_80"])


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no default model file")
def test_the_self_test_runs_without_torch(bundle_dir, tmp_path):
    """The desktop app's own check: window, default model, analysis of a generated recording, on the ct2 engine."""
    done = run_without_torch("import app.qt.selftest\napp.qt.selftest.WINDOW_LIMIT_S = 1e9  # a test's start-up, not the app's\n"
                             "from app.qt.launch import main\nrc = main(['--self-test'])\n"
                             "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(rc)\n",
                             bundle_dir, tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    result = json.loads([line for line in done.stdout.splitlines() if '"selftest"' in line][-1])
    assert result["ok"] is True and result["engine"] == "ct2"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_words_run_without_torch(bundle_dir, tmp_path):
    """installer/smoke.sh's words check (installer/entry.py --words-check), with torch unimportable."""
    wav = tmp_path / "fox.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav),
                    "the quick brown fox jumps over the lazy dog"], check=True, timeout=60)
    code = (f"sys.path.insert(0, {str(REPO_ROOT / 'installer')!r})\nimport entry\nrc = entry.words_check([{str(wav)!r}])\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\nsys.exit(rc)\n")
    done = run_without_torch(code, bundle_dir, tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    words = json.loads(done.stdout.strip().splitlines()[-1])["words"]
    heard = [w["text"].strip(".,").lower() for w in words]
    assert heard[:3] == ["the", "quick", "brown"] and heard[-2:] == ["lazy", "dog"]


@pytest.mark.parametrize("argv", [
    ["assess", "{wav}", "--out", "{tmp}/out-torch", "--engine", "torch"],
    ["assess", "{wav}", "--out", "{tmp}/out-bf16", "--precision", "bf16"],
    ["export", "{tmp}", "--out", "{tmp}/model.safetensors"],
    ["train", "--manifest", "{tmp}/manifest.csv", "--out", "{tmp}/run"],
], ids=["engine-torch", "bf16", "export", "train"])
def test_what_needs_torch_says_so_in_one_line(argv, bundle_dir, tmp_path):
    wav = tmp_path / "tone.wav"
    import soundfile as sf

    sf.write(wav, 0.1 * np.sin(np.linspace(0, 2000, 32000)).astype(np.float32), 16000)
    (tmp_path / "manifest.csv").write_text("path,label\n", encoding="utf-8")
    args = [a.format(wav=wav, tmp=tmp_path) for a in argv]
    done = run_without_torch(f"from app.cli import main\nsys.exit(main({args!r}))\n", bundle_dir, tmp_path)
    assert done.returncode == 2, done.stderr[-4000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("stutterscope: error:")]
    assert len(errors) == 1 and "torch" in errors[0], done.stderr
