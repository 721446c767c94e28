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
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from model.audio.decode import is_audio_file
from model.folders import APP_NAME
from model.measures.speakers import MEASURED as SPEAKERS_MEASURED

from .. import exports, wavstream
from ..about import about_html
from ..clinical import CLINICAL_FORMATS, ClinicalData, write_clinical
from ..drafts import DRAFTS_FOLDER, DamagedDraft, Draft, DraftStore, recording_id
from .clinical_state import ClinicalState
from .controller import AnalysisController, model_file, model_problem
from .player import Player
from .recorder import QtMicrophoneSource, Recorder, microphone_permission_denied, microphones
from .settings import AppSettings, microphone_dir, save_settings
from .state import AnalysisState, CurrentAnalysis
from .widgets.dialogs import Dialogs
from .widgets.event_dialog import EventDialog
from .widgets.events_table import EventsTable
from .widgets.exclude_drag import MARK_KEY, ExcludeDrag
from .widgets.legend import TypeLegend
from .widgets.record_dialog import RecordDialog
from .widgets.sensitivity import SensitivityPanel
from .widgets.settings_dialog import SettingsDialog
from .widgets.shortcuts_dialog import ShortcutsDialog
from .widgets.spectrogram_view import SpectrogramView
from .widgets.summary import SummaryPanel
from .widgets.transcript import TranscriptPane
from .widgets.transport import TransportBar
from .widgets.waveform import TimelineView, WaveformView

log = logging.getLogger(__name__)

ZOOM_STEP = 0.5
# Where the keyboard is must show: plots, table and sliders draw a blue frame (or tint) when focused.
FOCUS_STYLE = """
#events_table:focus { border: 2px solid #1565c0; }
QSlider:focus { background: #d6e6fb; }
"""
# pyqtgraph gives its views their own "border: 0px" style, which wins over the page's: set theirs.
PLOT_FOCUS_STYLE = "QGraphicsView { border: 2px solid transparent; } QGraphicsView:focus { border: 2px solid #1565c0; }"
MIN_WINDOW = (1024, 640)  # smallest window size the layout holds at (README "Window size"); 1280x720 and up is the aim
SPECTROGRAM_KEY = "Ctrl+Shift+S"  # S for spectrogram; the app has no Save As to clash with
# Said after "Find the speakers": the stretches are a proposal (model.measures.speakers.MEASURED), never checked.
SPEAKERS_PROPOSED_TEXT = ("Speakers proposed automatically (the client is voice {voice} of {voices}): check the grey "
                          "bands ({n} stretches marked not the client). Review > The other voice is the client "
                          "swaps them, a right-click on the waveform picks the voice there; Ctrl+Z takes them back.")
NEW_EVENT_SECONDS = 1.0  # an added event's length when nothing marks its end


