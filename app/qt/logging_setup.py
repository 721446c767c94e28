"""A rotating log in the user's log folder, and the hook that turns an uncaught error into a dialog.

The crash dialog itself is a widget (app.qt.widgets.crash_dialog); this module only routes to it,
so that it can be tested without one.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from .settings import log_dir

LOG_FILE = "stutterscope.log"
MAX_BYTES = 2_000_000  # per file; with 5 backups the log never passes ~12 MB
BACKUPS = 5
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"


def setup_logging(folder: Path | None = None, *, level: int = logging.INFO) -> Path:
    """Log to a rotating file (and stderr for warnings); returns the log file's path. Safe to call twice."""
    folder = folder or log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    root = logging.getLogger()
    root.setLevel(min(root.level or level, level))
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler) and Path(handler.baseFilename) == path:
            return path
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    logging.captureWarnings(True)
    return path


def current_log_file() -> Path | None:
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return Path(handler.baseFilename)
    return None


def install_excepthook(show: Callable[[str, Path | None], None]) -> None:
    """Uncaught exceptions are logged in full and `show(summary, log_path)` tells the user where."""
    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        logging.getLogger("stutterscope.crash").critical(
            "uncaught error\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        show(f"{exc_type.__name__}: {exc}", current_log_file())

    sys.excepthook = hook
