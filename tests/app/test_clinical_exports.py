"""TextGrid and EAF exports read back with praatio and pympi, field by field; the per-word CSV."""

from __future__ import annotations

import csv
import io
import stat

import pytest
from praatio import textgrid
from pympi.Elan import Eaf

from app.clinical_exports import TIERS, tier_intervals, words_csv, write_eaf, write_textgrid, write_words_csv
from model.measures.clinical import MeasureOptions, compute_measures
from model.measures.words import Word
from model.moments.decoding import INTERJECTION, STUTTERING, Moment


def W(start: float, end: float, text: str) -> Word:
    return Word(start, end, text, 1.0)


def M(start: float, end: float, types: tuple[str, ...], kind: str = STUTTERING) -> Moment:
    return Moment(start, end, 1.0, types, kind)


WORDS = [W(0.5, 0.9, "I"), W(1.0, 1.6, "w-want"), W(1.6, 2.1, "to"), W(2.3, 2.6, "um"), W(2.7, 3.3, "say,"),
         W(4.0, 4.5, "Really?"), W(5.0, 5.6, "\"this\"")]
MOMENTS = [M(1.0, 1.3, ("SoundRep",)), M(2.3, 2.6, ("Interjection",), INTERJECTION),
           M(2.65, 3.0, ("Block", "Prolongation")), M(4.1, 4.3, ("Block",))]
EXCLUDED = [(3.9, 4.6)]
DURATION = 6.0
EXPECTED = {
    "words": [(0.5, 0.9, "I"), (1.0, 1.6, "w-want"), (1.6, 2.1, "to"), (2.3, 2.6, "um"), (2.7, 3.3, "say,"),
              (4.0, 4.5, "Really?"), (5.0, 5.6, "\"this\"")],
    # the moment starting at 2.65 is not clipped: it is in its own tier
    "moments": [(1.0, 1.3, "SoundRep"), (2.65, 3.0, "Block+Prolongation"), (4.1, 4.3, "Block")],
    "interjections": [(2.3, 2.6, "Interjection")],
    "excluded": [(3.9, 4.6, "not client")],
}


def test_tier_intervals():
    assert tier_intervals(WORDS, MOMENTS, excluded=EXCLUDED, duration=DURATION) == EXPECTED


def test_overlaps_are_clipped_and_empty_moments_dropped():
    moments = [M(0.0, 1.0, ("Block",)), M(0.8, 1.5, ("Block",)), M(1.2, 1.4, ("SoundRep",)), M(5.5, 7.0, ("Block",))]
    assert tier_intervals([], moments, duration=6.0)["moments"] == [(0.0, 1.0, "Block"), (1.0, 1.5, "Block"),
                                                                     (5.5, 6.0, "Block")]
    with pytest.raises(ValueError, match="duration"):
        tier_intervals(WORDS, [], duration=0)


def test_every_word_is_kept_and_a_word_with_no_length_is_one_frame_long():
    """Issue 23: the TextGrid and EAF dropped words the transcript and the CSV hold."""
    words = [W(0.0, 1.0, "a"), W(0.8, 1.5, "b"), W(1.2, 1.4, "c"), W(2.0, 2.0, "zero"), W(5.5, 7.0, "d"),
             W(6.3, 6.3, "late")]
    assert tier_intervals(words, [], duration=6.0)["words"] == [
        (0.0, 1.0, "a"), (1.0, 1.5, "b"), (1.5, 1.52, "c"), (2.0, 2.02, "zero"), (5.5, 5.98, "d"),
        (5.98, 6.0, "late")]


def test_zero_length_words_reach_the_textgrid_and_the_eaf(tmp_path):
    words = [*WORDS, W(5.7, 5.7, "oh")]
    tg = textgrid.openTextgrid(str(write_textgrid(tmp_path / "z.TextGrid", words, [], duration=DURATION)),
                               includeEmptyIntervals=False)
    assert [e.label for e in tg.getTier("words").entries] == [w.text for w in words]
    assert tg.getTier("words").entries[-1][:2] == (5.7, 5.72)
    eaf = Eaf(str(write_eaf(tmp_path / "z.eaf", words, [], duration=DURATION)))
    assert sorted(eaf.get_annotation_data_for_tier("words"))[-1] == (5700, 5720, "oh")
    assert len(eaf.get_annotation_data_for_tier("words")) == len(words)


def test_textgrid_reads_back_in_praatio(tmp_path):
    path = write_textgrid(tmp_path / "s.TextGrid", WORDS, MOMENTS, excluded=EXCLUDED, duration=DURATION)
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    assert tg.tierNames == TIERS
    assert (tg.minTimestamp, tg.maxTimestamp) == (0, DURATION)
    for name in TIERS:
        got = [(e.start, e.end, e.label) for e in tg.getTier(name).entries]
        assert got == EXPECTED[name], name
    # Praat's own view: the gaps are there as empty intervals, so the tier tiles the recording.
    full = textgrid.openTextgrid(str(path), includeEmptyIntervals=True).getTier("moments").entries
    assert full[0].start == 0 and full[-1].end == DURATION
    assert all(a.end == b.start for a, b in zip(full, full[1:], strict=False))


