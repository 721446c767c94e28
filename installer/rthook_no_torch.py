"""PyInstaller runtime hook: the desktop build has no torch and no openai-whisper code; say so in one line.

The app analyses on the CTranslate2 engine (model/encoder/ct2_engine.py: numpy log-mel and frame head), and its
words come from faster-whisper, so torch (493 MiB) and openai-whisper's Python code are left out. Two
things stand in for them:
  - `whisper`: importlib's find_spec still finds the folder that holds Whisper's mel filters
    (`whisper/assets/mel_filters.npz`, read by model.audio.decode.mel_filters without importing whisper);
  - importing torch or whisper raises a ModuleNotFoundError whose message says what this build cannot do
    (the torch engine, bf16, training, export, a model that is not a Whisper-base frame model) and where
    to do it, instead of Python's bare "No module named 'torch'".
Registered only when the build bundles no torch (installer/stutterscope.spec).
"""

import importlib.machinery
import os
import sys

NO_TORCH = ("this StutterScope desktop build has no torch: it analyses with the CTranslate2 engine only. The "
            "torch engine, bf16, training, export and models other than a Whisper-base frame model need "
            "StutterScope installed with pip (pip install stutterscope)")


class _LeftOut:
    """Raises NO_TORCH on import of what the build left out."""

    def create_module(self, spec):
        raise ModuleNotFoundError(NO_TORCH, name=spec.name)

    def exec_module(self, module):  # pragma: no cover - create_module always raises
        raise ModuleNotFoundError(NO_TORCH, name=module.__name__)


class _NoTorchFinder:
    LEFT_OUT = ("torch", "whisper", "torchaudio", "functorch")

    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in self.LEFT_OUT:
            return None
        spec = importlib.machinery.ModuleSpec(name, _LeftOut(), is_package=(name == top))
        if name == "whisper":  # its data folder, for model.audio.decode.mel_filters
            spec.submodule_search_locations = [os.path.join(getattr(sys, "_MEIPASS", ""), "whisper")]
        return spec


if not any(isinstance(f, _NoTorchFinder) for f in sys.meta_path):
    # First: otherwise the path finder would take the bundled `whisper/` data folder for a namespace package.
    sys.meta_path.insert(0, _NoTorchFinder())
