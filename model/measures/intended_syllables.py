"""Syllables as clinicians count them: the syllables the speaker meant, from the words as transcribed.

%SS divides stuttered syllables by the syllables of what the speaker meant. SSI-4 (Riley, 2009) counts each
stuttered syllable once however many times it is repeated, and leaves repeated sounds, syllables and words,
and fillers ("um", "uh"), out of the syllable count; CLAN's FLUCALC (MacWhinney, CLAN manual) counts the
syllables of the final production: retraced material is not counted ([/] repetitions) and fillers
(&-um) are not words. A transcriber writes some repetitions out ("I I I want", "b-b-ball") and drops
others, so the verbatim words over-count a speaker who repeats, the more the more they stutter. The rules,
each word counted by model.measures.syllables first (its verbatim syllables), then, in time order:

(a) Repetition. A word said again right after itself counts once: the earlier copies count 0, the last
    one its syllables ("I I I want" = 2). Words are compared as looked up (model.measures.syllables.normalise_word:
    case, outer punctuation, accents off: "I," "i" are the same word). No stuttering moment is required:
    Whisper writes a repetition only when it heard one, and on FluencyBank Timestamped's hand-corrected
    words 1,196 of 1,232 immediate repeats are flagged repetitions (the rest: "like like", "blah blah";
    docs/syllables.md has the measurement, with and without a moment required).
(b) Repeated sequences. A run of up to MAX_SEQUENCE words said again right after itself counts once ("I
    want I want to" = 3): the earlier copy counts 0. The shortest repeated run is taken first.
(c) Part-words. A fragment that begins the next word ("b- ball", "ba ball", "wh- what", "impac impacted")
    counts 0, and so do the hyphenated parts inside one token that begin its last part ("b-b-ball" = "ball";
    "I-I-I" = "I"). On Timestamped's words 717 of 751 such fragments are flagged part-words or repetitions.
    A sound written over and over in one token ("Prprprpr prospects": model.measures.syllables.repeated_unit)
    is compared as its sound, so it too is a part-word when the next word begins with it; alone it counts the
    one syllable that module gives it.
(d) Fillers. A word of FILLERS ("um", "uh", "er", "hmm" ...) counts 0 here: SSI-4 and FLUCALC leave fillers
    out of the syllables; the measures report them apart (interjections, and their words' syllables).
    Fillers are skipped when (a)-(c) look for "right after": "I, um, I want" is a repetition.
(e) Revisions count: "I went, I was going" is two attempts the speaker meant, and nothing in the words
    alone tells a revision from a sentence (CLAN does drop retraced revisions [//]: a transcriber marks them
    by ear; Timestamped's `intended` drops them too: docs/syllables.md says how much that is).
A token with no letter or digit counts 0 (model.measures.syllables). Whisper writes a hyphenated word in tokens
("co" "-workers", "great" "-great" "-grandfather", "b" "-b" "-ball"): a token that starts with a hyphen is
joined to the one before it and the rules see the whole word. The per-token counts keep their order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .syllables import normalise_word, repeated_unit, word_syllables

__all__ = ["COUNTED", "FILLER", "FILLERS", "MAX_SEQUENCE", "PART_WORD", "REPETITION", "SyllableCount",
           "intended_counts", "is_filler"]

# Filled pauses as transcribers write them (Whisper: "um", "uh", "hmm"; CHAT &-um, &-uh, &-er). Not "like",
# "you know", "well": those are words that can carry meaning, which the words alone cannot tell.
FILLERS = frozenset({"um", "umm", "ummm", "uh", "uhh", "uhhh", "uhm", "er", "err", "erm", "ah", "ahh", "eh",
                     "hm", "hmm", "hmmm", "mm", "mmm"})
# Longest run of words looked for as a repeated sequence (rule b). Measured on Timestamped's hand-corrected
# words: runs of 1-3 take out 1,648 syllables (1,567 flagged disfluent); 4 adds 16, 6 adds 9 more.
MAX_SEQUENCE = 3

COUNTED, REPETITION, PART_WORD, FILLER = "", "repetition", "part-word", "filler"  # SyllableCount.rule


@dataclass(frozen=True)
class SyllableCount:
    """One word's syllables: as written, and as the speaker meant them (module doc)."""

    verbatim: int  # model.measures.syllables.word_syllables of the word as written
    intended: int  # 0 for a repetition, a part-word or a filler; the hyphenated part-word's last part
    # (a word written in several tokens, "co" "-workers", has it on its last token, 0 on the others)
    rule: str  # why intended differs: COUNTED (""), REPETITION, PART_WORD or FILLER


