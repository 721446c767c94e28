"""The synthetic corpus: clips, label and event CSVs, voices, sessions, and a summary.

Layout under the output folder (the SEP-28k clip layout, so the SEP-28k recipe reads it):
    Synthetic/{EpId}/Synthetic_{EpId}_{ClipId}.wav   3 s clips, one EpId per voice (speaker)
    synthetic_labels.csv    the official columns, ", "-separated, votes 3 (present) or 0
    synthetic_events.csv    Show,EpId,ClipId,Label,StartSec,EndSec,Text: every injected disfluency
    synthetic_voices.csv    EpId -> espeak-ng voice, pitch, speed
    sessions/Synthetic_session_{k}.wav and ..._events.csv   longer recordings with their events
    synthetic_summary.json  seed, options and counts
Every random choice comes from numpy Generators seeded by (seed, purpose, index), and espeak-ng is
deterministic, so a seed always gives the same corpus.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.audio.decode import SAMPLE_RATE
from model.fileio import atomic_write_text
from model.labels import LABELS

from .acoustics import AcousticOptions
from .clips import EVENT_COLUMNS, SHOW, Clip, event_rows, label_header, label_row, make_clip, plan_labels
from .disfluency import DisfluencyOptions
from .files import write_csv, write_wav
from .sessions import SESSION_DIR, write_session, write_session_events
from .speech import Voice, espeak_binary, random_voices, synthesize_words
from .text import vocabulary
from .utterance import Bank

log = logging.getLogger(__name__)

LABEL_CSV = "synthetic_labels.csv"
EVENT_CSV = "synthetic_events.csv"
VOICE_CSV = "synthetic_voices.csv"
SUMMARY_JSON = "synthetic_summary.json"
MAX_SESSION_MINUTES = 10.0  # sessions are for end-to-end tests: long enough to matter, short to make
_CLIPS_PER_VOICE = 50  # one more speaker per this many clips by default
_VOICE_LIMITS = (4, 48)  # default speaker count bounds: enough for speaker-exclusive splits, cheap to make
# Purposes of the seeded random streams, so each part draws from its own and adding sessions changes no clip.
_VOICES, _CLIPS, _PLAN, _SESSIONS = range(4)

Progress = Callable[[int, int], None]  # (items done, items in all)


@dataclass(frozen=True)
class CorpusOptions:
    fluent_fraction: float = 0.3  # share of clips with no disfluency
    two_type_fraction: float = 0.4  # share of disfluent clips with two types rather than one
    n_voices: int | None = None  # speakers (episodes) of the clips; None: one per 50 clips, 4 to 48
    session_rate: float = 0.08  # chance that a word of a session is made disfluent
    disfluency: DisfluencyOptions = DisfluencyOptions()  # sizes of the injected disfluencies
    acoustics: AcousticOptions = AcousticOptions()  # noise, reverberation and level


@dataclass(frozen=True)
class CorpusSummary:
    out_dir: Path  # the corpus folder (the clip root of the SEP-28k layout)
    label_csv: Path  # SEP-28k-style label CSV
    event_csv: Path  # exact event times of the clips
    n_clips: int  # clips written
    voices: tuple[str, ...]  # per EpId, the voice that speaks it
    counts: dict[str, int]  # clips holding each label, and "fluent"
    sessions: tuple[Path, ...]  # session recordings (each with a _events.csv beside it)
    seconds: float  # wall-clock time taken


def _validate(n_clips: int, seed: int, sessions: int, session_minutes: float, options: CorpusOptions) -> None:
    for name, value in (("n_clips", n_clips), ("seed", seed), ("sessions", sessions)):
        if not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    if sessions and not 0 < session_minutes <= MAX_SESSION_MINUTES:
        raise ValueError(f"session_minutes must be in (0, {MAX_SESSION_MINUTES:g}], got {session_minutes}")
    for name in ("fluent_fraction", "two_type_fraction", "session_rate"):
        if not 0.0 <= getattr(options, name) <= 1.0:
            raise ValueError(f"CorpusOptions.{name} must be in [0, 1], got {getattr(options, name)}")
    if options.n_voices is not None and options.n_voices < 1:
        raise ValueError(f"CorpusOptions.n_voices must be >= 1 (or None for automatic), got {options.n_voices}")


def voice_count(n_clips: int, options: CorpusOptions) -> int:
    if options.n_voices is not None:
        return min(options.n_voices, max(n_clips, 1))
    auto = min(max(round(n_clips / _CLIPS_PER_VOICE), _VOICE_LIMITS[0]), _VOICE_LIMITS[1])
    return min(auto, n_clips)


def _banks(voices: Sequence[Voice]) -> Iterator[Bank]:
    """Each voice's words, the next voice synthesised in the background while this one's clips are made."""
    words = vocabulary()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(synthesize_words, voices[0], words) if voices else None
        for i in range(len(voices)):
            bank = pending.result()
            pending = pool.submit(synthesize_words, voices[i + 1], words) if i + 1 < len(voices) else None
            yield bank


def _clips(out_dir: Path, voices: Sequence[Voice], plan: Sequence[tuple[str, ...]], seed: int,
           options: CorpusOptions, tick: Callable[[], None]) -> list[Clip]:
    """Make and write every clip, voice by voice (clip k is spoken by voice k mod len(voices))."""
    clips = []
    for ep_id, bank in enumerate(_banks(voices)):
        for k in range(ep_id, len(plan), len(voices)):
            rng = np.random.default_rng([seed, _CLIPS, k])
            audio, events = make_clip(plan[k], bank, rng, disfluency=options.disfluency,
                                      acoustics=options.acoustics)
            clips.append(Clip(ep_id, k // len(voices), plan[k], events))
            write_wav(out_dir / clips[-1].relpath, audio)
            tick()
    return sorted(clips, key=lambda c: (c.ep_id, c.clip_id))


def _sessions(out_dir: Path, voices: Sequence[Voice], seed: int, minutes: float, options: CorpusOptions,
              tick: Callable[[], None]) -> list[Path]:
    paths = []
    for k, bank in enumerate(_banks(voices)):
        path = out_dir / SESSION_DIR / f"{SHOW}_session_{k}.wav"
        events = write_session(path, bank, duration=minutes * 60, rng=np.random.default_rng([seed, _SESSIONS, k]),
                               rate=options.session_rate, disfluency=options.disfluency,
                               acoustics=options.acoustics)
        write_session_events(path.with_name(f"{path.stem}_events.csv"), events)
        paths.append(path)
        tick()
    return paths


def _write_tables(out_dir: Path, clips: Sequence[Clip], voices: Sequence[Voice], sessions: Sequence[Voice]) -> None:
    lines = [label_header()] + [label_row(c) for c in clips]
    atomic_write_text(out_dir / LABEL_CSV, "\n".join(lines) + "\n")
    write_csv(out_dir / EVENT_CSV, EVENT_COLUMNS, (row for c in clips for row in event_rows(c)))
    rows = [[SHOW, i, v.name, v.pitch, v.speed] for i, v in enumerate(voices)]
    rows += [[SESSION_DIR, f"{SHOW}_session_{k}", v.name, v.pitch, v.speed] for k, v in enumerate(sessions)]
    write_csv(out_dir / VOICE_CSV, ("Show", "EpId", "Voice", "Pitch", "Speed"), rows)


def _counts(clips: Sequence[Clip]) -> dict[str, int]:
    counts = {k: sum(k in c.labels for c in clips) for k in LABELS}
    counts["fluent"] = sum(not c.labels for c in clips)
    return counts


def generate_corpus(out_dir: str | Path, *, n_clips: int, seed: int, sessions: int = 0,
                    session_minutes: float = 5.0, options: CorpusOptions = CorpusOptions(),
                    progress: Progress | None = None) -> CorpusSummary:
    """Write a synthetic stutter corpus of n_clips 3 s clips (and optional sessions) into out_dir.

    Re-running with the same arguments rewrites the same files. RuntimeError if espeak-ng is missing or fails.
    """
    _validate(n_clips, seed, sessions, session_minutes, options)
    espeak_binary()  # fail before writing anything
    began = time.perf_counter()
    out_dir = Path(out_dir)
    n_voices = voice_count(n_clips, options)
    every = random_voices(n_voices + sessions, np.random.default_rng([seed, _VOICES]))
    voices, session_voices = every[:n_voices], every[n_voices:]
    plan = plan_labels(n_clips, np.random.default_rng([seed, _PLAN]), fluent_fraction=options.fluent_fraction,
                       two_type_fraction=options.two_type_fraction)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], n_clips + sessions)

    clips = _clips(out_dir, voices, plan, seed, options, tick) if n_clips else []
    paths = _sessions(out_dir, session_voices, seed, session_minutes, options, tick)
    _write_tables(out_dir, clips, voices, session_voices)
    summary = CorpusSummary(out_dir, out_dir / LABEL_CSV, out_dir / EVENT_CSV, len(clips),
                            tuple(v.describe() for v in voices), _counts(clips), tuple(paths),
                            time.perf_counter() - began)
    _write_summary(summary, seed=seed, session_minutes=session_minutes, options=options)
    log.info("synthetic corpus: %d clips from %d voices, %d sessions in %.1f s", len(clips), n_voices,
             len(paths), summary.seconds)
    return summary


def _write_summary(summary: CorpusSummary, *, seed: int, session_minutes: float, options: CorpusOptions) -> None:
    doc = {"seed": seed, "n_clips": summary.n_clips, "counts": summary.counts, "voices": list(summary.voices),
           "sessions": [p.relative_to(summary.out_dir).as_posix() for p in summary.sessions],
           "session_minutes": session_minutes if summary.sessions else None, "sample_rate": SAMPLE_RATE,
           "options": dataclasses.asdict(options)}
    atomic_write_text(summary.out_dir / SUMMARY_JSON, json.dumps(doc, indent=1) + "\n")

