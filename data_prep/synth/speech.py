"""espeak-ng voices and word-by-word synthesis.

A voice speaks its whole vocabulary in one espeak-ng call, the words separated by long SSML breaks; the
result is cut at those breaks, so every word's audio (and hence every word boundary) is known exactly.
espeak-ng is deterministic, so a voice's words are the same on every run.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf
import soxr

from model.audio.decode import SAMPLE_RATE

log = logging.getLogger(__name__)

# Accents espeak-ng ships for English.
LANGUAGES = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
             "en-us-nyc")
# Variants that sound like a person (the robotic, whispering and novelty ones are left out).
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2",
            "klatt3", "klatt4", "adam", "Alex", "Andy", "Annie", "aunty", "belinda", "benjamin", "caleb", "david",
            "ed", "edward", "Gene", "john", "linda", "max", "Michael", "Mike", "paul", "rob", "robert", "steph",
            "travis", "victor", "zac", "grandma", "grandpa", "shelby", "quincy", "norbert", "anika")
PITCH_RANGE = (25, 75)  # espeak-ng -p: 0-99, 50 is the variant's own pitch
SPEED_RANGE = (135, 185)  # espeak-ng -s, words per minute

_BREAK_MS = 500  # pause spoken between words, long enough to cut at
_SPLIT_SECONDS = 0.15  # a silent run this long separates words (espeak's stop closures are < 40 ms)
_FRAME = SAMPLE_RATE // 100  # 160 samples: 10 ms energy frames
_SILENCE_DB = -45.0  # frames this far below the loudest frame are silence
_EDGE = SAMPLE_RATE // 200  # 80 samples (5 ms) kept either side of a trimmed word


@dataclass(frozen=True)
class Voice:
    language: str  # espeak-ng language, e.g. "en-us"
    variant: str  # espeak-ng variant, e.g. "f3"
    pitch: int  # espeak-ng -p (0-99)
    speed: int  # espeak-ng -s, words per minute

    @property
    def name(self) -> str:
        return f"{self.language}+{self.variant}"

    def describe(self) -> str:
        return f"{self.name} p{self.pitch} s{self.speed}"


def random_voices(n: int, rng: np.random.Generator) -> list[Voice]:
    """n voices with distinct (language, variant) pairs while there are enough, random pitch and speed."""
    pairs = [(lang, var) for lang in LANGUAGES for var in VARIANTS]
    order = rng.permutation(len(pairs))
    voices = []
    for i in range(n):
        lang, var = pairs[order[i % len(pairs)]]
        voices.append(Voice(lang, var, int(rng.integers(*PITCH_RANGE, endpoint=True)),
                            int(rng.integers(*SPEED_RANGE, endpoint=True))))
    return voices


def espeak_binary() -> str:
    """The espeak-ng executable, or a RuntimeError that says how to install it."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        raise RuntimeError("the synthetic corpus needs espeak-ng, which is not on PATH: install it "
                           "(Debian/Ubuntu: apt-get install espeak-ng; macOS: brew install espeak-ng)")
    return exe


def speak(voice: Voice, text: str, *, ssml: bool = False) -> np.ndarray:
    """espeak-ng's rendering of text as mono float32 at SAMPLE_RATE."""
    cmd = [espeak_binary(), "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed), "--stdout"]
    if ssml:
        cmd.append("-m")
    try:
        out = subprocess.run(cmd + [text], capture_output=True, check=True, stdin=subprocess.DEVNULL).stdout
        audio, rate = sf.read(io.BytesIO(out), dtype="float32", always_2d=False)
    except subprocess.CalledProcessError as e:
        why = e.stderr.decode(errors="replace").strip()[-300:] or f"exit status {e.returncode}"
        raise RuntimeError(f"espeak-ng failed for voice {voice.describe()}: {why}") from e
    except (OSError, sf.LibsndfileError) as e:
        raise RuntimeError(f"espeak-ng failed for voice {voice.describe()}: {e}") from e
    return soxr.resample(audio, rate, SAMPLE_RATE).astype(np.float32)


def _frame_db(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // _FRAME
    rms = np.sqrt(np.mean(audio[: n * _FRAME].reshape(n, _FRAME) ** 2, axis=1))  # (frames,)
    return 20 * np.log10(np.maximum(rms, 1e-9))


def _active_runs(active: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """[start, end) frame runs of activity, merging runs separated by fewer than min_gap silent frames."""
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > min_gap)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    ends = np.concatenate((idx[breaks], [idx[-1]])) + 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def split_words(audio: np.ndarray, n_words: int) -> list[np.ndarray] | None:
    """Cut audio of words spoken between long pauses into n_words trimmed pieces; None if the count is off."""
    db = _frame_db(audio)
    active = db > db.max() + _SILENCE_DB
    runs = _active_runs(active, int(_SPLIT_SECONDS * 100))
    if len(runs) != n_words:
        return None
    return [audio[max(0, s * _FRAME - _EDGE): e * _FRAME + _EDGE].copy() for s, e in runs]


def trim(audio: np.ndarray) -> np.ndarray:
    """audio without its leading and trailing silence (a few ms of margin kept)."""
    db = _frame_db(audio)
    idx = np.flatnonzero(db > db.max() + _SILENCE_DB)
    if idx.size == 0:
        return audio[:0]
    return audio[max(0, idx[0] * _FRAME - _EDGE): (idx[-1] + 1) * _FRAME + _EDGE].copy()


def synthesize_words(voice: Voice, words: Sequence[str]) -> dict[str, np.ndarray]:
    """Each word's trimmed audio in this voice. One espeak-ng call for all, one per word if cutting fails."""
    pause = f'<break time="{_BREAK_MS}ms"/>'
    ssml = "<speak>" + pause + pause.join(escape(w) for w in words) + pause + "</speak>"
    pieces = split_words(speak(voice, ssml, ssml=True), len(words))
    if pieces is None:
        log.debug("voice %s: word boundaries unclear in one call; speaking word by word", voice.describe())
        pieces = [trim(speak(voice, w)) for w in words]
    empty = [w for w, p in zip(words, pieces, strict=True) if p.size == 0]
    if empty:
        raise RuntimeError(f"espeak-ng voice {voice.describe()} produced no audio for {empty[:5]}")
    return dict(zip(words, pieces, strict=True))
