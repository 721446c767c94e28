"""Long session recordings (minutes) with exact event times, for end-to-end tests of `assess`.

A session is written utterance by utterance straight to disk, so only a few seconds are ever held.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.fileio import atomic_path
from model.labels import LABELS

from .acoustics import AcousticOptions, Room, add_noise, draw_room, reverberate, speech_rms
from .disfluency import DisfluencyOptions
from .files import seconds, write_csv
from .utterance import Bank, Event, assemble, draw_words, random_targets

SESSION_DIR = "sessions"  # folder under the corpus folder
SESSION_EVENT_COLUMNS = ("Label", "StartSec", "EndSec", "Text")
UTTERANCE_PAUSE = (0.3, 1.2)  # seconds between utterances
UTTERANCE_WORDS = (4, 24)  # words per utterance (whole sentences, so often more)


class _Recorder:
    """Appends dry audio to an open sound file, adding the room's reverberation tail and noise."""

    def __init__(self, f: sf.SoundFile, room: Room, rng: np.random.Generator, *, gain: float, level: float):
        self.f, self.room, self.rng = f, room, rng
        self.gain = gain  # fixed for the session: the whole recording is never held to normalise it
        self.level = level  # speech RMS that the noise's SNR refers to
        self.tail = np.zeros(0, np.float32)  # reverberation still ringing past what was written

    def write(self, dry: np.ndarray) -> None:
        audio = dry
        if self.room.ir is not None:
            wet = reverberate(dry, self.room.ir)
            wet[: len(self.tail)] += self.tail[: len(wet)]
            audio, self.tail = wet[: len(dry)], wet[len(dry):]
        audio = add_noise(audio, self.room, self.rng, speech_level=self.level)
        self.f.write(np.clip(audio * self.gain, -1.0, 1.0))


def _room_levels(bank: Bank, room: Room) -> tuple[float, float]:
    """(gain, speech level) from the voice's words, since a session is never held whole."""
    sample = np.concatenate(list(bank.values())[:40])
    return room.peak / float(np.max(np.abs(sample))), speech_rms(sample)


def write_session(path: Path, bank: Bank, *, duration: float, rng: np.random.Generator, rate: float,
                  disfluency: DisfluencyOptions, acoustics: AcousticOptions) -> list[Event]:
    """Write one voice's session of exactly `duration` seconds to path (16-bit WAV); its events, in samples."""
    total = int(round(duration * SAMPLE_RATE))
    room = draw_room(rng, acoustics)
    gain, level = _room_levels(bank, room)
    events: list[Event] = []
    pos = 0
    with atomic_path(path) as tmp, sf.SoundFile(tmp, "w", SAMPLE_RATE, 1, "PCM_16", format="WAV") as f:
        recorder = _Recorder(f, room, rng, gain=gain, level=level)
        while True:
            pause = np.zeros(int(rng.uniform(*UTTERANCE_PAUSE) * SAMPLE_RATE), np.float32)
            words, starts = draw_words(rng, min_words=int(rng.integers(*UTTERANCE_WORDS)))
            targets = random_targets(words, bank, rng, disfluency, rate=rate, kinds=LABELS)
            utterance = assemble(words, starts, bank, targets, rng, disfluency)
            if pos + len(pause) + len(utterance.audio) > total:
                break
            events += [e.shifted(pos + len(pause)) for e in utterance.events]
            recorder.write(np.concatenate([pause, utterance.audio]))
            pos += len(pause) + len(utterance.audio)
        recorder.write(np.zeros(total - pos, np.float32))  # silence (and room noise) to the exact length
    return events


def write_session_events(path: Path, events: list[Event]) -> None:
    """A session's events as CSV (Label, StartSec, EndSec, Text)."""
    write_csv(path, SESSION_EVENT_COLUMNS, ([e.label, seconds(e.start), seconds(e.end), e.text] for e in events))
