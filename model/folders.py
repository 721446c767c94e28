"""Where StutterScope keeps things on the user's machine, and every STUTTERSCOPE_* variable that moves them.

| variable | what | default (platformdirs) |
|---|---|---|
| `STUTTERSCOPE_DATA_DIR` | patient records and copied recordings | `user_data_dir("StutterScope")` |
| `STUTTERSCOPE_LOG_DIR` | the app's rotating log | `user_log_dir("StutterScope")` |
| `STUTTERSCOPE_CACHE_DIR` | rebuilt Whisper checkpoints (`whisper/`), training feature caches (`features/`) | `user_cache_dir("StutterScope")` |
| `STUTTERSCOPE_MODEL` | the model file used when none is chosen | `model/assets/default.safetensors` |
| `STUTTERSCOPE_ALLOW_DOWNLOAD` | `1`: openai-whisper may download the weights (off: nothing goes online) | unset |
| `STUTTERSCOPE_SELFTEST_OUT` | where `--self-test` also writes its JSON result | unset |

The README lists the same table. Build-time and test-only variables (`STUTTERSCOPE_BUILD_MODEL`,
`STUTTERSCOPE_SHARED_DATA`) belong to installer/ and tests/ and are documented there.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

APP_NAME = "StutterScope"  # the one spelling: window titles, folders, QSettings, reports

DATA_DIR_ENV = "STUTTERSCOPE_DATA_DIR"
LOG_DIR_ENV = "STUTTERSCOPE_LOG_DIR"
CACHE_DIR_ENV = "STUTTERSCOPE_CACHE_DIR"
MODEL_ENV = "STUTTERSCOPE_MODEL"
DOWNLOAD_ENV = "STUTTERSCOPE_ALLOW_DOWNLOAD"
SELFTEST_OUT_ENV = "STUTTERSCOPE_SELFTEST_OUT"
_OLD_CACHE_ENV = "STUTTERSCOPE_CACHE"  # the feature caches' own variable before CACHE_DIR_ENV covered them
_OLD_CACHE_NAME = "stutterscope"  # the cache folder's spelling before APP_NAME was used everywhere


def _override(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    """Patient records and copied recordings (not created here: app.records.paths makes it owner-only)."""
    from platformdirs import user_data_dir

    return _override(DATA_DIR_ENV) or Path(user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    """The app's log folder."""
    from platformdirs import user_log_dir

    return _override(LOG_DIR_ENV) or Path(user_log_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Rebuildable files: `whisper/` (rebuilt checkpoints) and `features/` (training caches)."""
    from platformdirs import user_cache_dir

    override = _override(CACHE_DIR_ENV)
    if override is None and _override(_OLD_CACHE_ENV) is not None:
        warnings.warn(f"{_OLD_CACHE_ENV} is read as {CACHE_DIR_ENV}; set {CACHE_DIR_ENV} instead",
                      DeprecationWarning, stacklevel=2)
        override = _override(_OLD_CACHE_ENV)
    if override is not None:
        return override
    folder = Path(user_cache_dir(APP_NAME, appauthor=False))
    legacy = folder.with_name(_OLD_CACHE_NAME)
    # Caches made before the spelling was one (case-sensitive file systems) are still found, not rebuilt.
    return legacy if not folder.exists() and legacy.is_dir() else folder


def model_override() -> Path | None:
    """The model file STUTTERSCOPE_MODEL names, if set."""
    return _override(MODEL_ENV)


ASSETS_DIR = Path(__file__).resolve().parent / "assets"  # the bundled model file's folder
DEFAULT_MODEL_FILE = "default.safetensors"


def default_model_path() -> Path:
    """The bundled default model; STUTTERSCOPE_MODEL overrides it. Here, not in model.encoder.bundle, so that
    asking where the model is (the app does at start) does not import torch (6 s on 2 cores)."""
    return model_override() or ASSETS_DIR / DEFAULT_MODEL_FILE


def download_allowed() -> bool:
    """Whether STUTTERSCOPE_ALLOW_DOWNLOAD=1 lets openai-whisper download weights."""
    return os.environ.get(DOWNLOAD_ENV, "") == "1"


def selftest_out() -> Path | None:
    """Where the self-test also writes its JSON result, if STUTTERSCOPE_SELFTEST_OUT is set."""
    return _override(SELFTEST_OUT_ENV)
