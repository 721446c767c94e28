"""Words, moments and measures out to the tools SLPs annotate in: Praat TextGrid, ELAN .eaf, a per-word CSV.

No Qt. The TextGrid (praatio) and the EAF (pympi-ling) hold the same four tiers:
  - `words`: every transcribed word, its text;
  - `moments`: the stuttering moments, labelled with their types joined by "+" ("Block+Prolongation");
  - `interjections`: the interjections, labelled "Interjection";
  - `excluded`: the stretches that are not the client, labelled "not client", or "not client (proposed)" where
    the speakers' proposal made the stretch and the clinician left it so (app.clinical.ClinicalData.automatic);
    the EAF's header then carries a `not client` property saying so in words (app.clinical.stretches_note).
When the clinician corrected the transcript (app.transcript_edits), a fifth tier, `corrected by clinician`,
holds the corrected words' intervals labelled "edited" or "added", and the EAF's header carries a
`corrected` property saying how many words were corrected (a TextGrid has no header to say it in).
A tier's intervals may not overlap (Praat's rule; ELAN's for a top-level tier), so an interval that
starts inside the one before starts where that one ends. A moment or stretch left with no length is
dropped; a word never is: one with no length (Whisper gives some, and overlap can leave one) is widened
to one 20 ms frame, so the tier holds every word the transcript and the CSV hold.
The CSV has a row per word: start, end, text, syllables as counted, whether a stuttering moment
overlaps it and of which types, the stuttered syllables the measures gave it, whether it is under
an interjection, whether it was left out as not the client, and by whom ("clinician", or "proposal": a stretch
the speakers' proposal made; "" when counted), and its origin ("whisper", or "edited" / "added" by the
clinician); text cells are formula-defused.
Every writer is atomic and owner-only (0600): a transcript can name the patient.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from model.audio.decode import TOKENS_PER_SECOND
from model.fileio import atomic_path, atomic_write_text
from model.measures.clinical import INTERJECTION, STUTTERING, Measures, MomentLike, TimedText, in_stretches
from model.pipeline.outputs import safe_cell

from .transcript_edits import WHISPER, corrected_note, origin_of

TIERS = ("words", "moments", "interjections", "excluded")
CORRECTED_TIER = "corrected by clinician"  # the fifth tier, only when the clinician corrected words
EXCLUDED_LABEL = "not client"
PROPOSED_LABEL = "not client (proposed)"  # a stretch the speakers' proposal made, as the clinician left it
BY_CLINICIAN, BY_PROPOSAL = "clinician", "proposal"  # the CSV's excluded_by
WORD_CSV_FIELDS = ("start", "end", "text", "syllables", "in_moment", "moment_types", "stuttered_syllables",
                   "in_interjection", "excluded", "excluded_by", "origin")
_MIN_LENGTH = 1e-3  # seconds: shorter intervals are dropped (ELAN works in whole milliseconds)
_WORD_FRAME = 1 / TOKENS_PER_SECOND  # 0.02 s, one encoder frame: the length a word with none is given

Intervals = list[tuple[float, float, str]]
Stretches = Sequence[tuple[float, float]]


def _moment_label(m: MomentLike) -> str:
    return "+".join(m.types) or "moment"


def _non_overlapping(items: Iterable[tuple[float, float, str]], duration: float) -> Intervals:
    out: Intervals = []
    for start, end, text in sorted(items):
        start, end = max(0.0, start, out[-1][1] if out else 0.0), min(duration, end)
        if end - start >= _MIN_LENGTH:
            out.append((round(start, 3), round(end, 3), text))
    return out


def _word_intervals(words: Iterable[TimedText], duration: float, label=lambda w: w.text) -> Intervals:
    """Every word, in order, without overlap, none shorter than 1 ms: one left with less is one frame long.
    Labelled by `label(word)` (its text; its origin for the corrected tier, so both tiers' times agree)."""
    out: list[list] = []
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        start = max(0.0, float(w.start), out[-1][1] if out else 0.0)
        end = float(w.end) if w.end - start >= _MIN_LENGTH else start + _WORD_FRAME
        out.append([start, end, label(w)])
    limit = duration  # backwards: a word that ends past the recording (or the next word) ends there
    for item in reversed(out):
        item[1] = min(item[1], limit)
        if item[1] - item[0] < _MIN_LENGTH:  # clipped to nothing: the frame before its end
            item[0] = max(0.0, item[1] - _WORD_FRAME)
        limit = item[0]
    # Only more words than 20 ms frames in the recording can leave one without room.
    return [(round(s, 3), round(e, 3), text) for s, e, text in out if e - s >= _MIN_LENGTH]


def tier_intervals(words: Sequence[TimedText], moments: Sequence[MomentLike], *,
                   excluded: Stretches = (), automatic: Stretches = (), duration: float) -> dict[str, Intervals]:
    """The four tiers' labelled intervals (seconds), as both formats write them, and CORRECTED_TIER when
    the clinician corrected words. `automatic`: those of `excluded` the speakers' proposal made (PROPOSED_LABEL)."""
    if duration <= 0:
        raise ValueError(f"duration {duration}: give the recording's length in seconds (> 0)")
    corrected = [x for x in _word_intervals(words, duration, label=origin_of) if x[2] != WHISPER]
    automatic = set(automatic)
    return {
        "words": _word_intervals(words, duration),
        "moments": _non_overlapping(((m.start, m.end, _moment_label(m)) for m in moments if m.kind == STUTTERING),
                                    duration),
        "interjections": _non_overlapping(((m.start, m.end, "Interjection") for m in moments
                                           if m.kind == INTERJECTION), duration),
        "excluded": _non_overlapping(((s, e, PROPOSED_LABEL if (s, e) in automatic else EXCLUDED_LABEL)
                                      for s, e in excluded), duration),
        **({CORRECTED_TIER: corrected} if corrected else {}),
    }


def write_textgrid(path: str | Path, words: Sequence[TimedText], moments: Sequence[MomentLike], *,
                   excluded: Stretches = (), automatic: Stretches = (), duration: float) -> Path:
    """A Praat TextGrid (long text format) with the four tiers; gaps are empty intervals, as Praat keeps them."""
    from praatio import textgrid

    tg = textgrid.Textgrid()
    for name, intervals in tier_intervals(words, moments, excluded=excluded, automatic=automatic,
                                          duration=duration).items():
        tg.addTier(textgrid.IntervalTier(name, intervals, 0.0, duration))
    path = Path(path)
    with atomic_path(path, private=True) as tmp:
        tg.save(str(tmp), format="long_textgrid", includeBlankSpaces=True)
    return path


def write_eaf(path: str | Path, words: Sequence[TimedText], moments: Sequence[MomentLike], *,
              excluded: Stretches = (), automatic: Stretches = (), duration: float,
              media: str | Path | None = None, note: str = "") -> Path:
    """An ELAN .eaf file with the four tiers (times in milliseconds), linked to the recording when media is given;
    `note` (app.clinical.stretches_note) goes in the header as the `not client` property when there are
    automatic stretches."""
    from pympi.Elan import Eaf

    eaf = Eaf(author="StutterScope")
    if media is not None:
        media = Path(media).resolve()
        eaf.add_linked_file(media.as_uri(), relpath=media.name, mimetype=_mimetype(media))
    for name, intervals in tier_intervals(words, moments, excluded=excluded, automatic=automatic,
                                          duration=duration).items():
        eaf.add_tier(name)
        for start, end, text in intervals:
            start_ms, end_ms = round(start * 1000), round(end * 1000)
            if end_ms > start_ms:
                eaf.add_annotation(name, start_ms, end_ms, text)
    eaf.remove_tier("default")  # pympi's empty starting tier
    if corrected := corrected_note(words):
        eaf.add_property("corrected", corrected)
    if automatic and note:
        eaf.add_property("not client", note)
    path = Path(path)
    with atomic_path(path, private=True) as tmp:
        eaf.to_file(str(tmp))
    return path


def _mimetype(media: Path) -> str:
    return {".wav": "audio/x-wav", ".mp3": "audio/mpeg", ".mp4": "video/mp4", ".m4a": "audio/mp4"}.get(
        media.suffix.lower(), "audio/*")


def _origins(measures: Measures, words: Sequence[TimedText] | None) -> list[str]:
    """Each measured word's origin: compute_measures lists the words sorted by (start, end), stably, as here."""
    if words is None:
        return [WHISPER] * len(measures.word_counts)
    if len(words) != len(measures.word_counts):
        raise ValueError(f"{len(words)} words for {len(measures.word_counts)} measured: give the words measured")
    return [origin_of(w) for w in sorted(words, key=lambda w: (w.start, w.end))]


def _excluded_by(w, automatic: Stretches) -> str:
    if not w.excluded:
        return ""
    return BY_PROPOSAL if in_stretches(w.start, w.end, automatic) else BY_CLINICIAN


def words_csv(measures: Measures, words: Sequence[TimedText] | None = None, *, automatic: Stretches = ()) -> str:
    """One row per word (see the module doc); types joined by "+", booleans as 0/1. `words`: those measured,
    for their origin (None: all as the transcriber wrote them); `automatic`: the not-the-client stretches the
    speakers' proposal made (app.clinical.ClinicalData.automatic), for excluded_by."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WORD_CSV_FIELDS)
    for w, origin in zip(measures.word_counts, _origins(measures, words), strict=True):
        writer.writerow([f"{w.start:.3f}", f"{w.end:.3f}", safe_cell(w.text), w.syllables, int(w.in_moment),
                         "+".join(w.moment_types), w.stuttered_syllables, int(w.in_interjection), int(w.excluded),
                         _excluded_by(w, automatic), origin])
    return out.getvalue()


def write_words_csv(path: str | Path, measures: Measures, words: Sequence[TimedText] | None = None, *,
                    automatic: Stretches = ()) -> Path:
    atomic_write_text(Path(path), words_csv(measures, words, automatic=automatic), private=True)
    return Path(path)
