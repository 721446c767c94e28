"""Sentences assembled from one voice's word audio, with disfluencies injected at chosen words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.audio.decode import SAMPLE_RATE

from .disfluency import DisfluencyOptions, inject, suits
from .text import INTERJECTIONS, SENTENCES

WORD_GAP = (0.0, 0.05)  # seconds between the words of a sentence: connected speech has next to none
SENTENCE_GAP = (0.15, 0.28)  # seconds between sentences: shorter than any block, so no pause reads as one
BLOCK_LEAD = int(0.15 * SAMPLE_RATE)  # 2,400 samples of speech a clip keeps before a block, so it follows speech
_NEAR = 4  # a clip's disfluencies lie within this many words of each other, so they fit in one clip

Bank = Mapping[str, np.ndarray]  # a voice's word -> trimmed mono float32 audio at SAMPLE_RATE


@dataclass(frozen=True)
class Event:
    label: str  # one of model.labels.LABELS
    start: int  # first sample of the disfluency
    end: int  # sample after its last
    text: str  # the word it concerns, or the filler of an interjection

    def shifted(self, offset: int) -> Event:
        return Event(self.label, self.start + offset, self.end + offset, self.text)


@dataclass(frozen=True)
class Utterance:
    audio: np.ndarray  # mono float32 at SAMPLE_RATE
    events: tuple[Event, ...]  # in order of time
    spans: tuple[tuple[int, int], ...]  # per event: the samples a clip must hold for its label to be true


def draw_words(rng: np.random.Generator, *, min_words: int) -> tuple[list[str], set[int]]:
    """Random whole sentences until there are min_words words: the words and where each sentence starts."""
    words: list[str] = []
    starts: set[int] = set()
    while len(words) < min_words:
        starts.add(len(words))
        words += SENTENCES[int(rng.integers(len(SENTENCES)))].split()
    return words, starts


def choose_targets(words: Sequence[str], kinds: Sequence[str], bank: Bank, rng: np.random.Generator,
                   options: DisfluencyOptions) -> dict[int, str] | None:
    """Word index -> disfluency for each kind, on words that suit it, close together; None if impossible.

    Never the first word: a block needs speech before it to be heard as a block.
    """
    targets: dict[int, str] = {}
    lo = 1
    for kind in kinds:
        fits = [i for i in range(lo, len(words)) if suits(kind, words[i], bank[words[i]], options)]
        near = [i for i in fits if i < lo + _NEAR] or fits
        if not near:
            return None
        i = near[int(rng.integers(len(near)))]
        targets[i] = kind
        lo = i + 1
    return targets


def random_targets(words: Sequence[str], bank: Bank, rng: np.random.Generator, options: DisfluencyOptions, *,
                   rate: float, kinds: Sequence[str]) -> dict[int, str]:
    """After the first word, a random kind is due with probability rate per word; it lands on the next word that
    suits it, so that kinds with fewer suitable words (Prolongation, Block) are not made rarer."""
    targets: dict[int, str] = {}
    due: str | None = None
    for i in range(1, len(words)):
        if due is None and rng.random() < rate:
            due = kinds[int(rng.integers(len(kinds)))]
        if due is not None and suits(due, words[i], bank[words[i]], options):
            targets[i], due = due, None
    return targets


def _gap(rng: np.random.Generator, bounds: tuple[float, float]) -> np.ndarray:
    return np.zeros(int(round(rng.uniform(*bounds) * SAMPLE_RATE)), np.float32)


def assemble(words: Sequence[str], sentence_starts: set[int], bank: Bank, targets: Mapping[int, str],
             rng: np.random.Generator, options: DisfluencyOptions) -> Utterance:
    """The words spoken in a row, each target word made disfluent, with sample-exact events."""
    fillers = {f: bank[f] for f in INTERJECTIONS}
    parts: list[np.ndarray] = []
    events: list[Event] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, word in enumerate(words):
        if i:
            parts.append(_gap(rng, SENTENCE_GAP if i in sentence_starts else WORD_GAP))
            pos += len(parts[-1])
        audio = bank[word]
        if i in targets:
            kind = targets[i]
            injected, text = inject(kind, word, audio, rng, options, fillers=fillers)
            events.append(Event(kind, pos + injected.start, pos + injected.end, text))
            audio = injected.audio
            spans.append((pos - (BLOCK_LEAD if kind == "Block" else 0), pos + len(audio)))
        parts.append(audio)
        pos += len(audio)
    return Utterance(np.concatenate(parts), tuple(events), tuple(spans))


def clip_start(utterance: Utterance, n: int, rng: np.random.Generator) -> int | None:
    """A random start of an n-sample clip that holds every event's span whole; None if none does."""
    total = len(utterance.audio)
    if not utterance.spans:
        return int(rng.integers(0, max(0, total - n), endpoint=True))
    lo = min(s for s, _ in utterance.spans)
    hi = max(e for _, e in utterance.spans)
    first, last = max(0, hi - n), min(lo, total - n)
    if lo < 0 or first > last:
        return None
    return int(rng.integers(first, last, endpoint=True))
