"""The main window: an Analysis page (waveform, timeline, events, summary, sensitivity) and room for more.

Other pages (patients and sessions, progress, batch) come in with one call each:
`window.add_page("Patients", PatientsPage(...))`. They reach the analysis on screen through
`window.current_analysis` (path, predictions, review).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from model.audio import is_audio_file
from model.folders import APP_NAME

from . import exports, wavstream
from .about import about_html
from .controller import AnalysisController, model_file, model_problem
from .player import Player
from .recorder import QtMicrophoneSource, Recorder, microphone_permission_denied, microphones
from .settings import AppSettings, microphone_dir, save_settings
from .state import AnalysisState, CurrentAnalysis
from .widgets.dialogs import Dialogs
from .widgets.event_dialog import EventDialog
from .widgets.events_table import EventsTable
from .widgets.record_dialog import RecordDialog
from .widgets.sensitivity import SensitivityPanel
from .widgets.settings_dialog import SettingsDialog
from .widgets.summary import SummaryPanel
from .widgets.waveform import TimelineView, WaveformView

log = logging.getLogger(__name__)

ZOOM_STEP = 0.5
NEW_EVENT_SECONDS = 1.0  # an added event's length when nothing marks its end


class AnalysisPage(QWidget):
    def __init__(self, state: AnalysisState, parent=None):
        super().__init__(parent)
        self.banner = QLabel("Open a recording (Ctrl+O), drop one here, or record one (Ctrl+R).")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.waveform = WaveformView(state)
        self.timeline = TimelineView(state)
        self.timeline.setXLink(self.waveform)
        self.table = EventsTable(state)
        self.summary = SummaryPanel(state)
        self.sensitivity = SensitivityPanel(state)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.waveform)
        plots.addWidget(self.timeline)
        plots.setSizes([300, 170])
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.summary)
        side_layout.addWidget(self.sensitivity)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.table)
        lower.addWidget(side)
        lower.setSizes([700, 420])
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(plots)
        main.addWidget(lower)
        main.setSizes([480, 360])
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(main, 1)


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings, *, store=None, dialogs: Dialogs | None = None, player: Player | None = None,
                 source_factory=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.settings = settings
        self.store = store  # QSettings, or None to keep settings in memory only (tests)
        self.dialogs = dialogs or Dialogs(self)
        self.state = AnalysisState(self)
        self.controller = AnalysisController(self.state, settings, self)
        self.player = player or Player(self.state, self)
        self.source_factory = source_factory or (lambda device_id: QtMicrophoneSource(device_id))
        self.recorder = Recorder(microphone_dir(), self)
        self.page = AnalysisPage(self.state)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.page, "&Analysis")
        self.setCentralWidget(self.tabs)
        self.setAcceptDrops(True)
        self._build_status_bar()
        self._build_actions()
        self._connect()
        self._update_actions()
        self._show_model_problem()
        self.records = self._add_records_pages()

    def _add_records_pages(self):
        """Patients & sessions and batch folders; the analysis page works even if the database cannot open."""
        from app.records.db import open_database
        from app.views.batch_page import BatchPage
        from app.views.patients_page import PatientsPage
        from app.views.records_state import RecordsState

        self.add_page("&Batch", BatchPage(self.controller.get_predictor, dialogs=self.dialogs))
        try:
            records = RecordsState(open_database(), self)
        except RuntimeError as e:
            self.dialogs.message("error", f"The patient records could not be opened: {e}")
            return None
        self.add_page("&Patients", PatientsPage(records, analysis=lambda: self.current_analysis, dialogs=self.dialogs))
        return records

    # ---- extension points --------------------------------------------------------------------
    def add_page(self, title: str, widget: QWidget) -> int:
        """Add a page (a tab) to the window; returns its index."""
        return self.tabs.addTab(widget, title)

    @property
    def current_analysis(self) -> CurrentAnalysis | None:
        """The recording on screen, the model's output and the clinician's review; None before an analysis."""
        return self.state.current_analysis

    # ---- building ----------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.status_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(240)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.controller.cancel)
        bar = self.statusBar()
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _action(self, menu, text: str, slot, shortcut=None, *, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip or text.replace("&", ""))
        action.triggered.connect(slot)
        menu.addAction(action)
        self.addAction(action)  # shortcuts work wherever the focus is in the window
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self.open_action = self._action(file, "&Open recording…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.record_action = self._action(file, "&Record…", self.record, "Ctrl+R")
        self.analyse_action = self._action(file, "&Analyse again", self.controller.analyse, "F5")
        self.cancel_action = self._action(file, "&Cancel analysis", self.controller.cancel, "Escape")
        export = file.addMenu("&Export reviewed events")
        self.export_actions = {fmt: self._action(export, title.split(" (")[0] + "…", lambda _=False, f=fmt: self.export(f))
                               for fmt, (_suffix, title) in exports.EXPORT_FORMATS.items()}
        file.addSeparator()
        self._action(file, "&Settings…", self.edit_settings, "Ctrl+,")
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action(edit, "&Redo", self.redo, QKeySequence.StandardKey.Redo)
        review = bar.addMenu("&Review")
        self.accept_action = self._action(review, "&Accept event", lambda: self._on_selected("accept"), "A")
        self.reject_action = self._action(review, "&Reject event", lambda: self._on_selected("reject"), "R")
        retype = review.addMenu("Re&type as")
        self.retype_actions = [self._action(retype, label, lambda _=False, lab=label: self._on_selected("retype", lab),
                                            str(i + 1)) for i, label in enumerate(_labels())]
        self.adjust_action = self._action(review, "A&djust bounds…", self.adjust_selected, "D")
        self.add_action = self._action(review, "Add &missed event…", self.add_event, "Insert")
        self.clear_action = self._action(review, "&Clear decision", lambda: self._on_selected("clear_decision"), "C")
        play = bar.addMenu("&Play")
        self.play_action = self._action(play, "&Play / pause", self.player.toggle, "Space")
        self.play_event_action = self._action(play, "Play &event", self.play_selected, "E")
        self.next_action = self._action(play, "&Next event", lambda: self._step(1), "N")
        self.prev_action = self._action(play, "P&revious event", lambda: self._step(-1), "P")
        play.addSeparator()
        self._action(play, "Zoom &in", lambda: self.page.waveform.zoom(ZOOM_STEP), QKeySequence.StandardKey.ZoomIn)
        self._action(play, "Zoom &out", lambda: self.page.waveform.zoom(1 / ZOOM_STEP), QKeySequence.StandardKey.ZoomOut)
        self._action(play, "&Whole recording", self.page.waveform.fit, "0")
        self._action(play, "Scroll &left", lambda: self.page.waveform.scroll(-0.25), "Left")
        self._action(play, "Scroll r&ight", lambda: self.page.waveform.scroll(0.25), "Right")
        help_menu = bar.addMenu("&Help")
        self.about_action = self._action(help_menu, "&About StutterScope", self.show_about)

    def show_about(self) -> None:
        QMessageBox.about(self, "About StutterScope", about_html(model_file(self.settings)))

    def _connect(self) -> None:
        s = self.state
        s.busy_changed.connect(self._busy)
        s.progress_changed.connect(self._progress)
        s.events_changed.connect(self._update_actions)
        s.selection_changed.connect(lambda _key: self._update_actions())
        s.analysis_changed.connect(self._analysed)
        s.recording_changed.connect(self._recording)
        self.controller.message.connect(self.show_message)
        self.controller.model_needed.connect(self.choose_model)
        self.player.message.connect(lambda text: self.show_message("warning", text))
        self.page.table.play_requested.connect(self.player.play_event)

    # ---- state -> window ---------------------------------------------------------------------
    def show_message(self, level: str, text: str) -> None:
        log.log(logging.ERROR if level == "error" else logging.INFO, "message to user: %s", text)
        self.status_label.setText(text.splitlines()[0])
        if level in ("error", "warning"):
            self.dialogs.message(level, text)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self._update_actions()

    def _progress(self, fraction: float, what: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.status_label.setText(f"{what}… {100 * fraction:.0f} %")

    def _recording(self) -> None:
        path = self.state.path
        self.setWindowTitle(f"{path.name} - {APP_NAME}" if path else APP_NAME)

    def _analysed(self) -> None:
        review = self.state.review
        n = len(review.model_events) if review else 0
        self.page.banner.setText(f"{self.state.path.name}: {n} events found by model "
                                 f"{self.state.predictions.model_id[:12]}. Review them in the table "
                                 "(A accept, R reject, 1-5 retype, D adjust, Insert add; Space plays).")
        self.status_label.setText(f"Analysis done: {n} events")

    def _update_actions(self) -> None:
        review = self.state.review
        has_row = self.state.selected_row() is not None
        busy = self.state.busy
        for action in (self.accept_action, self.reject_action, self.adjust_action, self.clear_action,
                       self.play_event_action, *self.retype_actions):
            action.setEnabled(has_row)
        self.add_action.setEnabled(review is not None)
        for action in self.export_actions.values():
            action.setEnabled(review is not None)
        self.analyse_action.setEnabled(self.state.path is not None and not busy)
        self.cancel_action.setEnabled(busy)
        self.undo_action.setEnabled(bool(review and review.can_undo))
        self.redo_action.setEnabled(bool(review and review.can_redo))
        self.undo_action.setText(f"&Undo {review.undo_text}" if review and review.can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {review.redo_text}" if review and review.can_redo else "&Redo")

    def _show_model_problem(self) -> None:
        problem = model_problem(self.settings)
        if problem:
            self.page.banner.setText(problem)
            self.status_label.setText("No model file: analysis is unavailable until you choose one")

    # ---- opening, recording, settings --------------------------------------------------------
    def open_dialog(self) -> None:
        path = self.dialogs.open_recording(self.settings.last_folder)
        if path is not None:
            self.open_file(path)

    def open_file(self, path: str | Path, *, analyse: bool = True) -> None:
        path = Path(path)
        self._set_settings(replace(self.settings, last_folder=str(path.parent)))
        self.page.banner.setText(f"Reading {path.name}…")
        self.controller.open(path, analyse=analyse)

    def dragEnterEvent(self, event) -> None:
        if self._dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.open_file(path)

    @staticmethod
    def _dropped_file(event) -> Path | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
        return next((f for f in files if is_audio_file(f)), None)

    def record(self) -> None:
        if microphone_permission_denied():
            self.show_message("warning", "StutterScope may not use the microphone. Allow it in the system's "
                                         "privacy settings; opening recorded files works without it.")
            return
        dialog = RecordDialog(self.recorder, microphones(), self.source_factory,
                              device_id=self.settings.input_device, parent=self)
        self.record_dialog = dialog
        dialog.finished.connect(lambda _result: self._recorded(dialog))
        dialog.open()

    def _recorded(self, dialog: RecordDialog) -> None:
        self._set_settings(replace(self.settings, input_device=dialog.device_box.currentData() or ""))
        if dialog.path is not None and Path(dialog.path).is_file():
            self.open_file(dialog.path)

    def offer_recovery(self) -> list[Path]:
        """Recordings left unfinished by a crash: offer to repair and open them."""
        recovered = []
        for path in wavstream.find_unfinished(microphone_dir()):
            size_mb = path.stat().st_size / 1e6
            if self.dialogs.ask(f"A recording was interrupted ({path.name}, {size_mb:.1f} MB). Recover it?\n"
                                "No deletes it."):
                try:
                    recovered.append(wavstream.recover(path))
                except ValueError as e:
                    self.show_message("warning", str(e))
            else:
                wavstream.discard(path)
        if recovered:
            self.open_file(recovered[-1])
        return recovered

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            try:
                self._set_settings(dialog.settings())
            except ValueError as e:
                self.show_message("warning", str(e))

    def choose_model(self, problem: str) -> None:
        if not self.dialogs.ask(f"{problem}\n\nChoose a model file now?"):
            self.page.banner.setText(problem)
            return
        path = self.dialogs.open_model(str(Path(self.settings.model_path).parent) if self.settings.model_path else "")
        if path is not None:
            self._set_settings(replace(self.settings, model_path=str(path)))
            self.controller.analyse()

    def _set_settings(self, settings: AppSettings) -> None:
        self.settings = settings
        self.controller.set_settings(settings)
        if self.store is not None:
            save_settings(self.store, settings)

    # ---- review ------------------------------------------------------------------------------
    def _on_selected(self, method: str, *args) -> None:
        row = self.state.selected_row()
        review = self.state.review
        if row is None or review is None:
            return
        getattr(review, method)(row.key, *args)

    def adjust_selected(self) -> None:
        row = self.state.selected_row()
        if row is None or self.state.review is None:
            return
        dialog = EventDialog("Adjust bounds", self.state.review.labels, label=row.label, start=row.start,
                             end=row.end, duration=self.state.duration, parent=self, label_editable=False)
        if dialog.exec():
            _label, start, end = dialog.values()
            self._try(lambda: self.state.review.adjust(row.key, start, end))

    def add_event(self) -> None:
        review = self.state.review
        if review is None:
            return
        start = self.state.playhead
        dialog = EventDialog("Add a missed event", review.labels, label=review.labels[0], start=start,
                             end=min(start + NEW_EVENT_SECONDS, self.state.duration), duration=self.state.duration,
                             parent=self)
        if dialog.exec():
            label, start, end = dialog.values()
            self._try(lambda: self.state.select(review.add(label, start, end)))

    def _try(self, fn) -> None:
        try:
            fn()
        except ValueError as e:
            self.show_message("warning", str(e))

    def undo(self) -> None:
        if self.state.review is not None:
            self.state.review.undo()

    def redo(self) -> None:
        if self.state.review is not None:
            self.state.review.redo()

    # ---- listening ---------------------------------------------------------------------------
    def _step(self, step: int) -> None:
        row = self.state.select_step(step)
        if row is not None:
            self.state.set_playhead(row.start)

    def play_selected(self) -> None:
        if self.state.selected_key:
            self.player.play_event(self.state.selected_key)

    # ---- export ------------------------------------------------------------------------------
    def export(self, fmt: str, path: str | Path | None = None) -> Path | None:
        analysis = self.current_analysis
        if analysis is None:
            self.show_message("info", "Analyse a recording before exporting its events.")
            return None
        suffix, file_filter = exports.EXPORT_FORMATS[fmt]
        if path is None:
            path = self.dialogs.save_path("Export reviewed events", str(analysis.path.with_suffix(suffix)), file_filter)
            if path is None:
                return None
        review, preds = analysis.review, analysis.predictions
        try:
            out = exports.export_rows(fmt, path, review.rows(), recording=str(analysis.path), duration=preds.duration,
                                      model_id=preds.model_id, thresholds=review.thresholds, labels=review.labels,
                                      summary=review.summary().to_dict())
        except OSError as e:
            self.show_message("error", f"Could not write {path}: {e}")
            return None
        self.status_label.setText(f"Exported to {out}")
        return out

    # ---- closing -----------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.controller.cancel()
        self.player.stop()
        if self.recorder.recording:
            self.recorder.stop()
        if self.store is not None:
            save_settings(self.store, self.settings)
        if self.records is not None:
            self.records.db.close()
        super().closeEvent(event)


def _labels() -> tuple[str, ...]:
    from model.labels import LABELS

    return LABELS


def start_recovery_check(window: MainWindow) -> None:
    """After the window shows: the question about an interrupted recording comes on top of it."""
    QTimer.singleShot(0, window.offer_recovery)
