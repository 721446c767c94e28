"""CHAT transcript text (TalkBank's format, as in CASA's transcripts.csv) -> the words that were said.

What is removed, following the CHAT manual's codes as they occur in the FluencyBank transcripts:
- bracketed codes: `[/]` repetition, `[//]` retracing, `[=! laughing]`, `[: suppose]` (the spoken word before
  it is kept, not the replacement), `[*]` and any other `[...]`;
- `<` `>` scope brackets (their words are kept), terminators and pauses (`.`, `?`, `+...`, `+//.`, `(.)`);
- `&=laughs` events, `&+prof` phonological fragments (an unfinished word), `&~so` nonwords, `xxx`/`yyy`/`www`
  (unintelligible or untranscribed), `0is` (a word not said);
- inside words: `@l`/`@c`-style suffixes, the part-word repetition `↫t-t↫talking` -> `talking`, the block
  `≠` and the pause-in-word `^`, the prolongation `:` (`s:tuttering` -> `stuttering`), material in
  parentheses that was not said (`(be)cause` -> `cause`); compounds `a_lot_of` -> `a lot of`;
- tokens with `;` (ELAN labels such as `B;FG;1` that leaked into two utterances: not words).
Fillers `&-um`, `&-uh`, `&-like`, `&-you_know` are kept as words and flagged as interjections.

`retraced=False` also drops what a `[/]` or `[//]` retraces (the word, or the `<group>`, before it), leaving
the words of the final, fluent production; the default keeps everything that was said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(r"\[[^\]]*\]|<|>|[^\s<>\[\]]+")  # a [code], a scope bracket, or a word-ish run
_RETRACE_CODES = frozenset({"[/]", "[//]", "[///]", "[/-]", "[/?]"})
_UNINTELLIGIBLE = frozenset({"xxx", "yyy", "www", "xx", "yy"})
_PART_WORD = re.compile(r"↫[^↫]*↫")  # ↫t-t↫: the repeated sounds before the word
_NOT_SAID = re.compile(r"\([^)]*\)")  # (be)cause: the part in parentheses was not said
_INWORD_MARKS = re.compile(r"[↫≠^:~+\"“”]")
_EDGE_PUNCT = re.compile(r"^[^\w']+|[^\w']+$")
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@dataclass(frozen=True)
class ChatWord:
    word: str  # as said, codes removed (case kept)
    filler: bool  # an interjection / filled pause (&-um, &-uh, &-like, &-you_know)


def _clean_word(raw: str) -> list[ChatWord]:
    """One whitespace token -> zero or more words."""
    filler = raw.startswith("&-")
    if ";" in raw or (raw.startswith("&") and not filler) or raw.startswith("0") or raw.lower() in _UNINTELLIGIBLE:
        return []
    text = raw[2:] if filler else raw
    text = text.split("@", 1)[0]
    text = _PART_WORD.sub("", text)
    text = _NOT_SAID.sub("", text)
    text = _INWORD_MARKS.sub("", text)
    words = []
    for part in text.split("_"):
        part = _EDGE_PUNCT.sub("", part)
        if any(c.isalpha() for c in part) and part.lower() not in _UNINTELLIGIBLE:
            words.append(ChatWord(part, filler))
    return words


@dataclass
class _Unit:
    words: list[ChatWord]  # what one token or one <group> says (may be empty: a pause, a fragment)
    codes: list[str] = field(default_factory=list)  # the [codes] right after it, e.g. ["[/]"]


def _units(text: str) -> list[_Unit]:
    """The utterance as units (a word token, or a <group>), each with the bracketed codes that follow it."""
    units: list[_Unit] = []
    group: _Unit | None = None
    depth = 0
    for tok in _TOKEN.findall(text):
        if tok == "<":
            depth += 1
            group = group if group is not None else _Unit([])
        elif tok == ">":
            depth = max(depth - 1, 0)
            if depth == 0 and group is not None:
                units.append(group)
                group = None
        elif tok.startswith("["):
            if group is None and units:  # a code inside a <group> is rare here and scopes inside it: ignored
                units[-1].codes.append(tok)
        elif group is not None:
            group.words.extend(_clean_word(tok))
        else:
            units.append(_Unit(_clean_word(tok)))
    if group is not None:  # an unclosed <: keep its words
        units.append(group)
    return units


def chat_tokens(text: str, *, retraced: bool = True) -> list[ChatWord]:
    """The words of one CHAT utterance, each flagged filler or not (see the module docstring for the rules).

    retraced: keep the words that a [/] or [//] retraces (what was said); False leaves the final production.
    """
    return [w for unit in _units(text) if retraced or not _RETRACE_CODES & set(unit.codes) for w in unit.words]


def chat_words(text: str, *, retraced: bool = True, fillers: bool = True) -> list[str]:
    """The words of one CHAT utterance as strings; fillers=False leaves out the interjections (&-um ...)."""
    return [w.word for w in chat_tokens(text, retraced=retraced) if fillers or not w.filler]


def repeated_units(text: str) -> list[list[str]]:
    """The words of each unit that a [/] marks as repeated ("I [/] I" -> [["I"]]; "<I went> [/]" -> [["I", "went"]])."""
    return [[w.word for w in u.words] for u in _units(text) if "[/]" in u.codes and u.words]


def syllable_count(word: str) -> int:
    """Syllables of an English word by vowel groups, with the common silent-e, -ed, -es, -ing and n't corrections.

    A heuristic (no pronouncing dictionary: the ones on PyPI are GPL): right for the short function words that
    stutterers repeat ("I", "and", "the", "my", "didn't" = 2), within one on most longer words. 0 for no word.
    """
    w = re.sub(r"[^a-z']", "", word.lower())
    if not any(c.isalpha() for c in w):
        return 0
    letters = w.replace("'", "")
    n = len(_VOWEL_GROUPS.findall(letters))
    if n > 1 and letters.endswith("e") and not letters.endswith(("le", "ee", "ye")):
        n -= 1  # make, I've, there: the final e is silent
    elif n > 1 and letters.endswith("ed") and not letters.endswith(("ted", "ded")):
        n -= 1  # talked, used: -ed adds no syllable after most consonants
    elif n > 1 and letters.endswith("es") and not re.search(r"(?:[sxzcg]|ch|sh)es$", letters):
        n -= 1  # makes, times (but uses, boxes, changes keep it)
    if re.search(r"[aeiouy]ing$", letters):
        n += 1  # going, being, saying: -ing after a vowel is a syllable of its own
    if w.endswith("n't") and len(w) > 3 and w[-4] not in "aeiouy":
        n += 1  # didn't, wasn't: n't is its own syllable after a consonant (don't, can't: not)
    return max(n, 1)
