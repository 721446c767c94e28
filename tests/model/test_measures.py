"""Clinical measures on a hand-made words + moments example, every number worked out by hand below."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from model.measures.clinical import MeasureOptions, compute_measures, merge_stretches
from model.measures.words import Word
from model.moments.decoding import INTERJECTION, STUTTERING, Moment


def W(start: float, end: float, text: str) -> Word:
    return Word(start, end, text, 1.0)


def M(start: float, end: float, types: tuple[str, ...], kind: str = STUTTERING) -> Moment:
    return Moment(start, end, 1.0, types, kind)


WORDS = [
    W(0.0, 0.4, "I"), W(0.5, 1.0, "want"), W(1.0, 1.6, "to"), W(1.7, 2.4, "go"), W(2.5, 3.2, "home"),
    W(3.4, 4.0, "um"), W(4.1, 4.8, "today."),
    # 3 s later the interviewer (excluded 7.5-9.0) asks something
    W(7.8, 8.2, "Where"), W(8.3, 8.8, "now?"),
    W(9.5, 10.2, "beautiful"), W(10.2, 10.8, "b-b-ball"), W(11.0, 11.5, "game"),
    W(12.0, 12.2, "my"), W(12.3, 12.5, "my"), W(12.6, 12.8, "my"), W(12.9, 13.3, "dog"),
]
MOMENTS = [
    M(0.9, 1.3, ("Block", "Prolongation")),  # A: spans "want" and "to": one stuttered syllable, on "want"
    M(3.4, 4.0, ("Interjection",), INTERJECTION),  # D: the "um", counted apart (a filler: 0 syllables)
    M(5.5, 6.1, ("Block",)),  # E: silent block in the pause, no word under it: goes to "today." 0.7 s before
    M(8.0, 8.5, ("Prolongation",)),  # C: midpoint 8.25 is in the excluded stretch: left out
    M(10.2, 10.8, ("SoundRep",)),  # B: "b-b-ball" counts as "ball", 1 syllable, stuttered
    M(12.0, 12.85, ("WordRep",)),  # W: "my my my" counts once; the stuttered syllable is the last "my"
    M(16.0, 16.4, ("Prolongation",)),  # G: no word within 2 s either side: unattached
]
EXCLUDED = [(7.5, 9.0)]
# Rates need 50 syllables and 10 s by default; the example is smaller, so the test lowers them.
OPTIONS = MeasureOptions(min_syllables=10, min_speaking_s=5.0)


@pytest.fixture(scope="module")
def measures():
    return compute_measures(WORDS, MOMENTS, excluded=EXCLUDED, duration=20.0, options=OPTIONS)


def test_syllables_and_words(measures):
    # Kept words: I want to go home um(0: a filler) today.(2) beautiful(3) b-b-ball(1) game my(0) my(0) my dog
    # = 1+1+1+1+1+0+2+3+1+1+0+0+1+1 = 14, plus the unattached moment G as one syllable = 15.
    # (Issue 26 left the filler out: 16 before.) Verbatim: um 1, b-b-ball 3 (b, b, ball), each my 1: 20.
    assert measures.words == 14
    assert measures.syllables == 15
    assert measures.verbatim_syllables == 20
    assert measures.unattached_moments == 1


def test_speaking_time_leaves_out_long_pauses(measures):
    # Spans joined across gaps <= 2 s: [0, 6.1] (words to 4.8, block E to 6.1), then 3.4 s of pause,
    # [9.5, 13.3], 2.7 s of pause, [16.0, 16.4] (moment G): 6.1 + 3.8 + 0.4 = 10.3 s.
    assert measures.speaking_time_s == pytest.approx(10.3)
    assert measures.spm == pytest.approx(15 / 10.3 * 60)  # 87.38
    assert measures.wpm == pytest.approx(14 / 10.3 * 60)  # 81.55


def test_pct_ss_counts_each_syllable_once(measures):
    # Stuttered: want (A), today. (E), ball (B), the last my (W), G unattached = 5 of 15 syllables.
    assert measures.stuttering_moments == 5
    assert measures.stuttered_syllables == 5
    assert measures.pct_ss == pytest.approx(100 / 3)
    # Block: A, E = 2/15; Prolongation: A, G (C excluded) = 2/15; SoundRep: B; WordRep: W.
    assert measures.pct_ss_by_type == pytest.approx({"Prolongation": 40 / 3, "Block": 40 / 3, "SoundRep": 20 / 3,
                                                     "WordRep": 20 / 3})


def test_interjections_apart(measures):
    assert measures.interjections == 1
    assert measures.interjections_per_100_syllables == pytest.approx(20 / 3)


def test_longest_moments(measures):
    # Stuttering durations: W 0.85, B 0.6, E 0.6, A 0.4, G 0.4; mean of three = 2.05 / 3 = 0.683 -> 0.7.
    assert measures.longest_s == pytest.approx(0.85)
    assert measures.longest3_mean_s == 0.7


def test_excluded_stretch_reported(measures):
    assert measures.excluded_s == pytest.approx(1.5)
    assert measures.excluded_moments == 1
    excluded = [w.text for w in measures.word_counts if w.excluded]
    assert excluded == ["Where", "now?"]


def test_word_rows(measures):
    rows = {(w.text, w.start): w for w in measures.word_counts}
    assert rows[("want", 0.5)].in_moment and rows[("want", 0.5)].stuttered_syllables == 1
    assert rows[("want", 0.5)].moment_types == ("Prolongation", "Block")
    assert rows[("to", 1.0)].in_moment and rows[("to", 1.0)].stuttered_syllables == 0
    assert not rows[("today.", 4.1)].in_moment and rows[("today.", 4.1)].stuttered_syllables == 1
    assert rows[("um", 3.4)].in_interjection and not rows[("um", 3.4)].in_moment
    assert [rows[("my", t)].syllables for t in (12.0, 12.3, 12.6)] == [0, 0, 1]
    assert rows[("b-b-ball", 10.2)].syllables == 1
    assert len(measures.word_counts) == len(WORDS)


def test_to_dict_has_the_summary_columns(measures):
    d = measures.to_dict()
    for key in ("syllables", "speaking_time_s", "spm", "pct_ss", "pct_ss_Block", "pct_ss_WordRep",
                "interjections_per_100_syllables", "longest3_mean_s", "excluded_s"):
        assert key in d
    assert d["pct_ss"] == 33.33 and d["spm"] == 87.4 and (d["syllables"], d["verbatim_syllables"]) == (15, 20)


def test_excluded_stretch_inside_speech_is_not_speaking_time():
    words = [W(0.0, 1.0, "hello"), W(2.0, 3.0, "there")]
    # 0-3 s is one span (gap 1 s); 1.2-1.8 s is someone else: 3.0 - 0.6 = 2.4 s
    m = compute_measures(words, [], excluded=[(1.2, 1.8)], options=MeasureOptions(min_syllables=0, min_speaking_s=0))
    assert m.speaking_time_s == pytest.approx(2.4)
    assert m.pct_ss == 0.0


def test_too_little_speech_gives_no_rates():
    m = compute_measures([W(0.0, 0.3, "yes")], [M(0.0, 0.2, ("Block",))])
    assert not m.enough_speech and "too little speech" in m.note
    assert m.pct_ss is None and m.spm is None and m.interjections_per_100_syllables is None
    assert set(m.pct_ss_by_type.values()) == {None}
    # The counts are still there for the clinician to see.
    assert m.syllables == 1 and m.stuttered_syllables == 1 and m.longest_s == pytest.approx(0.2)


def test_two_moments_on_one_syllable_count_once():
    words = [W(0.0, 0.5, "cat"), W(0.6, 1.4, "beautiful")]
    moments = [M(0.0, 0.1, ("SoundRep",)), M(0.2, 0.3, ("Block",)),  # both on "cat" (1 syllable)
               M(0.6, 0.7, ("Block",)), M(0.9, 1.0, ("Block",))]  # two on "beautiful" (3): both count
    m = compute_measures(words, moments, options=MeasureOptions(min_syllables=0, min_speaking_s=0))
    assert (m.syllables, m.stuttered_syllables) == (4, 3)


def test_merge_stretches_and_errors():
    assert merge_stretches([(5, 6), (1, 2), (1.5, 3)], duration=5.5) == [(1.0, 3.0), (5.0, 5.5)]
    with pytest.raises(ValueError, match="end must come after"):
        merge_stretches([(2, 1)])
    with pytest.raises(ValueError, match="moment kind"):  # a duck-typed moment, not model.moments.decoding.Moment
        compute_measures([], [SimpleNamespace(start=0.0, end=1.0, types=(), kind="other")])
