"""The words, not-the-client stretches and measures of the recording on screen, as signals (app.clinical has the logic).

Sits beside app.qt.state.AnalysisState: a new recording clears it, every review change recomputes the
measures (the summary panel and the transcript pane redraw on `changed`). Transcription runs in an
app.qt.workers.Job, with progress and Cancel, so the window never waits for Whisper. The clinician's
corrections of the words (app.transcript_edits) have their own undo history, apart from the review's:
each one recomputes the measures at once and is saved with the draft and the session like any change.
Finding the speakers (model.measures.speakers, issue 26) also runs in a Job: it proposes the client (the voice with
the most speech) and marks the other voice's stretches not the client in one undo step of the review, kept
as any stretch is; `swap_speakers` proposes the next voice instead and `client_at` the voice speaking at a
place the clinician picks (one more undo step each). Every proposal's own stretches are kept in
`ClinicalData.proposed`, so that drafts, sessions, exports and reports say which stretches stand as proposed
(`ClinicalData.automatic` has the rule); undo and redo move only the stretches, and the rule follows them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from model.measures.clinical import merge_stretches
from model.measures.speakers import MEASURED

from ..clinical import ClinicalData
from ..transcript_edits import TranscriptEdits, is_corrected
from .state import AnalysisState
from .workers import Job

log = logging.getLogger(__name__)


def default_transcriber():
    """The app's transcriber: model.measures.words' default (faster-whisper, int8), loaded in the worker."""
    from model.measures.words import Transcriber

    return Transcriber()


def transcriber_name(transcriber) -> str:
    options = getattr(transcriber, "options", None)
    return f"{options.backend} {options.model}" if options is not None else type(transcriber).__name__


class ClinicalState(QObject):
    changed = Signal()  # words, stretches or measures changed
    data_changed = Signal()  # words or stretches changed (after `changed`): what a draft or session saves
    transcribing = Signal(bool)  # a transcription job started (True) or ended
    progress = Signal(float)  # 0..1 of the transcription
    message = Signal(str, str)  # level, text for the user
    speakers_running = Signal(bool)  # finding the speakers started (True) or ended
    speakers_progress = Signal(float)  # 0..1 of finding the speakers
    speakers_proposed = Signal()  # not-the-client stretches proposed from the speakers found (or swapped)

    def __init__(self, state: AnalysisState, parent: QObject | None = None, *,
                 transcriber_factory: Callable[[], object] = default_transcriber):
        super().__init__(parent)
        self.state = state
        self.data = ClinicalData()
        self.measures = None
        self.transcript = TranscriptEdits()  # the words' correction history; its words are data.words
        self.job: Job | None = None
        self.transcriber_factory = transcriber_factory  # tests hand in a small transcriber
        self._transcriber = None
        self.speakers_job: Job | None = None
        self.speakers = None  # the model.measures.speakers.Diarization found for this recording, if any
        self.client: int | None = None  # the speaker proposed as the client
        self._before_speakers: tuple[tuple[float, float], ...] = ()  # the stretches marked before the proposal
        state.recording_changed.connect(self._recording)
        state.analysis_changed.connect(self._to_review)
        state.events_changed.connect(self.recompute)

    def _recording(self) -> None:
        self.cancel()
        self.cancel_speakers()
        self.speakers, self.client = None, None
        self.set_data(ClinicalData())

    def set_data(self, data: ClinicalData) -> None:
        """Show `data` (a new transcription, a draft, a session): the corrections' history starts again."""
        self.transcript = TranscriptEdits(data.words)
        self._show(data)

    def _show(self, data: ClinicalData) -> None:
        self.data = data
        self._to_review()
        self.recompute()
        self.data_changed.emit()

    def _to_review(self) -> None:
        # The review marks and leaves out what is not the client (its counts, its "k of n"); the stretches
        # are ours, so a new review or a loaded session gets them without an undo step.
        if self.state.review is not None:
            self.state.review.set_excluded(self.data.excluded, record=False)

    def recompute(self) -> None:
        review = self.state.review
        stretches_changed = review is not None and review.excluded != self.data.excluded
        if stretches_changed:  # an undo or redo of a stretch: the review's history holds the marks
            self.data = replace(self.data, excluded=review.excluded)
        # The review's moments: the clinician's decisions where made, the model's elsewhere, as the counts
        # above them and the saved session (app.records.course) count them.
        # Without words there is nothing to measure: the moments are not worked out at every decision.
        self.measures = (self.data.measures(review.counted_moments(), duration=self.state.duration)
                         if review is not None and self.data.words else None)
        self.changed.emit()
        if stretches_changed:
            self.data_changed.emit()

    # ---- not the client ----------------------------------------------------------------------
    def exclude(self, start: float, end: float) -> None:
        """Mark start..end as not the client (raises ValueError for a stretch too short); undoable."""
        self._set_stretches(self.data.with_stretch(start, end, duration=self.state.duration or None))

    def include_at(self, seconds: float) -> bool:
        """Give the stretch under `seconds` back to the client (undoable); False when there is none."""
        if self.data.stretch_at(seconds) is None:
            return False
        self._set_stretches(self.data.without_stretch_at(seconds))
        return True

    def _set_stretches(self, data: ClinicalData) -> None:
        if self.state.review is None:  # no analysis yet: nothing to undo it with
            self.set_data(data)
        else:  # an undo step of the review; its change comes back through recompute
            self.state.review.set_excluded(data.excluded)

    # ---- who is speaking -----------------------------------------------------------------------
    @property
    def finding_speakers(self) -> bool:
        return self.speakers_job is not None

    def find_speakers(self) -> Job | None:
        """Split the recording into speakers in a worker, then propose the client (`_found`)."""
        path = self.state.path
        if path is None:
            self.message.emit("info", "Open a recording first (Ctrl+O): its voices are what is found.")
            return None
        self.cancel_speakers()
        return self._start(lambda **kw: _diarize(path, **kw), "speakers_job", lambda found: self._found(path, found),
                           "Finding the speakers", self.speakers_running, self.speakers_progress, name="speakers")

    def _found(self, path, found) -> None:
        if path != self.state.path:
            return  # another recording opened meanwhile
        if found.client() is None:
            self.message.emit("info", "No speech found: nothing is marked not the client.")
            return
        self.speakers, self._before_speakers = found, self.data.excluded
        self._propose(found.client())

    def swap_speakers(self) -> bool:
        """The other voice is the client: its stretches leave "not the client" and the first voice's join it
        (one undo step); with three voices or more, the next one in turn. False, with a message, before the
        speakers are found or when there is one voice."""
        voices = [] if self.speakers is None else sorted(self.speakers.speech_s)
        if len(voices) < 2:
            self.message.emit("info", "Find the speakers first (Review > Find the speakers): two voices are needed.")
            return False
        after = [k for k in voices if self.client is None or k > self.client]
        self._propose((after or voices)[0])
        return True

    def client_at(self, seconds: float) -> bool:
        """This voice is the client: the voice speaking at `seconds` (inside one of its stretches) becomes the
        client and every other voice's stretches are not the client, one undo step (`_propose`). False, with
        a message, before the speakers are found or where no voice speaks."""
        if self.speakers is None:
            self.message.emit("info", "Find the speakers first (Review > Find the speakers): then pick the client's "
                                      "voice on the waveform.")
            return False
        voice = speaker_at(self.speakers, seconds)
        if voice is None:
            self.message.emit("info", f"No voice speaks at {seconds:.2f} s: pick a place inside someone's speech.")
            return False
        self._propose(voice)
        return True

    def _propose(self, client: int) -> None:
        """The stretches marked before the speakers were found, with every voice's but `client`'s; the latter
        are kept as proposed (ClinicalData.with_proposal), whatever merging with the marks makes of them."""
        self.client = client
        duration = self.state.duration or None
        own = merge_stretches(self.speakers.not_client(client), duration=duration)
        self.data = self.data.with_proposal(own, measured=MEASURED)
        stretches = tuple(merge_stretches([*self._before_speakers, *own], duration=duration))
        if stretches == self.data.excluded:  # no undo step to make; what is saved changes all the same
            self._show(self.data)
        else:
            self._set_stretches(replace(self.data, excluded=stretches))
        self.speakers_proposed.emit()

    def cancel_speakers(self) -> None:
        """Stop finding the speakers; a result that arrives later is dropped (`find_speakers` checks the job)."""
        if self.speakers_job is not None:
            self.speakers_job.cancel()
            self.speakers_job = None
            self.speakers_running.emit(False)
            self.message.emit("info", "Finding the speakers: cancelled; the stretches are as they were")

    # ---- the clinician's corrections of the words ------------------------------------------------
    def edit_words(self, change: Callable[[TranscriptEdits], object]) -> bool:
        """Apply one correction, e.g. `edit_words(lambda t: t.split(3))` (app.transcript_edits.TranscriptEdits);
        the measures follow at once. A ValueError from the correction leaves the words as they were.
        True when the words changed."""
        before = self.transcript.words
        change(self.transcript)
        if self.transcript.words == before:
            return False
        self._show(replace(self.data, words=self.transcript.words))
        return True

    def undo_edit(self) -> bool:
        return self.edit_words(TranscriptEdits.undo)

    def redo_edit(self) -> bool:
        return self.edit_words(TranscriptEdits.redo)

    # ---- transcription -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None

    def transcribe(self) -> Job | None:
        path = self.state.path
        if path is None:
            self.message.emit("info", "Open a recording first (Ctrl+O): its words are what is transcribed.")
            return None
        self.cancel()
        return self._start(lambda **kw: self._transcribe(path, **kw), "job",
                           lambda result: self._transcribed(path, result), "Transcription", self.transcribing,
                           self.progress, name="transcribe")

    def _start(self, fn: Callable, slot: str, on_result: Callable, what: str, running, progress, *, name: str) -> Job:
        """Run fn in a Job kept in self.<slot>: its signals count only while it is still the one there (a
        cancelled or replaced job's late result is dropped); `running` says when it starts and ends."""
        job = Job(fn, name=name, parent=self)
        setattr(self, slot, job)

        def current() -> bool:
            return getattr(self, slot) is job

        def done() -> None:
            if current():
                setattr(self, slot, None)
                running.emit(False)

        job.progress.connect(lambda f: current() and progress.emit(f))
        job.succeeded.connect(lambda result: current() and on_result(result))
        job.failed.connect(lambda text: current() and self.message.emit("error", f"{what} failed: {text}"))
        job.cancelled.connect(lambda: current() and self.message.emit("info", f"{what}: cancelled"))
        job.done.connect(done)
        running.emit(True)
        return job.start()

    def _transcribe(self, path, *, progress, cancel):
        if self._transcriber is None:  # loading takes seconds: in the worker, once
            self._transcriber = self.transcriber_factory()
        words = self._transcriber.transcribe_file(path, progress=progress, cancel=cancel)
        return words, transcriber_name(self._transcriber)

    def _transcribed(self, path, result) -> None:
        if path != self.state.path:
            return  # another recording opened meanwhile
        words, name = result
        log.info("transcribed %s: %d words (%s)", path, len(words), name)
        data = replace(self.data, words=tuple(words), transcriber=name)  # the stretches and their proposal stay
        if any(map(is_corrected, self.data.words)):  # transcribed again: the corrections stay one undo away
            self.transcript.replace_all(data.words, "transcribe again")
            self._show(data)
        else:
            self.set_data(data)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
            self.transcribing.emit(False)


def speaker_at(found, seconds: float) -> int | None:
    """The voice of `found` (model.measures.speakers.Diarization) with a stretch holding `seconds`; None when no
    one speaks there. Stretches of two voices do not overlap, so at most one holds it (the first, if they did)."""
    return next((k for k in sorted(found.stretches) if any(s <= seconds <= e for s, e in found.stretches[k])), None)


def _diarize(path, *, progress, cancel):
    """The speakers of a recording (in the worker; model.measures.speakers loads its voice encoder there)."""
    from model.measures.speakers import diarize_file

    return diarize_file(path, cancel=cancel, progress=progress)
