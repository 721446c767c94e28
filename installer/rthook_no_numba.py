"""PyInstaller runtime hook: a `numba` placeholder, because the desktop build leaves numba and llvmlite out.

`import whisper` (the app uses openai-whisper's encoder, ModelDimensions and mel filters) imports
whisper/timing.py, which compiles two functions with `@numba.jit(nopython=True)` and
`@numba.jit(nopython=True, parallel=True)`: the dynamic time warping behind openai-whisper's word
timestamps. The app's words use faster-whisper by default, and numba with llvmlite is 174 MiB, so neither
is bundled. The placeholder's `jit` hands the function back uncompiled, so that DTW still runs, as plain
Python: the same result, only slower (tests/app/test_installer_words.py compares it with numba). Any other
use of numba gets a RuntimeError saying why. Registered only when numba is not bundled.
"""

import importlib.util
import sys
import types


def _jit(*args, **options):
    """numba.jit in both its forms, `@jit` and `@jit(signature, nopython=..., parallel=...)`: no compiling."""
    if len(args) == 1 and callable(args[0]) and not options:
        return args[0]
    return lambda function: function


class _NumbaLeftOut(types.ModuleType):
    def __init__(self, name: str):
        super().__init__(name)
        self.jit = _jit

    def __getattr__(self, name: str):
        if name.startswith("__"):  # introspection (copy, pickle, inspect) sees an ordinary module
            raise AttributeError(name)
        raise RuntimeError(f"numba.{name}: numba is not part of the StutterScope desktop build (only "
                           "openai-whisper's word timing used it, and there numba.jit runs the plain Python)")


if "numba" not in sys.modules and importlib.util.find_spec("numba") is None:
    sys.modules["numba"] = _NumbaLeftOut("numba")
