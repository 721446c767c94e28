"""Where the records live: the user's data folder, overridable for tests and portable installs."""

from __future__ import annotations

from pathlib import Path

from model import folders

DATABASE_NAME = "stutterscope.sqlite3"
RECORDINGS_FOLDER = "recordings"  # copied recordings, next to the database


def data_dir() -> Path:
    """The folder holding the database and copied recordings (created owner-only when missing)."""
    # STUTTERSCOPE_DATA_DIR keeps the records somewhere else (tests, a USB stick): model.folders.
    folder = folders.data_dir()
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
