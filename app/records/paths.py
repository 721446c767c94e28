"""Where the records live: the user's data folder, overridable for tests and portable installs."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "StutterScope"
DATA_DIR_ENV = "STUTTERSCOPE_DATA_DIR"  # set to keep the records somewhere else (tests, a USB stick)
DATABASE_NAME = "stutterscope.sqlite3"
RECORDINGS_FOLDER = "recordings"  # copied recordings, next to the database


def data_dir() -> Path:
    """The folder holding the database and copied recordings (created owner-only when missing)."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        folder = Path(override).expanduser()
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir(APP_NAME, appauthor=False))
    ensure_private_dir(folder)
    return folder


def database_path() -> Path:
    return data_dir() / DATABASE_NAME


def recordings_dir(database: Path) -> Path:
    """The folder for copied recordings of the database at `database` (created owner-only)."""
    folder = Path(database).parent / RECORDINGS_FOLDER
    ensure_private_dir(folder)
    return folder


def ensure_private_dir(folder: Path) -> None:
    # Patient data: a new folder is readable by its owner only; an existing one is left as the user set it.
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
