"""Syllables as clinicians count them (model/measures/intended_syllables.py), on hand-made word lists: every count by hand."""

from __future__ import annotations

import pytest

from model.measures.clinical import MeasureOptions, compute_measures
from model.measures.intended_syllables import FILLER, PART_WORD, REPETITION, intended_counts, is_filler
from model.measures.words import Word
from model.moments.decoding import STUTTERING, Moment

NO_MINIMUM = MeasureOptions(min_syllables=0, min_speaking_s=0)


def intended(text: str) -> list[int]:
    return [c.intended for c in intended_counts(text.split())]


def total(text: str) -> tuple[int, int]:
    counts = intended_counts(text.split())
    return sum(c.verbatim for c in counts), sum(c.intended for c in counts)


@pytest.mark.parametrize(("text", "expected"), [
    ("I I I want", [0, 0, 1, 1]),  # one I: the last copy counts
    ("I, i I. want", [0, 0, 1, 1]),  # case and punctuation do not hide a repetition
    ("the the beautiful beautiful day", [0, 1, 0, 3, 1]),
    ("I want I want to go", [0, 0, 1, 1, 1, 1]),  # a repeated run of two words counts once
    ("I want to I want to go", [0, 0, 0, 1, 1, 1, 1]),  # and of three
    ("I want I want I want to", [0, 0, 0, 0, 1, 1, 1]),  # said three times: once
    ("42 42 dogs", [0, 3, 1]),  # numbers are words like any other: forty-two once
])
def test_repetitions_count_once(text, expected):
    assert intended(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("b- ball", [0, 1]),  # a written fragment that begins the next word
    ("ba ball game", [0, 1, 1]),
    ("wh- what is it", [0, 1, 1, 1]),
    ("impac impacted my life", [0, 3, 1, 1]),
    ("b-b-ball", [1]),  # the hyphenated parts inside one token: "ball"
    ("I-I-I want", [1, 1]),
    ("b- b- ball", [0, 0, 1]),  # a repeated fragment, then the word
    ("well-being matters", [3, 2]),  # a hyphenated word whose parts do not begin its last: counted whole
])
def test_part_words_are_not_counted(text, expected):
    assert intended(text) == expected


def test_fillers_are_counted_apart_and_do_not_hide_a_repetition():
    counts = intended_counts(["Um,", "I", "uh", "I", "want", "erm", "HMM", "coffee"])
    assert [c.intended for c in counts] == [0, 0, 0, 1, 1, 0, 0, 2]
    assert [c.verbatim for c in counts] == [1, 1, 1, 1, 1, 1, 1, 2]
    assert [c.rule for c in counts] == [FILLER, REPETITION, FILLER, "", "", FILLER, FILLER, ""]
    assert is_filler("Uh...") and not is_filler("like") and not is_filler("umbrella")


def test_revisions_and_ordinary_speech_are_counted():
    # "I went, I was going": two attempts the speaker meant, no word said again right after itself.
    assert total("I went, I was going home") == (7, 7)
    # Words that begin with the word before are not fragments when they are the same word's start by chance
    # only if written so: "a about" is taken as a part-word (the rule's known cost, docs/syllables.md).
    assert intended("a about") == [0, 2]
    assert intended("so that that's it") == [1, 0, 1, 1]  # "that" begins "that's": a part-word of it


def test_tokens_without_letters_and_an_empty_list():
    assert intended("... I - I") == [0, 0, 0, 1]
    assert intended_counts([]) == []
    assert [c.rule for c in intended_counts(["b-b-ball", "ball"])] == [REPETITION, ""]
    assert intended_counts(["wh-", "what"])[0].rule == PART_WORD


def W(start: float, text: str) -> Word:
    return Word(start, start + 0.3, text, 1.0)


