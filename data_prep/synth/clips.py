"""3-second clips with SEP-28k-style labels and exact event times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from data_prep.corpus import KEY_COLUMNS, MAX_VOTES, VOTE_COLUMNS
from model.audio.decode import SAMPLE_RATE, WINDOW_SAMPLES
from model.labels import LABELS

from .acoustics import AcousticOptions, add_noise, draw_room, reverberate, speech_rms, to_peak
from .disfluency import DisfluencyOptions
from .files import seconds
from .utterance import Bank, Event, assemble, choose_targets, clip_start, draw_words

SHOW = "Synthetic"  # the Show column and top folder of every synthetic clip
EVENT_COLUMNS = ("Show", "EpId", "ClipId", "Label", "StartSec", "EndSec", "Text")
_MIN_WORDS = 24  # words drawn per clip: about 8 s of speech, enough room for any 3 s window
_ATTEMPTS = 100  # redraws before concluding the disfluency options cannot fit in one clip


@dataclass(frozen=True)
class Clip:
    ep_id: int  # the voice's index: one episode per speaker
    clip_id: int  # clip number within the episode
    labels: tuple[str, ...]  # disfluency types present (empty: fluent)
    events: tuple[Event, ...]  # sample times within the clip

    @property
    def relpath(self) -> str:
        return f"{SHOW}/{self.ep_id}/{SHOW}_{self.ep_id}_{self.clip_id}.wav"


def plan_labels(n: int, rng: np.random.Generator, *, fluent_fraction: float,
                two_type_fraction: float) -> list[tuple[str, ...]]:
    """Labels for n clips: fluent_fraction with none, the rest one or two types, each type equally often."""
    n_fluent = int(round(n * fluent_fraction))
    plans: list[tuple[str, ...]] = [()] * n_fluent
    for i in range(n - n_fluent):
        # Cycling the first type keeps the five balanced even in a small corpus.
        first = LABELS[i % len(LABELS)]
        if rng.random() < two_type_fraction:
            others = [k for k in LABELS if k != first]
            plans.append((first, others[int(rng.integers(len(others)))]))
        else:
            plans.append((first,))
    return [plans[i] for i in rng.permutation(n)]


def _placed(kinds: Sequence[str], bank: Bank, rng: np.random.Generator, options: DisfluencyOptions):
    """(utterance, clip start) with every event inside the clip, redrawn until the events fit."""
    for _ in range(_ATTEMPTS):
        words, starts = draw_words(rng, min_words=_MIN_WORDS)
        targets = choose_targets(words, list(rng.permutation(list(kinds))), bank, rng, options)
        if targets is None:
            continue
        utterance = assemble(words, starts, bank, targets, rng, options)
        start = clip_start(utterance, WINDOW_SAMPLES, rng)
        if start is not None:
            return utterance, start
    raise ValueError(f"disfluencies {list(kinds)} never fit in one {WINDOW_SAMPLES / SAMPLE_RATE:g} s clip: "
                     "shorten the DisfluencyOptions ranges (block_seconds, prolong_target)")


def make_clip(kinds: Sequence[str], bank: Bank, rng: np.random.Generator, *, disfluency: DisfluencyOptions,
              acoustics: AcousticOptions) -> tuple[np.ndarray, tuple[Event, ...]]:
    """A WINDOW_SAMPLES clip of one voice holding exactly the given kinds, and its events (clip samples)."""
    utterance, start = _placed(kinds, bank, rng, disfluency)
    room = draw_room(rng, acoustics)
    if room.ir is None:
        audio = utterance.audio[start: start + WINDOW_SAMPLES]
    else:
        # Reverberate from a little before the clip, so tails of earlier words reach into it as they would.
        lead = min(start, len(room.ir))
        wet = reverberate(utterance.audio[start - lead: start + WINDOW_SAMPLES], room.ir)
        audio = wet[lead: lead + WINDOW_SAMPLES]
    audio = np.pad(audio, (0, WINDOW_SAMPLES - len(audio)))
    audio = add_noise(audio, room, rng, speech_level=speech_rms(audio))
    events = tuple(e.shifted(-start) for e in utterance.events)
    return to_peak(audio, room.peak), events


def label_row(clip: Clip) -> str:
    """The clip's line of the label CSV, ", "-separated like the official files."""
    votes = {c: 0 for c in VOTE_COLUMNS}
    votes.update({k: MAX_VOTES for k in clip.labels})
    if not clip.labels:
        votes["NoStutteredWords"] = MAX_VOTES
    start = clip.clip_id * WINDOW_SAMPLES  # clips laid end to end in a notional episode
    fields = [SHOW, clip.ep_id, clip.clip_id, start, start + WINDOW_SAMPLES] + [votes[c] for c in VOTE_COLUMNS]
    return ", ".join(str(f) for f in fields)


def event_rows(clip: Clip) -> list[list[str]]:
    return [[SHOW, str(clip.ep_id), str(clip.clip_id), e.label, seconds(e.start), seconds(e.end), e.text]
            for e in clip.events]


def label_header() -> str:
    return ",".join(KEY_COLUMNS + VOTE_COLUMNS)
