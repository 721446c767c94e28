"""Speech whose word times are known exactly: espeak-ng words placed one after another.

For checking transcription (which words, and when): each word is synthesised on its own (speech.py
cuts one espeak-ng call at long breaks), trimmed, and placed with a short gap after the one before,
so every word's onset and offset is a sample index, not an estimate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.audio.decode import SAMPLE_RATE

from .speech import Voice, synthesize_words

WORD_GAP = (0.03, 0.12)  # seconds of silence between the words of a sentence
SENTENCE_GAP = (0.35, 0.6)  # seconds between sentences
LEAD = 0.3  # seconds of silence before the first word and after the last


@dataclass(frozen=True)
class TimedWord:
    start: float  # seconds: the word's first sample
    end: float  # seconds: the sample after its last
    text: str  # as spoken


def timed_speech(voice: Voice, sentences: Sequence[str], rng: np.random.Generator, *, noise: float = 0.0,
                 word_gap: tuple[float, float] = WORD_GAP) -> tuple[np.ndarray, list[TimedWord]]:
    """Mono float32 audio at SAMPLE_RATE of the sentences in one voice, and each word's true times.

    noise: standard deviation of white noise added everywhere (0 keeps espeak's digital silence).
    word_gap: (low, high) seconds of silence drawn between words; (0, 0) makes them abut.
    """
    words = [w for s in sentences for w in s.split()]
    bank = synthesize_words(voice, sorted(set(words)))
    pieces: list[np.ndarray] = [np.zeros(int(LEAD * SAMPLE_RATE), np.float32)]
    pos = len(pieces[0])
    timed: list[TimedWord] = []
    for i, sentence in enumerate(sentences):
        if i:
            gap = np.zeros(int(rng.uniform(*SENTENCE_GAP) * SAMPLE_RATE), np.float32)
            pieces.append(gap)
            pos += len(gap)
        for j, word in enumerate(sentence.split()):
            if j:
                gap = np.zeros(int(rng.uniform(*word_gap) * SAMPLE_RATE), np.float32)
                pieces.append(gap)
                pos += len(gap)
            audio = bank[word]
            timed.append(TimedWord(pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE, word))
            pieces.append(audio)
            pos += len(audio)
    pieces.append(np.zeros(int(LEAD * SAMPLE_RATE), np.float32))
    audio = np.concatenate(pieces)
    if noise:
        audio = audio + rng.normal(0.0, noise, len(audio)).astype(np.float32)
    return audio.astype(np.float32), timed
