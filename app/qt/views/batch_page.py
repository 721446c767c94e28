"""The Batch page: assess every recording in a folder with model.pipeline.assess (the code `stutterscope assess` runs),
with progress, Cancel, a row per recording (errors shown per file) and CSV export. Resumable: run the same
folder into the same output folder again and finished recordings are taken from the earlier run.

Results go where the user chooses; by default into `<folder>-results` beside the recordings folder, never
into it (a folder of recordings may be read-only, synced or shared, and is the clinician's, not ours). A
folder assessed before this default keeps resuming from its `<folder>/stutterscope-assess`."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.qt.widgets.dialogs import Dialogs
from app.qt.workers import Job

log = logging.getLogger(__name__)

RESULTS_SUFFIX = "-results"  # default results folder: `<recordings folder>-results`, beside it
LEGACY_OUT_FOLDER = "stutterscope-assess"  # where results went before, inside the recordings folder
COLUMNS = ("Recording", "Status", "Minutes", "SLD/min", "Interj./min", "Top-3 SLD mean (s)", "Error or note")


def default_results_folder(folder: Path) -> Path:
    """`<folder>-results` beside folder; a folder assessed into the old place inside it keeps resuming there."""
    legacy = folder / LEGACY_OUT_FOLDER
    if (legacy / "results.json").is_file():
        return legacy
    return folder.with_name(folder.name + RESULTS_SUFFIX)


def _number(summary: dict, key: str, scale: float, digits: int) -> str:
    value = summary.get(key)
    return f"{value / scale:.{digits}f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""


def result_row(r: dict, folder: Path | None = None) -> list[str]:
    """A table row from one model.pipeline.assess result (as in results.json); a flagged or partial one has blanks."""
    s = r.get("summary") or {}
    path = Path(str(r.get("path", "")))
    name = str(path.relative_to(folder)) if folder is not None and path.is_relative_to(folder) else path.name
    # A recording with too little speech has its duration only: it is flagged, not scored.
    return [name, str(r.get("status", "")), _number(s, "duration", 60, 1), _number(s, "sld_per_minute", 1, 2),
            _number(s, "interjection_per_minute", 1, 2), _number(s, "longest3_mean", 1, 1),
            str(r.get("error") or r.get("warning") or "")]


class _Relay(QObject):
    """Carries assess's per-file progress from the worker thread to the GUI thread (queued)."""

    file_done = Signal(int, int, str)


