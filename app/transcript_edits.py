"""The clinician's corrections of a transcript: edit, split, join, add and delete words, with undo. No Qt.

Whisper writes what it heard ("two sales which is all the way from jib..."); the clinician, used to
correcting a transcript in CLAN, puts it right, and the syllables and %SS follow (app.qt.clinical_state
recomputes the measures from the corrected words). Each operation is a pure function from a tuple of
words in time order to a new one; `TranscriptEdits` keeps the words with an undo and a redo stack of
whole word tuples (a tuple of 10,000 references per step: cheap, and nothing to get wrong in reverse).

A word the clinician touched is a `TranscriptWord` with its `origin`: "edited" (text or times changed:
an edit, both halves of a split, a join) or "added"; Whisper's words stay model.measures.words.Word, stored as
before, so sessions and drafts written before corrections existed load unchanged. Bad input (an index
off the transcript, an empty word, a time outside the recording or over another word) is a ValueError
that says what to do, and leaves the words as they were.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from model.audio.decode import TOKENS_PER_SECOND
from model.measures.words import Word

WHISPER, EDITED, ADDED = "whisper", "edited", "added"
ORIGINS = (WHISPER, EDITED, ADDED)  # where a word came from; all but WHISPER are corrections
CLINICIAN_PROBABILITY = 1.0  # a word the clinician typed or confirmed: no transcriber's doubt about it
MIN_GAP_S = 2 / TOKENS_PER_SECOND  # 0.04 s: a pause shorter than two encoder frames has no room for a word
MAX_ADDED_S = 0.5  # seconds: a word added into a long pause takes at most this much of it (not the whole pause)

Words = tuple[Word, ...]


@dataclass(frozen=True)
class TranscriptWord(Word):
    """A word the clinician corrected or added (model.measures.words.Word plus where it came from)."""

    origin: str = EDITED  # one of ORIGINS

    def __post_init__(self):
        if self.origin not in ORIGINS:
            raise ValueError(f"word origin {self.origin!r}: give one of {', '.join(ORIGINS)}")


def origin_of(word: object) -> str:
    return getattr(word, "origin", WHISPER)


def is_corrected(word: object) -> bool:
    """True for a word the clinician edited or added."""
    return origin_of(word) != WHISPER


def word_from_dict(data: Mapping) -> Word:
    """A stored word (Word.to_dict(), with "origin" when corrected); TypeError/ValueError for a bad one."""
    return TranscriptWord(**data) if "origin" in data else Word(**data)


def _clinicians(start: float, end: float, text: str, origin: str = EDITED) -> TranscriptWord:
    return TranscriptWord(float(start), float(end), text, CLINICIAN_PROBABILITY, origin)


def _index(words: Sequence[Word], i: int) -> Word:
    if not 0 <= i < len(words):
        raise ValueError(f"word {i}: the transcript has words 0 to {len(words) - 1}")
    return words[i]


def _tokens(text: str) -> list[str]:
    tokens = str(text).split()
    if not tokens:
        raise ValueError("an empty word: type the word, or delete it (Del) to remove it")
    return tokens


def _divide(start: float, end: float, texts: Sequence[str]) -> list[tuple[float, float]]:
    """start..end shared among `texts` in proportion to their characters (a longer word takes longer to say)."""
    total, spans, done = sum(len(t) for t in texts), [], 0
    for t in texts:
        a = start + (end - start) * done / total
        done += len(t)
        spans.append((a, start + (end - start) * done / total))
    return spans


def edit_word(words: Sequence[Word], i: int, text: str) -> Words:
    """Word i's text replaced; several words typed ("two sales" -> "tonsils", "football" -> "foot ball") share
    its time by characters."""
    w, tokens = _index(words, i), _tokens(text)
    if tokens == [w.text]:
        return tuple(words)
    new = [_clinicians(a, b, t) for (a, b), t in zip(_divide(w.start, w.end, tokens), tokens, strict=True)]
    return (*words[:i], *new, *words[i + 1:])


def split_word(words: Sequence[Word], i: int, *, at: float | None = None) -> Words:
    """Word i cut in two: at `at` seconds (strictly inside it) or else in the middle of its characters; the
    text is cut at the character matching the time ("football" -> "foot" "ball"), to be corrected after."""
    w = _index(words, i)
    if len(w.text) < 2:
        raise ValueError(f"{w.text!r} has one character: nothing to split (edit it, or add a word after it)")
    if at is None:
        cut = len(w.text) // 2
        at = w.start + w.duration * cut / len(w.text)
    elif not w.start < at < w.end:
        raise ValueError(f"split {w.text!r} ({w.start:.2f}-{w.end:.2f} s) at {at:.2f} s: put the playhead inside it")
    else:
        cut = min(max(round(len(w.text) * (at - w.start) / w.duration), 1), len(w.text) - 1)
    return (*words[:i], _clinicians(w.start, at, w.text[:cut]), _clinicians(at, w.end, w.text[cut:]),
            *words[i + 1:])


def join_words(words: Sequence[Word], i: int) -> Words:
    """Word i and the next made one word ("foot" "ball" -> "football"), from the first's start to the later end."""
    a = _index(words, i)
    if i + 1 >= len(words):
        raise ValueError(f"{a.text!r} is the last word: there is no next word to join it with")
    b = words[i + 1]
    return (*words[:i], _clinicians(a.start, max(a.end, b.end), a.text + b.text), *words[i + 2:])


def delete_word(words: Sequence[Word], i: int) -> Words:
    _index(words, i)
    return (*words[:i], *words[i + 1:])