class AnalysisPage(QWidget):
    def __init__(self, state: AnalysisState, parent=None):
        super().__init__(parent)
        self.banner = QLabel("Open a recording (Ctrl+O), drop one here, or record one (Ctrl+R).")
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.waveform = WaveformView(state)
        self.waveform.setMinimumHeight(120)
        self.timeline = TimelineView(state)
        self.timeline.setMinimumHeight(90)
        self.timeline.setXLink(self.waveform)
        self.legend = TypeLegend(_labels())
        self.table = EventsTable(state)
        self.table.setMinimumHeight(100)
        self.summary = SummaryPanel(state)
        self.sensitivity = SensitivityPanel(state)
        self.spectrogram = SpectrogramView(state, self.waveform)  # shown by View > Spectrogram
        self.spectrogram.setMinimumHeight(90)
        self.spectrogram.setVisible(False)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.waveform)
        plots.addWidget(self.spectrogram)
        plots.addWidget(self.timeline)
        plots.setSizes([5, 4, 3])  # proportions: QSplitter scales them to the space it gets
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.summary)
        side_layout.addWidget(self.sensitivity)
        # Scrolls when the window is short, instead of squeezing the waveform to a sliver.
        self.side = QScrollArea()
        self.side.setWidget(side)
        self.side.setWidgetResizable(True)
        self.side.setMinimumWidth(360)
        self.side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.table)
        lower.addWidget(self.side)
        lower.setStretchFactor(0, 3)
        lower.setStretchFactor(1, 2)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(plots)
        main.addWidget(lower)
        main.setSizes([11, 9])  # the table and summary keep room at 720 px
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 2)
        self.splitter = main  # the window adds the transcript pane between the plots and the table
        for plot in (self.waveform, self.timeline):
            plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            plot.setStyleSheet(PLOT_FOCUS_STYLE)
        self.setStyleSheet(FOCUS_STYLE)
        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.legend)
        layout.addWidget(main, 1)


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings, *, store=None, dialogs: Dialogs | None = None, player: Player | None = None,
                 source_factory=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setMinimumSize(*MIN_WINDOW)
        self.settings = settings
        self.store = store  # QSettings, or None to keep settings in memory only (tests)
        self.dialogs = dialogs or Dialogs(self)
        self.state = AnalysisState(self)
        self.controller = AnalysisController(self.state, settings, self)
        self.player = player or Player(self.state, self)
        self.source_factory = source_factory or (lambda device_id: QtMicrophoneSource(device_id))
        self.recorder = Recorder(microphone_dir(), self)
        self.drafts = DraftStore(_data_dir() / DRAFTS_FOLDER)
        self._saved_review: dict | None = None  # the review as last saved (or as analysed): what "unsaved" means
        self._saved_clinical: dict = {}  # the words and not-the-client stretches as last saved (or as analysed)
        self._draft_written = False  # this window wrote the draft of the recording on screen
        self._pending: tuple[Path, str, object] | None = None  # (recording, "draft"/"session", it): after analysis
        self.page = AnalysisPage(self.state)
        self.clinical = ClinicalState(self.state, self)
        self.transcript = TranscriptPane(self.state, self.clinical)
        self.page.splitter.insertWidget(1, self.transcript)
        self.page.splitter.setSizes([10, 3, 8])  # a few lines of words: the table and summary keep their room
        self.page.splitter.setStretchFactor(1, 1)
        self.exclude_drag = ExcludeDrag(self.page.waveform, self.clinical)
        self.transport = TransportBar(self.state, self.player)
        self.page.layout().insertWidget(2, self.transport)  # under the legend, over the waveform
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
        self.patients_page = None
        self.records = self._add_records_pages()

    def _add_records_pages(self):
        """Patients & sessions and batch folders; the analysis page works even if the database cannot open."""
        from app.qt.views.batch_page import BatchPage
        from app.qt.views.patients_page import PatientsPage
        from app.qt.views.records_state import RecordsState
        from app.records.db import open_database

        self.add_page("&Batch", BatchPage(self.controller.get_predictor, dialogs=self.dialogs))
        try:
            records = RecordsState(open_database(), self)
        except RuntimeError as e:
            self.dialogs.message("error", f"The patient records could not be opened: {e}")
            return None
        self.patients_page = PatientsPage(records, analysis=lambda: self.current_analysis, dialogs=self.dialogs,
                                          open_session=self.open_session)
        self.patients_page.analysis_saved.connect(self._saved_as_session)
        self.add_page("Pa&tients", self.patients_page)
        return records

    # ---- extension points --------------------------------------------------------------------
    def add_page(self, title: str, widget: QWidget) -> int:
        """Add a page (a tab) to the window; returns its index."""
        return self.tabs.addTab(widget, title)

    @property
    def current_analysis(self) -> CurrentAnalysis | None:
        """The recording on screen, the model's output and the clinician's review; None before an analysis."""
        current = self.state.current_analysis
        return None if current is None else replace(current, clinical=self.clinical.data.to_dict())

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
        export = file.addMenu("&Export counted events")
        self.export_actions = {fmt: self._action(export, title.split(" (")[0] + "…", lambda _=False, f=fmt: self.export(f))
                               for fmt, (_suffix, title) in exports.EXPORT_FORMATS.items()}
        words_menu = file.addMenu("Export &words and moments")
        self.clinical_export_actions = {
            fmt: self._action(words_menu, text, lambda _=False, f=fmt: self.export_clinical(f))
            for fmt, text in (("textgrid", "&TextGrid (Praat)…"), ("eaf", "&ELAN (.eaf)…"),
                              ("words_csv", "Per-word &CSV…"))}
        self.event_audio_action = self._action(file, "Export event a&udio…", lambda: self.export_event_audio(),
                                               tip="The selected event's audio as a WAV file")
        file.addSeparator()
        self._action(file, "&Settings…", self.edit_settings, "Ctrl+,")
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        self.undo_action = self._action(edit, "&Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action(edit, "&Redo", self.redo, QKeySequence.StandardKey.Redo)
        view = bar.addMenu("&View")
        self.spectrogram_action = self._action(view, "&Spectrogram under the waveform", self.show_spectrogram,
                                               SPECTROGRAM_KEY, tip="Tells a silent block from a pause; kept on or off")
        self.spectrogram_action.setCheckable(True)
        self.spectrogram_action.setChecked(self.settings.show_spectrogram)
        self.page.spectrogram.set_shown(self.settings.show_spectrogram)
        self.pitch_action = self._action(view, "&Pitch on the spectrogram", self.show_pitch,
                                         tip="Praat's blue F0 line, 75-500 Hz, in views of 10 s or less")
        self.pitch_action.setCheckable(True)
        self.pitch_action.setChecked(self.settings.show_pitch)
        self.page.spectrogram.set_pitch_shown(self.settings.show_pitch)
        review = bar.addMenu("&Review")
        self.accept_action = self._action(review, "&Accept event", lambda: self._on_selected("accept"), "A")
        self.reject_action = self._action(review, "&Reject event", lambda: self._on_selected("reject"), "R")
        retype = review.addMenu("Re&type as")
        self.retype_actions = [self._action(retype, label, lambda _=False, lab=label: self._on_selected("retype", lab),
                                            str(i + 1)) for i, label in enumerate(_labels())]
        self.adjust_action = self._action(review, "A&djust bounds…", self.adjust_selected, "D")
        self.add_action = self._action(review, "Add &missed event…", self.add_event, "Insert")
        self.clear_action = self._action(review, "&Clear decision", lambda: self._on_selected("clear_decision"), "C")
        self.exclude_action = self._action(review, "Mark &not the client (drag on the waveform)",
                                           self.exclude_drag.set_enabled, "X",
                                           tip="Drag over the interviewer's or a parent's speech: the measures leave it out")
        self.exclude_action.setCheckable(True)
        self.mark_stretch_action = self._action(
            review, "Not the client: &start / end a stretch at the playhead", self.mark_stretch, MARK_KEY,
            tip="Press at the stretch's start and again at its end: the counts leave it out; Ctrl+Z undoes it")
        self.find_speakers_action = self._action(
            review, "Find the s&peakers (propose not the client)", self.clinical.find_speakers,
            tip="The voice with the most speech is proposed as the client, the other's stretches marked grey: "
                f"a proposal to check ({SPEAKERS_MEASURED}); Ctrl+Z undoes it")
        self.swap_speakers_action = self._action(
            review, "The &other voice is the client", self.clinical.swap_speakers,
            tip="Swap the proposal: the other voice's stretches count, the first voice's are left out")
        self.client_here_action = self._action(
            review, "This &voice is the client (at the playhead)",
            lambda: self.clinical.client_at(self.state.playhead),
            tip="The voice speaking at the playhead is the client, every other voice's stretches are left out "
                "(also on the waveform's right-click menu); Ctrl+Z undoes it")
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
        self._action(play, "Scroll ri&ght", lambda: self.page.waveform.scroll(0.25), "Right")
        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self.about_action = self._action(help_menu, "&About StutterScope", self.show_about)

    def show_spectrogram(self, on: bool) -> None:
        self.page.spectrogram.set_shown(on)
        self.spectrogram_action.setChecked(on)
        if on != self.settings.show_spectrogram:
            self._set_settings(replace(self.settings, show_spectrogram=on))

    def show_pitch(self, on: bool) -> None:
        self.page.spectrogram.set_pitch_shown(on)
        self.pitch_action.setChecked(on)
        if on != self.settings.show_pitch:
            self._set_settings(replace(self.settings, show_pitch=on))

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()  # not modal: the list can stay open beside the review
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(self, "About StutterScope", about_html(model_file(self.settings)))

    def _connect(self) -> None:
        s = self.state
        s.busy_changed.connect(self._busy)
        s.progress_changed.connect(self._progress)
        s.events_changed.connect(self._update_actions)
        s.events_changed.connect(self._autosave)
        s.selection_changed.connect(lambda _key: self._update_actions())
        s.analysis_changed.connect(self._analysed)
        s.recording_changed.connect(self._recording)
        self.controller.message.connect(self.show_message)
        self.controller.model_needed.connect(self.choose_model)
        self.player.message.connect(lambda text: self.show_message("warning", text))
        self.page.table.play_requested.connect(self.player.play_event)
        self.transcript.word_clicked.connect(self.player.play_range)
        self.clinical.changed.connect(lambda: self.page.summary.show_measures(self.clinical.measures))
        self.clinical.message.connect(self.show_message)
        self.clinical.data_changed.connect(self._autosave)
        self.clinical.changed.connect(self._update_actions)  # a transcript correction: Undo names it
        self.clinical.speakers_running.connect(self._busy)
        self.clinical.speakers_progress.connect(lambda f: self._progress(f, "Finding the speakers"))
        self.clinical.speakers_proposed.connect(self._speakers_proposed)
        self.cancel_button.clicked.connect(self.clinical.cancel_speakers)
        self.cancel_action.triggered.connect(self.clinical.cancel_speakers)
        QApplication.instance().focusChanged.connect(self._update_actions)  # into or out of the transcript pane

    # ---- state -> window ---------------------------------------------------------------------
    def show_message(self, level: str, text: str) -> None:
        log.log(logging.ERROR if level == "error" else logging.INFO, "message to user: %s", text)
        self.status_label.setText(text.splitlines()[0])
        if level == "error" and self.page.banner.text().startswith("Reading "):
            self.page.banner.setText(f"Not opened. {text.splitlines()[0]}")  # "Reading ..." must not stay
        if level in ("error", "warning"):
            self.dialogs.message(level, text)

    def _busy(self, _busy: bool = False) -> None:
        busy = self.state.busy or self.clinical.finding_speakers  # the analysis, or finding the speakers
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self._update_actions()

    def _speakers_proposed(self) -> None:
        voices = sorted(self.clinical.speakers.speech_s)
        text = SPEAKERS_PROPOSED_TEXT.format(n=len(self.clinical.data.excluded), voices=len(voices),
                                             voice=voices.index(self.clinical.client) + 1)
        self.page.banner.setText(text)
        self.status_label.setText(text.split(":")[0])

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
        self._saved_review = review.to_dict() if review else None
        self._saved_clinical = self.clinical.data.to_dict()
        self._draft_written = False
        self._restore_pending()

    def _update_actions(self) -> None:
        review = self.state.review
        has_row = self.state.selected_row() is not None
        busy = self.state.busy
        for action in (self.accept_action, self.reject_action, self.adjust_action, self.clear_action,
                       self.play_event_action, self.event_audio_action, *self.retype_actions):
            action.setEnabled(has_row)
        self.add_action.setEnabled(review is not None)
        for action in self.export_actions.values():
            action.setEnabled(review is not None)
        self.analyse_action.setEnabled(self.state.path is not None and not busy)
        self.cancel_action.setEnabled(busy or self.clinical.finding_speakers)
        self.find_speakers_action.setEnabled(self.state.path is not None and not self.clinical.finding_speakers)
        self.swap_speakers_action.setEnabled(self.clinical.speakers is not None)
        self.client_here_action.setEnabled(self.state.path is not None)  # before the speakers: it says to find them
        undo, redo = self._history(), self._history(redo=True)
        self.undo_action.setEnabled(bool(undo and undo.can_undo))
        self.redo_action.setEnabled(bool(redo and redo.can_redo))
        self.undo_action.setText(f"&Undo {undo.undo_text}" if undo and undo.can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {redo.redo_text}" if redo and redo.can_redo else "&Redo")

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

    def open_file(self, path: str | Path, *, analyse: bool = True) -> bool:
        """Open (and analyse) a recording; False when the clinician keeps the unsaved review instead."""
        path = Path(path)
        if not self._may_leave_review(f"open {path.name}"):
            return False
        self._set_settings(replace(self.settings, last_folder=str(path.parent)))
        self.page.banner.setText(f"Reading {path.name}…")
        self.controller.open(path, analyse=analyse)
        return True

    # ---- drafts and unsaved reviews ----------------------------------------------------------
    @property
    def unsaved(self) -> bool:
        """The review on screen differs from what was last saved as a session (or analysed)."""
        review = self.state.review
        return review is not None and (review.to_dict() != self._saved_review
                                       or self.clinical.data.to_dict() != self._saved_clinical)

    def _may_leave_review(self, doing: str) -> bool:
        if not self.unsaved:
            return True
        return self.dialogs.ask(f"The review of {self.state.path.name} is not saved as a session. "
                                f"{doing[0].upper()}{doing[1:]} anyway?\nIts draft is kept: opening the recording "
                                "again offers it.")

    def _autosave(self) -> None:
        review, path = self.state.review, self.state.path
        if review is None or path is None:
            return
        try:
            if self.unsaved:
                self.drafts.save(Draft(recording=str(path.resolve()), recording_id=self._recording_id(path),
                                       model_id=self.state.predictions.model_id, review=review.to_dict(),
                                       session_id=self.state.session_id, clinical=self.clinical.data.to_dict()))
                self._draft_written = True
            elif self._draft_written:
                self.drafts.discard(path)
                self._draft_written = False
        except OSError as e:  # a full disk must not stop the review; the status bar says the draft is not kept
            log.warning("draft of %s not written: %s", path, e)
            self.status_label.setText(f"The review's draft could not be written: {e}")

    @staticmethod
    def _recording_id(path: Path) -> str:
        try:
            return recording_id(path)
        except OSError:
            return ""

    def offer_drafts(self) -> bool:
        """At start: the newest draft left by a crash or a kill is offered; True when it is being opened."""
        drafts, damaged = self.drafts.scan()
        for problem in damaged:  # each set aside unchanged; the message says where
            self.show_message("warning", str(problem))
        if not drafts:
            return self._open_recording_of(damaged)
        draft = drafts[0]
        if not self.dialogs.ask(f"An unsaved review of {draft.name} ({draft.decisions} decisions, {draft.saved}) "
                                "was found. Open it and go on?\nNo deletes the draft."):
            self.drafts.discard(draft.recording)
            return False
        if not Path(draft.recording).is_file():
            self.show_message("warning", f"The recording of the draft is missing: {draft.recording}. The draft is "
                                         f"kept in {self.drafts.folder}; put the recording back to continue.")
            return False
        self._pending = (Path(draft.recording).resolve(), "draft", draft)
        return self.open_file(draft.recording)

    def _open_recording_of(self, damaged: list) -> bool:
        """What a damaged draft still gives: its recording, opened and analysed without the draft's decisions."""
        recordings = [d.recording for d in damaged if d.recording and Path(d.recording).is_file()]
        return bool(recordings) and self.open_file(recordings[0])

    def open_session(self, session) -> bool:
        """Show a stored session (app.records.sessions.Session) in the Analysis page to go on reviewing it."""
        recording = Path(session.recording)
        if not recording.is_file():
            self.show_message("warning", f"The session's recording is missing: {recording}")
            return False
        self._pending = (recording.resolve(), "session", session)
        if not self.open_file(recording):
            self._pending = None
            return False
        self.tabs.setCurrentWidget(self.page)
        return True

    def _restore_pending(self) -> None:
        path = self.state.path.resolve()
        pending, self._pending = self._pending, None
        if pending is not None and pending[0] == path and pending[1] == "session":
            self._restore_session(pending[2])
            return
        try:
            draft = pending[2] if pending is not None and pending[0] == path else self.drafts.load(path)
        except DamagedDraft as e:  # the recording and its analysis stay; the damaged file is kept
            self.show_message("warning", str(e))
            return
        if draft is None:
            return
        if pending is None and not self.dialogs.ask(
                f"A draft of the review of {draft.name} ({draft.decisions} decisions, {draft.saved}) exists. "
                "Go on with it?\nNo deletes the draft."):
            self.drafts.discard(path)
            return
        self._restore_draft(draft)

    def _restore_draft(self, draft: Draft) -> None:
        path, preds = self.state.path, self.state.predictions
        problem = None
        if draft.model_id != preds.model_id:
            problem = (f"the draft was made with model {draft.model_id[:12]}, this analysis used "
                       f"{preds.model_id[:12]}; choose that model in Settings and open the recording again")
        elif draft.recording_id and draft.recording_id != self._recording_id(path):
            problem = "the recording has changed since the draft was written"
        if problem is None:
            try:
                self.state.review.load(draft.review)
                self.clinical.set_data(ClinicalData.from_dict(draft.clinical))
            except (ValueError, KeyError) as e:
                problem = f"its decisions do not fit this analysis ({e})"
        if problem is not None:
            kept = self.drafts.keep(self.drafts.path_for(path))
            self.show_message("warning", f"The draft of {path.name} was not restored: {problem}. It is kept as {kept}.")
            return
        self.state.session_id = draft.session_id
        self._saved_review = None  # a draft is by definition not saved
        self._autosave()
        self.status_label.setText(f"Draft restored: {draft.decisions} decisions")

    def _restore_session(self, session) -> None:
        preds = self.state.predictions
        if session.model_id != preds.model_id:
            self.show_message("warning", f"This session was analysed with model {session.model_id[:12]}; the "
                                         f"current model is {preds.model_id[:12]}. Choose that model in Settings "
                                         "and open the session again to go on with its review.")
            return
        try:
            self.state.review.restore_stored(thresholds=session.model_settings.get("thresholds", {}),
                                             model_events=session.model_events, reviewed=session.reviewed_events)
        except ValueError as e:
            self.show_message("warning", f"The session's review could not be restored: {e}")
            return
        self.state.session_id = session.id
        stored = ClinicalData.from_dict(session.clinical)
        self._saved_clinical = stored.to_dict()  # before it is shown: showing it is no change to save
        self.clinical.set_data(stored)
        self._saved_review = self.state.review.to_dict()
        self.page.banner.setText(f"Session of {session.date} ({session.task}), {self.state.review.progress_text()}. "
                                 "Save it again from the Patients page when the review is done.")

    def _saved_as_session(self, path: str, session_id: int, saved: dict) -> None:
        if self.state.path is None or Path(path).resolve() != self.state.path.resolve():
            return
        self.state.session_id = session_id
        self._saved_review = saved
        if self.records is not None:  # the words and stretches as stored, not as they are now
            from app.records.sessions import get_session

            self._saved_clinical = ClinicalData.from_dict(get_session(self.records.db, session_id).clinical).to_dict()
        self._autosave()  # removes the draft, or rewrites it if the review moved on while it was being saved
        if not self.unsaved:
            self.drafts.discard(self.state.path)
        self.status_label.setText(f"Saved as session {session_id}")

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
        else:
            self.offer_drafts()
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

    def mark_stretch(self) -> None:
        """Not the client from the keyboard: a stretch's start, then its end, at the playhead."""
        try:
            self.status_label.setText(self.exclude_drag.mark_at(self.state.playhead))
        except ValueError as e:
            self.show_message("warning", str(e))

    def _history(self, redo: bool = False):
        """What Ctrl+Z (redo: Ctrl+Shift+Z) acts on: the transcript's corrections while the words have the focus
        and hold one to undo (redo), else the review (focus lands on the words after Transcribe, too)."""
        words = self.clinical.transcript
        if self.transcript.has_focus() and (words.can_redo if redo else words.can_undo):
            return words
        return self.state.review

    def undo(self) -> None:
        if self._history() is self.clinical.transcript:
            self.clinical.undo_edit()
        elif self.state.review is not None:
            self.state.review.undo()

    def redo(self) -> None:
        if self._history(redo=True) is self.clinical.transcript:
            self.clinical.redo_edit()
        elif self.state.review is not None:
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
            path = self.dialogs.save_path("Export counted events", str(analysis.path.with_suffix(suffix)), file_filter)
            if path is None:
                return None
        review, preds = analysis.review, analysis.predictions
        try:
            out = exports.export_rows(fmt, path, review.counted_rows(), recording=str(analysis.path),
                                      duration=preds.duration, model_id=preds.model_id, thresholds=review.thresholds,
                                      labels=review.labels, summary=review.summary().to_dict(),
                                      counted_from=review.counted_from())
        except OSError as e:
            self.show_message("error", f"Could not write {path}: {e}")
            return None
        self.status_label.setText(f"Exported to {out}")
        return out

    def export_clinical(self, fmt: str, path: str | Path | None = None) -> Path | None:
        """The words, moments and not-the-client stretches as a TextGrid, an ELAN file or a per-word CSV."""
        analysis = self.current_analysis
        if analysis is None or not self.clinical.data.words:
            self.show_message("info", "Analyse and transcribe a recording before exporting its words.")
            return None
        suffix, file_filter = CLINICAL_FORMATS[fmt]
        if path is None:
            path = self.dialogs.save_path("Export words and moments", str(analysis.path.with_suffix(suffix)),
                                          file_filter)
            if path is None:
                return None
        try:
            out = write_clinical(fmt, path, self.clinical.data, analysis.review.final_moments(),
                                 duration=analysis.predictions.duration, recording=analysis.path)
        except (OSError, ValueError) as e:
            self.show_message("error", f"Could not write {path}: {e}")
            return None
        self.status_label.setText(f"Exported to {out}")
        return out

    def export_event_audio(self, path: str | Path | None = None) -> Path | None:
        """The selected event's audio as a WAV (asks where unless path is given)."""
        from ..event_audio import suggested_name, write_event_audio

        row, recording = self.state.selected_row(), self.state.path
        if row is None or recording is None:
            self.show_message("info", "Select an event first: its audio is what is exported.")
            return None
        if path is None:
            path = self.dialogs.save_path("Export the event's audio",
                                          str(recording.with_name(suggested_name(recording, row.label, row.start))),
                                          "WAV audio (*.wav)")
            if path is None:
                return None
        try:
            out = write_event_audio(recording, row.start, row.end, path)
        except (ValueError, OSError) as e:
            self.show_message("error", f"The event's audio could not be written: {e}")
            return None
        self.status_label.setText(f"Event audio saved: {out}")
        return out

    # ---- closing -----------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        if not self._may_leave_review("quit"):
            event.ignore()
            return
        self.controller.cancel()
        self.page.spectrogram.cancel()
        self.player.stop()
        if self.recorder.recording:
            self.recorder.stop()
        if self.store is not None:
            save_settings(self.store, self.settings)
        if self.records is not None:
            self.patients_page.flush()  # the fields typed in the last half second, before the records close
            self.records.db.close()
        super().closeEvent(event)


def _data_dir() -> Path:
    from app.records.paths import data_dir

    return data_dir()


def _labels() -> tuple[str, ...]:
    from model.labels import LABELS

    return LABELS


def start_recovery_check(window: MainWindow) -> None:
    """After the window shows: the question about an interrupted recording comes on top of it."""
    QTimer.singleShot(0, window.offer_recovery)
