"""The app's settings (model file, device, window hop), persisted with QSettings, and its folders.

`AppSettings` is a plain frozen dataclass, so the rest of the app and the tests can use it
without Qt; only `load_settings` / `save_settings` touch QSettings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

from model import folders
from model.encoder.inference_options import InferenceOptions
from model.folders import APP_NAME

_RUN = InferenceOptions()  # the model run's defaults: one place for device, hop and batch size

ORGANIZATION = APP_NAME  # QSettings' folder: one spelling of the name (model.folders)
DEVICES = ("auto", "cpu", "cuda")
MICROPHONE_FOLDER = "microphone"  # recordings made in the app, inside the data folder


@dataclass(frozen=True)
class AppSettings:
    model_path: str = ""  # "" = the bundled default model
    device: str = _RUN.device  # "auto" (CUDA when present), "cpu" or "cuda"
    hop_seconds: float = _RUN.hop_seconds  # step between the 3 s analysis windows
    batch_size: int = _RUN.batch_size  # windows per forward pass
    input_device: str = ""  # microphone id ("" = the system default)
    last_folder: str = ""  # where the open dialog starts
    show_spectrogram: bool = False  # under the waveform; off: at 720 px the table and words need the room
    show_pitch: bool = True  # the blue F0 line on the spectrogram (views of 10 s or less), on as in Praat

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, not {self.device!r}")
        if not 0.25 <= self.hop_seconds <= 3.0:
            raise ValueError(f"the window hop must be between 0.25 and 3 s, not {self.hop_seconds}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {self.batch_size}")


def load_settings(store) -> AppSettings:
    """Read from a QSettings; a bad or missing value falls back to its default."""
    defaults = AppSettings()
    values = {}
    for f in fields(AppSettings):
        raw = store.value(f.name, None)
        if raw is None:
            continue
        default = getattr(defaults, f.name)
        try:
            values[f.name] = _as_bool(raw) if isinstance(default, bool) else type(default)(raw)
        except (TypeError, ValueError):
            continue
    try:
        return replace(defaults, **values)
    except ValueError:
        return defaults  # a hand-edited settings file with a bad value: start from the defaults


def _as_bool(raw) -> bool:
    """QSettings' INI files give "true"/"false" back as text, and bool("false") is True."""
    if isinstance(raw, bool):
        return raw
    if str(raw).lower() in ("true", "1"):
        return True
    if str(raw).lower() in ("false", "0"):
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


def save_settings(store, settings: AppSettings) -> None:
    for f in fields(AppSettings):
        store.setValue(f.name, getattr(settings, f.name))
    store.sync()


def open_store(path: str | Path | None = None):
    """The app's QSettings; a path gives an INI file (tests), None the platform's usual place."""
    from PySide6.QtCore import QSettings

    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORGANIZATION, APP_NAME)


def log_dir() -> Path:
    """The log folder; STUTTERSCOPE_LOG_DIR moves it (model.folders)."""
    return folders.log_dir()


def microphone_dir() -> Path:
    from app.records.paths import data_dir, ensure_private_dir

    folder = data_dir() / MICROPHONE_FOLDER
    ensure_private_dir(folder)
    return folder