def insert_word(words: Sequence[Word], text: str, start: float, end: float, *, duration: float | None = None
                ) -> Words:
    """A missed word added at start..end seconds (inside the recording, over no other word); several words
    typed share the time by characters."""
    tokens, start, end = _tokens(text), float(start), float(end)
    if not 0 <= start < end:
        raise ValueError(f"a word from {start:.2f} to {end:.2f} s: give 0 <= start < end")
    if duration and end > duration:
        raise ValueError(f"a word ending at {end:.2f} s: the recording is {duration:.2f} s long; end it there")
    over = next((w for w in words if w.start < end and start < w.end), None)
    if over is not None:
        raise ValueError(f"{start:.2f}-{end:.2f} s is over {over.text!r} ({over.start:.2f}-{over.end:.2f} s): add "
                         "the word in a pause, or edit that word (typing two words splits its time)")
    k = bisect_left([w.start for w in words], start)
    new = [_clinicians(a, b, t, ADDED) for (a, b), t in zip(_divide(start, end, tokens), tokens, strict=True)]
    return (*words[:k], *new, *words[k:])


def insert_after(words: Sequence[Word], i: int, text: str, *, duration: float | None = None) -> Words:
    """A missed word said after word i (i = -1: before the first): in the pause there (at most MAX_ADDED_S of
    it); with no pause (Whisper's words often touch) word i gives the new word its share of its time."""
    tokens = _tokens(text)
    before = _index(words, i) if i >= 0 else None
    gap_start = before.end if before is not None else 0.0
    gap_end = words[i + 1].start if i + 1 < len(words) else (duration or gap_start + MAX_ADDED_S)
    if gap_end - gap_start >= MIN_GAP_S:
        return insert_word(words, " ".join(tokens), gap_start, min(gap_end, gap_start + MAX_ADDED_S),
                           duration=duration)
    if before is None:
        raise ValueError(f"the first word starts at {gap_end:.2f} s: no room before it; edit it instead")
    (a, b), *spans = _divide(before.start, before.end, [before.text, *tokens])
    shortened = TranscriptWord(**{**before.to_dict(), "start": a, "end": b, "origin": EDITED})
    new = [_clinicians(s, e, t, ADDED) for (s, e), t in zip(spans, tokens, strict=True)]
    return (*words[:i], shortened, *new, *words[i + 1:])


class TranscriptEdits:
    """One transcript's words with the clinician's edits, undoable and redoable (app.review's pattern)."""

    def __init__(self, words: Sequence[Word] = ()):
        self.words: Words = tuple(words)
        self._steps: list[tuple[str, Words, Words]] = []  # (what, words before, words after), oldest first
        self._done = 0  # how many of the steps are applied; the rest are undone, ready to redo

    def edit(self, i: int, text: str) -> bool:
        """Each operation returns True when the words changed (an undo step), False for the same words again."""
        return self._apply(self._named("edit", i), edit_word(self.words, i, text))

    def split(self, i: int, *, at: float | None = None) -> bool:
        return self._apply(self._named("split", i), split_word(self.words, i, at=at))

    def join(self, i: int) -> bool:
        return self._apply(self._named("join", i) + " with the next word", join_words(self.words, i))

    def delete(self, i: int) -> bool:
        return self._apply(self._named("delete", i), delete_word(self.words, i))

    def insert(self, text: str, start: float, end: float, *, duration: float | None = None) -> bool:
        return self._apply(f"add {text.strip()!r}", insert_word(self.words, text, start, end, duration=duration))

    def insert_after(self, i: int, text: str, *, duration: float | None = None) -> bool:
        return self._apply(f"add {text.strip()!r}", insert_after(self.words, i, text, duration=duration))

    def replace_all(self, words: Sequence[Word], what: str) -> bool:
        """New words for the whole transcript (a new transcription) as one undo step: corrections one undo away."""
        return self._apply(what, tuple(words))

    def _named(self, verb: str, i: int) -> str:
        """The undo step's name ("split 'football'"); the operation itself checks the index."""
        return f"{verb} {self.words[i].text!r}" if 0 <= i < len(self.words) else verb

    def _apply(self, what: str, words: Words) -> bool:
        if words == self.words:
            return False  # the same text typed again: no undo step
        del self._steps[self._done:]  # a new edit after an undo: what was undone cannot be redone
        self._steps.append((what, self.words, words))
        self._done += 1
        self.words = words
        return True

    # One list of steps and how many of them are done: undo steps back, redo forward.
    can_undo = property(lambda self: self._done > 0)
    can_redo = property(lambda self: self._done < len(self._steps))
    undo_text = property(lambda self: self._steps[self._done - 1][0] if self.can_undo else "")
    redo_text = property(lambda self: self._steps[self._done][0] if self.can_redo else "")

    def undo(self) -> bool:
        if not self.can_undo:
            return False
        self._done -= 1
        self.words = self._steps[self._done][1]
        return True

    def redo(self) -> bool:
        if not self.can_redo:
            return False
        self.words = self._steps[self._done][2]
        self._done += 1
        return True

    @property
    def corrected(self) -> int:
        """How many words the clinician edited or added."""
        return sum(map(is_corrected, self.words))


def corrected_note(words: Sequence[Word]) -> str:
    """The line the word exports carry when the clinician corrected the transcript ("" when not)."""
    n = sum(map(is_corrected, words))
    return (f"transcript corrected by the clinician: {n} of {len(words)} words edited or added "
            f"(the rest as the transcriber wrote them)") if n else ""