def test_eaf_reads_back_in_pympi(tmp_path):
    media = tmp_path / "s.wav"
    media.write_bytes(b"")
    path = write_eaf(tmp_path / "s.eaf", WORDS, MOMENTS, excluded=EXCLUDED, duration=DURATION, media=media)
    eaf = Eaf(str(path))
    assert sorted(eaf.get_tier_names()) == sorted(TIERS)
    for name in TIERS:
        got = sorted((a[0], a[1], a[2]) for a in eaf.get_annotation_data_for_tier(name))
        assert got == [(round(s * 1000), round(e * 1000), t) for s, e, t in EXPECTED[name]], name
    linked = eaf.get_linked_files()
    assert linked[0]["MEDIA_URL"] == media.resolve().as_uri() and linked[0]["MIME_TYPE"] == "audio/x-wav"


def test_words_csv_one_row_per_word():
    measures = compute_measures(WORDS, MOMENTS, excluded=EXCLUDED, duration=DURATION,
                                options=MeasureOptions(min_syllables=0, min_speaking_s=0))
    rows = list(csv.DictReader(io.StringIO(words_csv(measures))))
    assert [r["text"] for r in rows] == [w.text for w in WORDS]
    by_text = {r["text"]: r for r in rows}
    assert by_text["w-want"] == {"start": "1.000", "end": "1.600", "text": "w-want", "syllables": "1", "in_moment": "1",
                                 "moment_types": "SoundRep", "stuttered_syllables": "1", "in_interjection": "0",
                                 "excluded": "0", "excluded_by": "", "origin": "whisper"}
    assert by_text["say,"]["moment_types"] == "Prolongation+Block" and by_text["say,"]["stuttered_syllables"] == "1"
    assert by_text["um"]["in_interjection"] == "1" and by_text["um"]["in_moment"] == "0"
    # "Really?" (midpoint 4.25) is in the excluded stretch: listed, not counted
    assert by_text["Really?"]["excluded"] == "1" and by_text["Really?"]["syllables"] == "0"
    assert by_text["Really?"]["excluded_by"] == "clinician"  # no automatic stretches given: marked by hand
    assert by_text["\"this\""]["syllables"] == "1"


def test_word_exports_are_owner_only_and_formula_safe(tmp_path):
    """Issue 23: they were 0644 where the README promises 0600, and a word could run as a formula."""
    words = [*WORDS, W(5.7, 5.9, "=HYPERLINK(\"x\")"), W(5.9, 5.95, "@SUM(A1)")]
    measures = compute_measures(words, MOMENTS, duration=DURATION)
    paths = [write_textgrid(tmp_path / "p.TextGrid", words, MOMENTS, duration=DURATION),
             write_eaf(tmp_path / "p.eaf", words, MOMENTS, duration=DURATION),
             write_words_csv(tmp_path / "p.words.csv", measures)]
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in paths} == {"0o600"}
    rows = list(csv.DictReader(paths[2].open(encoding="utf-8")))
    assert [r["text"] for r in rows][-2:] == ["'=HYPERLINK(\"x\")", "'@SUM(A1)"]
    assert [r["text"] for r in rows][:-2] == [w.text for w in WORDS]  # plain words as they were


def corrected_words() -> list[Word]:
    from app.transcript_edits import TranscriptEdits

    t = TranscriptEdits(WORDS)
    t.edit(1, "want")  # the clinician's "want" for Whisper's "w-want"
    t.insert_after(5, "yes", duration=DURATION)  # a missed word in the pause after "Really?" (4.5-5.0 s)
    return list(t.words)


def test_word_exports_carry_the_corrected_words_and_say_so(tmp_path):
    words = corrected_words()
    measures = compute_measures(words, MOMENTS, excluded=EXCLUDED, duration=DURATION,
                                options=MeasureOptions(min_syllables=0, min_speaking_s=0))
    rows = list(csv.DictReader(io.StringIO(words_csv(measures, words))))
    assert [(r["text"], r["origin"]) for r in rows if r["origin"] != "whisper"] == [("want", "edited"), ("yes", "added")]
    assert len(rows) == 8 and rows[0]["origin"] == "whisper"
    tg = textgrid.openTextgrid(str(write_textgrid(tmp_path / "c.TextGrid", words, MOMENTS, duration=DURATION)),
                               includeEmptyIntervals=False)
    assert "want" in [e.label for e in tg.getTier("words").entries]
    # "yes" fills the pause after "Really?" (4.5-5.0 s), at most MAX_ADDED_S = 0.5 s of it
    assert [(e.start, e.end, e.label) for e in tg.getTier("corrected by clinician").entries] == [
        (1.0, 1.6, "edited"), (4.5, 5.0, "added")]
    eaf = Eaf(str(write_eaf(tmp_path / "c.eaf", words, MOMENTS, duration=DURATION)))
    assert sorted(eaf.get_annotation_data_for_tier("corrected by clinician")) == [(1000, 1600, "edited"),
                                                                                    (4500, 5000, "added")]
    assert dict(eaf.get_properties())["corrected"].startswith("transcript corrected by the clinician: 2 of 8 words")


def test_an_uncorrected_transcript_has_no_corrected_tier(tmp_path):
    eaf = Eaf(str(write_eaf(tmp_path / "w.eaf", WORDS, MOMENTS, duration=DURATION)))
    assert sorted(eaf.get_tier_names()) == sorted(TIERS) and "corrected" not in dict(eaf.get_properties())