def is_filler(text: str) -> bool:
    """Whether a transcript word is a filled pause of FILLERS (rule d), whatever its case and punctuation."""
    return normalise_word(text) in FILLERS


def _hyphen_part_word(text: str) -> str | None:
    """The last part of "b-b-ball" / "I-I-I" (its earlier parts begin it), else None."""
    parts = [p for p in (normalise_word(p) for p in text.split("-")) if p]
    if len(parts) > 1 and all(parts[-1].startswith(p) for p in parts[:-1]):
        return parts[-1]
    return None


def _repeated(keys: Sequence[str]) -> set[int]:
    """Positions in keys that are an earlier copy of a word or run said again right after (rules a, b)."""
    out: set[int] = set()
    i = 0
    while i < len(keys):
        for n in range(1, MAX_SEQUENCE + 1):
            if i + 2 * n <= len(keys) and keys[i:i + n] == keys[i + n:i + 2 * n]:
                out.update(range(i, i + n))
                i += n  # the later copy may itself be said again
                break
        else:
            i += 1
    return out


def _part_words(keys: Sequence[str], skip: set[int]) -> set[int]:
    """Positions whose word is a fragment that begins the next word (rule c)."""
    return {i for i in range(len(keys) - 1) if i not in skip and keys[i] != keys[i + 1]
            and keys[i + 1].startswith(keys[i])}


def _pieces(texts: Sequence[str]) -> list[list[int]]:
    """Token positions grouped into words: Whisper writes "co-workers" as "co" "-workers" and "b-b-ball" as
    "b" "-b" "-ball", so a token that starts with a hyphen continues the one before it."""
    groups: list[list[int]] = []
    for i, t in enumerate(texts):
        if groups and t.strip().startswith("-") and normalise_word(t):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def _whole_words(words: Sequence[str]) -> list[tuple[int, str]]:
    """(intended syllables, rule) per whole word (rules a-d of the module doc)."""
    rule = [FILLER if is_filler(t) else COUNTED for t in words]
    intended = [0 if r == FILLER else word_syllables(t) for r, t in zip(rule, words, strict=True)]
    for i, t in enumerate(words):
        if rule[i] == COUNTED and (last := _hyphen_part_word(t)) is not None:
            intended[i], rule[i] = word_syllables(last), PART_WORD
    # Rules a-c compare the words that are spoken content, fillers and empty tokens skipped.
    content = [i for i, t in enumerate(words) if rule[i] != FILLER and normalise_word(t)]
    keys = [_hyphen_part_word(words[i]) or repeated_unit(words[i]) or normalise_word(words[i]) for i in content]
    repeated = _repeated(keys)
    for k in sorted(repeated | _part_words(keys, repeated)):
        i = content[k]
        intended[i], rule[i] = 0, REPETITION if k in repeated else PART_WORD
    return list(zip(intended, rule, strict=True))


def intended_counts(texts: Sequence[str]) -> list[SyllableCount]:
    """Per token of a transcript in time order, its verbatim and intended syllables (rules in the module doc).

    A word written in several tokens ("co" "-workers") is counted whole, its intended syllables on its last token.
    """
    groups = _pieces(texts)
    whole = _whole_words(["".join(texts[i].strip() for i in g) for g in groups])
    out: list[SyllableCount] = []
    for g, (intended, rule) in zip(groups, whole, strict=True):
        out += [SyllableCount(word_syllables(texts[i]), intended if i == g[-1] else 0, rule) for i in g]
    return out
