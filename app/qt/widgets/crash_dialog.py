"""The dialog shown for an uncaught error: what happened, and where the log with the details is."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox


def crash_text(summary: str, log_path: Path | None) -> str:
    where = f"The details are in the log:\n{log_path}" if log_path else "No log file could be written."
    return (f"StutterScope hit an unexpected error:\n\n{summary}\n\n{where}\n\n"
            "Your recordings and saved sessions are not affected. Please send the log with a report.")


def show_crash_dialog(summary: str, log_path: Path | None) -> None:
    if QApplication.instance() is None:
        return
    box = QMessageBox(QMessageBox.Icon.Critical, "StutterScope: unexpected error", crash_text(summary, log_path))
    box.setTextInteractionFlags(box.textInteractionFlags())
    box.exec()
