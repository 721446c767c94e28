"""The clinical measures of the review on screen: words, stretches that are not the client, %SS. No Qt.

`ClinicalData` is what one recording carries beside its review: the transcript (model.measures.words.Word)
and the stretches the clinician marked as someone else (interviewer, parent), with which of them the speakers'
proposal made (`proposed`, `automatic`: issue 26). Its measures are
those of the moments the review counts (app.review.ReviewSession.counted_moments: the clinician's
decisions where made, the model's elsewhere, each moment with all its types), counted by
model.measures.clinical.compute_measures, the one function `assess --words`, saved sessions and PDFs use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from model.measures.clinical import Measures, compute_measures, merge_stretches
from model.measures.words import Word
from model.moments.decoding import Moment

from .transcript_edits import word_from_dict

MIN_STRETCH_S = 0.05  # a drag shorter than this (seconds) is a click, not a stretch
SAME_STRETCH_S = 1e-3  # a stretch whose ends are both this close to a proposed one's (seconds) is that one
Stretch = tuple[float, float]  # (start, end) seconds


@dataclass(frozen=True)
class ClinicalData:
    """One recording's words and not-the-client stretches, as saved with its session."""

    words: tuple[Word, ...] = ()  # the transcript, in time order; () until transcribed (app.transcript_edits: corrected)
    excluded: tuple[tuple[float, float], ...] = ()  # sorted, non-overlapping (start, end) seconds
    transcriber: str = ""  # which model made the words ("faster-whisper base"), for the reports
    proposed: tuple[Stretch, ...] = ()  # stretches the speakers' proposal made (`automatic` says which still stand)
    proposed_by: str = ""  # how well the proposal measured (model.measures.speakers.MEASURED); "" when none made
    extra: dict = field(default_factory=dict, compare=False)  # keys of a stored dict this version does not know

    def with_stretch(self, start: float, end: float, *, duration: float | None = None) -> ClinicalData:
        """A stretch added (merged with any it touches); ValueError when it is shorter than MIN_STRETCH_S."""
        start, end = sorted((float(start), float(end)))
        if end - start < MIN_STRETCH_S:
            raise ValueError(f"a stretch of {end - start:.2f} s: drag over at least {MIN_STRETCH_S} s")
        return replace(self, excluded=tuple(merge_stretches([*self.excluded, (start, end)], duration=duration)))

    def without_stretch_at(self, seconds: float) -> ClinicalData:
        """The stretch under `seconds` removed (unchanged when none is there)."""
        return replace(self, excluded=tuple(x for x in self.excluded if not x[0] <= seconds <= x[1]))

    def stretch_at(self, seconds: float) -> tuple[float, float] | None:
        return next((x for x in self.excluded if x[0] <= seconds <= x[1]), None)

    def automatic(self) -> tuple[Stretch, ...]:
        """The not-the-client stretches that stand as the speakers' proposal made them, in time order.

        The rule: a stretch is automatic while both its ends are within SAME_STRETCH_S of a stretch some
        proposal made (`proposed`). Every other stretch is the clinician's, as a whole: one they drew, and one
        a proposed stretch became when they widened it or a drag joined it to another (their hand is on it).
        A proposed stretch the clinician gave back is gone; an undo that brings it back brings it back as
        proposed, and an undo of the proposal leaves none standing, so undo and redo keep the count right.
        """
        return tuple(x for x in self.excluded if any(abs(x[0] - p[0]) <= SAME_STRETCH_S
                                                     and abs(x[1] - p[1]) <= SAME_STRETCH_S for p in self.proposed))

    def with_proposal(self, stretches: Iterable[Stretch], *, measured: str) -> ClinicalData:
        """`stretches` (the proposal's own, before any merge with marks already there) added to `proposed`:
        every proposal of this review is kept, so an undo back to an earlier one still counts it automatic."""
        return replace(self, proposed=tuple(sorted({*self.proposed, *map(tuple, stretches)})), proposed_by=measured)

    @property
    def excluded_s(self) -> float:
        return sum(e - s for s, e in self.excluded)

    def measures(self, moments: Iterable[Moment], *, duration: float) -> Measures | None:
        """%SS, SPM and the rest of `moments` (model.moments.decoding.Moment, e.g. ReviewSession.counted_moments) over
        the client's words; None without words."""
        if not self.words:
            return None
        return compute_measures(self.words, list(moments), excluded=self.excluded, duration=duration)

    def to_dict(self) -> dict:
        """What a draft and a session store. `proposed` holds only the automatic stretches still standing (the
        ones undone or changed are no one's business once saved); both keys are left out when there are none,
        as a session saved before issue 26 has none."""
        automatic = self.automatic()
        proposal = {"proposed": [list(x) for x in automatic], "proposed_by": self.proposed_by} if automatic else {}
        return {**self.extra, "words": [w.to_dict() for w in self.words], "excluded": [list(x) for x in self.excluded],
                "transcriber": self.transcriber, **proposal}

    @classmethod
    def from_dict(cls, data: dict | None) -> ClinicalData:
        """The inverse of to_dict; ValueError for a dict that is not one."""
        data = dict(data or {})
        data.pop("measures", None)  # derived: recomputed from the words and the review, never carried over
        try:
            words = tuple(word_from_dict(w) for w in data.pop("words", []))
            excluded = tuple(merge_stretches(tuple(x) for x in data.pop("excluded", [])))
            proposed = tuple(sorted((float(a), float(b)) for a, b in data.pop("proposed", [])))
        except (TypeError, ValueError) as e:
            raise ValueError(f"stored words or excluded stretches are not readable ({e})") from e
        return cls(words=words, excluded=excluded, transcriber=str(data.pop("transcriber", "")), proposed=proposed,
                   proposed_by=str(data.pop("proposed_by", "")), extra=data)