class BatchPage(QWidget):
    def __init__(self, predictor_factory: Callable[[], object], *, dialogs: Dialogs | None = None,
                 parent: QWidget | None = None):
        """predictor_factory() returns a model.pipeline.inference.Predictor; it is called in the worker (loading is slow)."""
        super().__init__(parent)
        self.predictor_factory = predictor_factory
        self.dialogs = dialogs or Dialogs(self)
        self.job: Job | None = None
        self.folder: Path | None = None
        self.out_dir: Path | None = None
        self.results: list[dict] = []
        self._relay = _Relay(self)
        self._relay.file_done.connect(self._file_done)
        self.folder_edit = QLineEdit(placeholderText="Folder of recordings")
        self.results_edit = QLineEdit(placeholderText=f"Results folder (default: beside it, <folder>{RESULTS_SUFFIX})")
        self.status = QLabel("Choose a folder of recordings.")
        self.bar = QProgressBar()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.choose_button = QPushButton("Choose folder…")
        self.results_button = QPushButton("Results folder…")
        self.start_button = QPushButton("Assess")
        self.cancel_button = QPushButton("Cancel")
        self.export_button = QPushButton("Export CSV…")
        self.choose_button.clicked.connect(self.choose_folder)
        self.results_button.clicked.connect(self.choose_results_folder)
        self.start_button.clicked.connect(lambda: self.start(self.folder_edit.text()))
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button.clicked.connect(self.ask_export)
        self._layout()
        self._set_running(False)

    def _layout(self) -> None:
        top, results = QHBoxLayout(), QHBoxLayout()
        for w in (self.folder_edit, self.choose_button, self.start_button, self.cancel_button, self.export_button):
            top.addWidget(w)
        for w in (self.results_edit, self.results_button):
            results.addWidget(w)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(results)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.table)

    def _set_running(self, running: bool) -> None:
        for w in (self.folder_edit, self.choose_button, self.start_button, self.results_edit, self.results_button):
            w.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running and bool(self.results))

    # ---- running -------------------------------------------------------------------------------------
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of recordings", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)
            self.start(folder)

    def choose_results_folder(self) -> None:
        start = self.results_edit.text() or self.folder_edit.text()
        folder = QFileDialog.getExistingDirectory(self, "Choose where the results go", start)
        if folder:
            self.results_edit.setText(folder)

    def start(self, folder: str | Path, *, out_dir: str | Path | None = None) -> Job | None:
        """Assess folder's recordings into out_dir (default: the results field, else `<folder>-results`)."""
        folder = Path(folder).expanduser()
        if not folder.is_dir():
            self.dialogs.message("warning", f"{folder} is not a folder: choose the folder that holds the recordings.")
            return None
        out_dir = out_dir or self.results_edit.text().strip()
        self.folder = folder
        self.out_dir = Path(out_dir).expanduser() if out_dir else default_results_folder(folder)
        self.folder_edit.setText(str(folder))
        self.results = []
        self.table.setRowCount(0)
        self.bar.setValue(0)
        self.status.setText(f"Loading the model and listing {folder} …")
        self.job = Job(self._run, name="batch", parent=self)
        self.job.succeeded.connect(self._finished)
        self.job.failed.connect(self._failed)
        self.job.cancelled.connect(self._cancelled)
        self._set_running(True)
        return self.job.start()

    def _run(self, *, progress, cancel):
        # In the worker thread. A results folder chosen inside the recordings is skipped as input: assess
        # ignores nothing but hidden folders, so the recordings are listed here, outside it. A folder with
        # nothing else is passed as it is, so that assess gives it its "no audio files" row.
        from model.pipeline.assess import assess_paths, collect_recordings

        predictor = self.predictor_factory()
        out = self.out_dir.resolve()
        paths = [p for p in collect_recordings([self.folder]) if not p.resolve().is_relative_to(out)] or [self.folder]

        def file_done(done: int, total: int, path: str) -> None:
            progress(done / max(total, 1))
            self._relay.file_done.emit(done, total, path)

        return assess_paths(paths, self.out_dir, predictor=predictor, progress=file_done, cancel=cancel)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling after the current recording …")

    # ---- results (GUI thread) ------------------------------------------------------------------------
    def _load_results(self) -> None:
        # assess rewrites results.json (atomically) after every recording, before it reports progress.
        path = self.out_dir / "results.json"
        try:
            rows = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
            if isinstance(rows, list):
                self.results = [r for r in rows if isinstance(r, dict)]
        except (OSError, ValueError) as e:  # the table keeps what it showed; the run's own report follows
            log.warning("could not read %s: %s", path, e)
        self._show_results()

    def _show_results(self) -> None:
        self.table.setRowCount(len(self.results))
        for r, result in enumerate(self.results):
            for c, text in enumerate(result_row(result, self.folder)):
                item = QTableWidgetItem(text)
                if result.get("status") == "error":
                    item.setForeground(QColor("#b00020"))
                self.table.setItem(r, c, item)
            self.table.item(r, 0).setToolTip(str(result.get("path", "")))

    def _file_done(self, done: int, total: int, path: str) -> None:
        self.bar.setValue(round(100 * done / max(total, 1)))
        self.status.setText(f"{done} of {total}: {Path(path).name}")
        self._load_results()

    def _finished(self, report) -> None:
        self.results = [r.__dict__ for r in report.results]
        self._show_results()
        self.bar.setValue(100)
        self.status.setText(f"{len(self.results)} recordings: {report.n_failed} failed, {report.n_cached} from an "
                            f"earlier run. Results in {self.out_dir}")
        self._set_running(False)

    def _failed(self, text: str) -> None:
        self._load_results()
        self.status.setText(f"Stopped: {text}")
        self._set_running(False)
        self.dialogs.message("error", text)

    def _cancelled(self) -> None:
        self._load_results()
        self.status.setText(f"Cancelled after {len(self.results)} recordings; assess the folder again to resume.")
        self._set_running(False)

    # ---- export --------------------------------------------------------------------------------------
    def ask_export(self) -> None:
        path = self.dialogs.save_path("Export the batch results", "summary.csv", "CSV (*.csv)")
        if path:
            try:
                self.export_csv(path)
            except (ValueError, OSError) as e:
                self.dialogs.message("error", f"The results could not be exported: {e}")

    def export_csv(self, path: str | Path) -> Path:
        """Copy assess's summary.csv (one row per recording, errors included) to path."""
        from model.pipeline.assess import SUMMARY_CSV

        source = self.out_dir / SUMMARY_CSV if self.out_dir else None
        if source is None or not source.is_file():
            raise ValueError("no batch results yet: assess a folder first")
        shutil.copyfile(source, path)
        return Path(path)
