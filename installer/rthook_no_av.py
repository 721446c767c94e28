"""PyInstaller runtime hook: an `av` placeholder, because the desktop build leaves PyAV out.

faster-whisper imports PyAV at import time (its `audio` module) but uses it only to decode files, and
StutterScope gives it samples it decoded itself (model/measures/words.py), so PyAV and its FFmpeg (104 MB) are
not bundled. The placeholder lets `import faster_whisper` work; anything that really uses PyAV gets a
RuntimeError saying why, instead of a wrong result. Registered only when no real PyAV is bundled.
"""

import importlib.util
import sys
import types


class _PyAVLeftOut(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__"):  # introspection (copy, pickle, inspect) sees an ordinary module
            raise AttributeError(name)
        raise RuntimeError(f"av.{name}: PyAV is not part of the StutterScope desktop build (faster-whisper is "
                           "given decoded samples, never files); decode the audio with model.audio.decode instead")


if "av" not in sys.modules and importlib.util.find_spec("av") is None:
    sys.modules["av"] = _PyAVLeftOut("av")
