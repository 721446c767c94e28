"""The clinical measures of the review on screen: words, stretches that are not the client, %SS. No Qt.

`ClinicalData` is what one recording carries beside its review: the transcript (model.measures.words.Word)
and the stretches the clinician marked as someone else (interviewer, parent). Its measures are
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


@dataclass(frozen=True)
class ClinicalData:
    """One recording's words and not-the-client stretches, as saved with its session."""

    words: tuple[Word, ...] = ()  # the transcript, in time order; () until transcribed (app.transcript_edits: corrected)
    excluded: tuple[tuple[float, float], ...] = ()  # sorted, non-overlapping (start, end) seconds
    transcriber: str = ""  # which model made the words ("faster-whisper base"), for the reports
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
        return {**self.extra, "words": [w.to_dict() for w in self.words], "excluded": [list(x) for x in self.excluded],
                "transcriber": self.transcriber}

    @classmethod
    def from_dict(cls, data: dict | None) -> ClinicalData:
        """The inverse of to_dict; ValueError for a dict that is not one."""
        data = dict(data or {})
        data.pop("measures", None)  # derived: recomputed from the words and the review, never carried over
        try:
            words = tuple(word_from_dict(w) for w in data.pop("words", []))
            excluded = tuple(merge_stretches(tuple(x) for x in data.pop("excluded", [])))
        except (TypeError, ValueError) as e:
            raise ValueError(f"stored words or excluded stretches are not readable ({e})") from e
        return cls(words=words, excluded=excluded, transcriber=str(data.pop("transcriber", "")), extra=data)


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
        return write_words_csv(path, data.measures(moments, duration=duration), data.words)
    if fmt == "textgrid":
        return write_textgrid(path, data.words, moments, excluded=data.excluded, duration=duration)
    return write_eaf(path, data.words, moments, excluded=data.excluded, duration=duration, media=recording)
