"""Syllable counts of a hand-checked word list (each count said aloud and checked against the module's rules)."""

from __future__ import annotations

import pytest

from model.measures.syllables import (
    count_syllables,
    in_dictionary,
    normalise_word,
    repeated_unit,
    word_syllables,
)

# word -> syllables, checked by hand. Grouped by the rule that counts them.
HAND_CHECKED = {
    # the CMU dictionary, first pronunciation
    "the": 1, "a": 1, "stuttering": 3, "syllable": 3, "beautiful": 3, "Wednesday": 2, "realistic": 4,
    "naturally": 4, "every": 3, "fire": 2, "little": 2, "okay": 2, "yeah": 1, "um": 1, "uh": 1,
    "gonna": 2, "therapy": 3, "pathologist": 4, "FBI": 3, "NASA": 2,
    # case and punctuation around the word
    "Hello,": 2, "WORLD!": 1, '"quoted"': 2, "(aside)": 2, "end.": 1, "Really?": 2,
    # accents and curly apostrophes
    "café": 2, "don\u2019t": 1,
    # a dictionary entry with no vowel phone is still one spoken syllable
    "hmm": 1, "mm": 1,
    # abbreviations read as words
    "Dr.": 2, "vs": 2,
    # numbers, years, ordinals, decimals, percent, currency, digits in words
    "7": 2, "8": 1, "42": 3, "100": 3, "1990": 4, "2005": 5, "1990s": 4, "1,000": 3, "3.5": 3, "21st": 3,
    "50%": 4, "$5": 3, "mp3": 3,
    # hyphens and slashes
    "well-being": 3, "Mm-hmm": 2, "uh-huh": 2, "and/or": 2,
    # contractions and possessives, in the dictionary or by the clitic rule
    "couldn't": 2, "shouldn't": 2, "mustn't": 2, "can't": 1, "won't": 1, "I'm": 1, "we'll": 1,
    "it'd": 2, "church's": 2, "Thompson's": 2, "dog's": 1, "Kate's": 1,
    # one short sound written over and over (Whisper's sound repetitions and loops): one syllable, however long
    "Prprprpr": 1, "P" + "rp" * 222 + "r.": 1, "mmmm": 1, "bababa": 1, "tttttt": 1,
    "BA" * 40: 1, "BAM" + "AM" * 38: 1,  # loops in capitals (Whisper at temperature 0)
    # ... but not a dictionary word, a sound said only twice, or capitals (letters spelled out)
    "murmur": 2, "tutu": 2, "pr": 2, "WWW": 9,
    # spelled out: capitals the dictionary lacks, or no vowel letter
    "GPT": 3, "w": 3,
    # vowel groups for words nobody has written down
    "zorblax": 2, "flibbertigibbet": 5, "blorpification": 5, "gurgle": 2, "schmoo": 1, "brinium": 3,
    # nothing to say
    "...": 0, "\u2014": 0, "": 0,
}


@pytest.mark.parametrize(("word", "expected"), HAND_CHECKED.items())
def test_hand_checked_word(word, expected):
    assert word_syllables(word) == expected


def test_made_up_words_are_not_in_the_dictionary():
    # So the vowel-group cases above really test the fallback, not a dictionary hit.
    for word in ("zorblax", "flibbertigibbet", "blorpification", "brinium", "couldn't've"):
        assert not in_dictionary(word)
    assert in_dictionary("stuttering")


def test_count_syllables_sums_words():
    words = ["The", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "near", "the", "river", "bank"]
    # 1+1+1+1+1+2+1+2+1+1+1+2+1
    assert count_syllables(words) == 16
    assert count_syllables([]) == 0


def test_normalise_word():
    assert normalise_word(" Hello,") == "hello"
    assert normalise_word("\u2018Cause") == "cause"
    assert normalise_word("50%.") == "50%"
    assert normalise_word("--") == ""


def test_repeated_unit_names_the_sound():
    assert repeated_unit("Prprprprpr,") == "pr"
    assert repeated_unit("bababa") == "ba"
    assert repeated_unit("mmmm") == "m"
    assert repeated_unit("BAM" + "AM" * 38) == "bam"  # what comes before the repetition, and the unit once
    for token in ("prpr", "murmur", "WWW", "ball", "", "..."):
        assert repeated_unit(token) is None