def test_pct_ss_on_a_hand_worked_example():
    # "I I I want to go to the b- b- ball, um, today" with a WordRep moment on "I I I" and a SoundRep on
    # "b- b- ball". Verbatim: 13 words, today 2 = 14 syllables. Intended: I, want, to, go, to, the, ball = 7,
    # today 2 = 9 (two I's, two b-'s and the um not counted). Stuttered: 2 (the last I, ball): 2 / 9 = 22.2 %SS;
    # the verbatim denominator gave 2 / 14 = 14.3 %SS, a severe speaker's repetitions pulling it down.
    text = ["I", "I", "I", "want", "to", "go", "to", "the", "b-", "b-", "ball,", "um,", "today"]
    words = [W(0.4 * i, t) for i, t in enumerate(text)]
    moments = [Moment(0.0, 1.1, 1.0, ("WordRep",), STUTTERING), Moment(3.2, 4.3, 1.0, ("SoundRep",), STUTTERING)]
    m = compute_measures(words, moments, options=NO_MINIMUM)
    assert (m.syllables, m.verbatim_syllables, m.stuttered_syllables) == (9, 14, 2)
    assert m.pct_ss == pytest.approx(200 / 9)
    assert m.pct_ss_by_type["WordRep"] == pytest.approx(100 / 9) and m.pct_ss_by_type["SoundRep"] == pytest.approx(
        100 / 9)
    rows = {(w.text, w.start): w for w in m.word_counts}
    assert rows[("I", 0.8)].stuttered_syllables == 1 and rows[("I", 0.0)].syllables == 0
    assert rows[("ball,", 4.0)].stuttered_syllables == 1 and rows[("um,", 4.4)].verbatim_syllables == 1
    assert m.to_dict()["verbatim_syllables"] == 14


def test_repetitions_without_a_moment_are_counted_once_too():
    # No moment detected: Whisper wrote the repetition, which is evidence enough (docs/syllables.md).
    m = compute_measures([W(0.0, "my"), W(0.4, "my"), W(0.8, "dog")], [], options=NO_MINIMUM)
    assert (m.syllables, m.verbatim_syllables) == (2, 3)


def test_someone_elses_words_between_two_copies_keep_both():
    # "yes [interviewer: really?] yes": two answers, not a repetition.
    words = [W(0.0, "yes"), W(0.5, "really?"), W(1.0, "yes")]
    m = compute_measures(words, [], excluded=[(0.45, 0.9)], options=NO_MINIMUM)
    assert m.syllables == 2 and [w.syllables for w in m.word_counts] == [1, 0, 1]


def test_no_words_and_no_minimum_gives_no_rates_rather_than_a_crash():
    m = compute_measures([], [], options=NO_MINIMUM)
    assert not m.enough_speech and m.pct_ss is None and m.spm is None


def test_a_word_whisper_wrote_in_hyphen_tokens_is_counted_whole():
    # Whisper's word timestamps split hyphenated words: "co" "-workers", "b" "-b" "-ball".
    assert intended("my co -workers") == [1, 0, 3]  # co-work-ers
    assert intended("my great -great -grandfather") == [1, 0, 0, 5]  # a word, not a repetition of "great"
    assert intended("b -b -ball game") == [0, 0, 1, 1]
    assert [c.verbatim for c in intended_counts(["b", "-b", "-ball"])] == [1, 1, 1]
    assert intended("a - dash") == [1, 0, 1]  # a lone dash is no word and joins nothing


def test_a_sound_written_over_and_over_is_one_syllable_or_a_part_word():
    # Whisper's loop on "pr-" before "prospects" (a 446-letter token once counted 446 syllables).
    loop = "P" + "rp" * 222 + "r"
    counts = intended_counts(["the", loop, "prospects"])
    assert [(c.verbatim, c.intended) for c in counts] == [(1, 1), (1, 0), (2, 2)]
    assert counts[1].rule == PART_WORD
    # Alone, or before a word it does not begin, it is one syllable the speaker said.
    assert [(c.verbatim, c.intended) for c in intended_counts(["mmmm", "I", "want"])] == [(1, 1), (1, 1), (1, 1)]
    assert total("ba bababa ball") == (2 + 1 + 1, 1)
