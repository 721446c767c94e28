"""Opening and analysing recordings: starts the jobs, feeds the state, reports problems as messages.

No widgets: the window connects `message` to its dialogs, and the tests drive this directly.
One job runs at a time; opening another file cancels the running one.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..peaks import compute_envelope
from .settings import AppSettings
from .state import AnalysisState
from .workers import Job

log = logging.getLogger(__name__)


def model_file(settings: AppSettings) -> Path:
    from model.folders import default_model_path  # torch-free: this runs before the window shows

    return Path(settings.model_path) if settings.model_path else default_model_path()


def model_problem(settings: AppSettings) -> str | None:
    """Why no analysis can run with these settings, or None."""
    path = model_file(settings)
    if path.is_file():
        return None
    if settings.model_path:
        return f"The model file {path} does not exist. Choose another one in Settings (Ctrl+,)."
    return (f"The default model is not installed ({path} is missing). Choose a model file "
            "(a .safetensors made by `stutterscope export`) in Settings (Ctrl+,).")


class AnalysisController(QObject):
    message = Signal(str, str)  # level ("info", "warning", "error"), text for the user
    model_needed = Signal(str)  # no usable model file: the text says why

    def __init__(self, state: AnalysisState, settings: AppSettings, parent: QObject | None = None):
        super().__init__(parent)
        self.state = state
        self._settings = settings
        self._predictor = None
        self._predictor_key: tuple | None = None
        self._predictor_lock = threading.Lock()  # the preload and an analysis may both ask for the model
        self.job: Job | None = None
        self.preload_job: Job | None = None

    @property
    def settings(self) -> AppSettings:
        return self._settings

    def set_settings(self, settings: AppSettings) -> None:
        self._settings = settings  # the predictor is rebuilt on the next analysis if the key changed

    # ---- jobs --------------------------------------------------------------------------------
    def _start(self, name: str, fn, on_success, what: str) -> Job:
        self.cancel()
        job = Job(fn, name=name, parent=self)
        self.job = job
        job.progress.connect(lambda f: self._progress(job, f, what))
        job.succeeded.connect(lambda result: self._if_current(job, on_success, result))
        job.failed.connect(lambda text: self._if_current(job, self._failed, f"{what} failed: {text}"))
        job.cancelled.connect(lambda: self._if_current(job, self._cancelled, what))
        job.done.connect(lambda: self._finished(job))
        self.state.set_busy(True)
        self.state.report_progress(0.0, what)
        return job.start()

    def _if_current(self, job: Job, slot, arg) -> None:
        if job is self.job:  # a superseded job's late signals change nothing
            slot(arg)

    def _progress(self, job: Job, fraction: float, what: str) -> None:
        if job is self.job:
            self.state.report_progress(fraction, what)

    def _finished(self, job: Job) -> None:
        if job is self.job:
            self.job = None
            self.state.set_busy(False)

    def _failed(self, text: str) -> None:
        log.warning("%s", text)
        self.message.emit("error", text)

    def _cancelled(self, what: str) -> None:
        self.message.emit("info", f"{what}: cancelled")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
            self.state.set_busy(False)

    @property
    def running(self) -> bool:
        return self.job is not None

    # ---- open and analyse --------------------------------------------------------------------
    def open(self, path: str | Path, *, analyse: bool = True) -> Job:
        """Read the waveform in a job, then (analyse=True) run the model in another."""
        path = Path(path)
        return self._start("open", lambda **kw: compute_envelope(path, **kw),
                           lambda env: self._opened(path, env, analyse), f"Reading {path.name}")

    def _opened(self, path: Path, envelope, analyse: bool) -> None:
        self.state.set_recording(path)
        self.state.set_envelope(envelope)
        log.info("opened %s (%.1f s)", path, envelope.duration)
        if analyse:
            self.analyse()

    def analyse(self) -> Job | None:
        path = self.state.path
        if path is None:
            self.message.emit("info", "Open a recording first (Ctrl+O), or record one (Ctrl+R).")
            return None
        problem = model_problem(self._settings)
        if problem:
            self.model_needed.emit(problem)
            return None
        return self._start("analyse", lambda **kw: self._predict(path, **kw), self._analysed,
                           f"Analysing {path.name}")

    def _predict(self, path: Path, *, progress, cancel):
        from model.pipeline.analysis import analyse_recording

        return analyse_recording(path, self.get_predictor(), progress=progress, cancel=cancel)

    def preload(self) -> Job | None:
        """Import torch and load the model in a worker once the window is up, so that the window shows
        without waiting for them (6 s of imports on 2 cores) and the first analysis does not either."""
        if model_problem(self._settings) or self.preload_job is not None:
            return None
        self.preload_job = Job(lambda **_: self.get_predictor(), name="preload-model", parent=self)
        self.preload_job.succeeded.connect(lambda p: self.message.emit("info", f"Model {p.bundle.short_id} ready"))
        self.preload_job.failed.connect(lambda text: log.warning("preloading the model failed: %s", text))
        return self.preload_job.start()

    def get_predictor(self):
        # Runs in a worker: importing torch and loading a model file take seconds.
        from model.encoder.bundle import load_bundle
        from model.pipeline.inference import InferenceOptions, Predictor

        with self._predictor_lock:
            s = self._settings
            path = model_file(s)
            key = (str(path), path.stat().st_mtime if path.exists() else 0, s.device, s.hop_seconds, s.batch_size)
            if key != self._predictor_key:
                bundle = load_bundle(path, build_model=False)
                options = InferenceOptions(hop_seconds=s.hop_seconds, batch_size=s.batch_size, device=s.device)
                self._predictor, self._predictor_key = Predictor(bundle, options=options), key
                log.info("model %s loaded from %s", bundle.short_id, path)
            return self._predictor

    def _analysed(self, analysis) -> None:
        self.state.set_analysis(analysis)
        log.info("analysis of %s: %d events", analysis.predictions.path, len(analysis.events))