def stretches_note(data: ClinicalData) -> str:
    """Where the not-the-client stretches came from, in a clinician's words, for the reports ("" without any):
    how many the speakers' proposal made and the clinician left as they were (`ClinicalData.automatic`), how
    many were marked or changed by hand."""
    n = len(data.excluded)
    if not n:
        return ""
    total = f"{data.excluded_s:.1f} s in {n} stretch{'es' if n > 1 else ''}"
    automatic = len(data.automatic())
    if not automatic:
        return f"Not the client: {total}, all marked by hand."
    hand = n - automatic
    rest = f"; {hand} marked or changed by hand" if hand else ""
    measured = f" (measured: {data.proposed_by})" if data.proposed_by else ""
    return (f"Not the client: {total}. {automatic} found automatically by telling the voices apart{measured} "
            f"and kept as proposed (the clinician has not changed them){rest}.")


def measures_summary(measures: Measures | None) -> dict[str, str]:
    """The summary panel's and the reports' texts: %SS, SPM, the three longest and what was left out."""
    if measures is None:
        return {"pct_ss": "-", "spm": "-", "longest3": "-", "excluded": "-"}

    def value(x: float | None, fmt: str) -> str:
        return format(x, fmt) if x is not None else "-"

    rates = measures.enough_speech
    return {
        "pct_ss": (f"{value(measures.pct_ss, '.1f')} %SS ({measures.stuttered_syllables} of {measures.syllables} "
                   "syllables)" if rates else f"{measures.stuttered_syllables} of {measures.syllables} syllables"),
        "spm": f"{value(measures.spm, '.0f')} syllables/min" if rates else "-",
        "longest3": (f"mean {measures.longest3_mean_s:.1f} s (longest {measures.longest_s:.1f} s)"
                     if measures.longest3_mean_s is not None else "none"),
        "excluded": f"{measures.excluded_s:.1f} s ({measures.excluded_moments} moments)",
    }



# File > Export "words and moments": format -> (suffix, file dialog filter); app.clinical_exports writes them.
CLINICAL_FORMATS = {
    "textgrid": (".TextGrid", "Praat TextGrid (*.TextGrid)"),
    "eaf": (".eaf", "ELAN annotation (*.eaf)"),
    "words_csv": (".words.csv", "Per-word CSV (*.csv)"),
}


def write_clinical(fmt: str, path, data: ClinicalData, moments: Iterable[Moment], *, duration: float,
                   recording=None):
    """Write the words, `moments` (what the review keeps: ReviewSession.final_moments) and excluded stretches
    as `fmt` (a CLINICAL_FORMATS key)."""
    from .clinical_exports import write_eaf, write_textgrid, write_words_csv

    if fmt not in CLINICAL_FORMATS:
        raise ValueError(f"export format {fmt!r}: choose one of {', '.join(CLINICAL_FORMATS)}")
    if not data.words:
        raise ValueError("no words yet: transcribe the recording first (Transcribe, beside the transcript)")
    moments = list(moments)
    if fmt == "words_csv":
        return write_words_csv(path, data.measures(moments, duration=duration), data.words, automatic=data.automatic())
    stretches = {"excluded": data.excluded, "automatic": data.automatic(), "duration": duration}
    if fmt == "textgrid":
        return write_textgrid(path, data.words, moments, **stretches)
    return write_eaf(path, data.words, moments, **stretches, media=recording, note=stretches_note(data))
