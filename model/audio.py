"""Audio constants, decoding and Whisper log-mel features.

Every other module takes its numbers from here: no stray 16000.
Decoding goes through libsndfile (wav, flac, ogg, mp3) and falls back to an ffmpeg
pipe (m4a, and anything else ffmpeg reads). Long recordings are read in blocks so a
2-hour file is never held in memory whole.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Hz, what Whisper was trained on
N_FFT = 400  # 25 ms analysis window
HOP_LENGTH = 160  # 10 ms between mel frames
N_MELS = 80  # Whisper base's mel bands
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100 mel frames per second
TOKENS_PER_SECOND = FRAMES_PER_SECOND // 2  # 50: the encoder's second conv has stride 2

WINDOW_SECONDS = 3.0  # SEP-28k clip length, the model's unit of decision
HOP_SECONDS = 1.0  # default step between analysis windows
WINDOW_SAMPLES = int(WINDOW_SECONDS * SAMPLE_RATE)  # 48,000
WINDOW_FRAMES = WINDOW_SAMPLES // HOP_LENGTH  # 300 mel frames
WINDOW_TOKENS = WINDOW_FRAMES // 2  # 150 encoder tokens

MAX_SECONDS = 30.0  # Whisper's receptive field
MAX_SAMPLES = int(MAX_SECONDS * SAMPLE_RATE)  # 480,000
MAX_FRAMES = MAX_SAMPLES // HOP_LENGTH  # 3,000
MAX_TOKENS = MAX_FRAMES // 2  # 1,500

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac", ".mp4", ".wma", ".aiff", ".aif")

_BLOCK_SECONDS = 60.0  # how much audio a streaming read holds at once


class AudioDecodeError(ValueError):
    """A file that cannot be decoded as audio; the message names the file and why."""


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    duration: float  # seconds, at the source rate
    sample_rate: int  # the source's rate
    channels: int
    backend: str  # "soundfile" or "ffmpeg"


def is_audio_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise AudioDecodeError(f"{path}: no such file")
    if path.is_dir():
        raise AudioDecodeError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes)")


def _ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def _ffprobe_duration(path: Path) -> float:
    probe = shutil.which("ffprobe")
    if probe is None:
        raise AudioDecodeError(f"{path}: not readable by libsndfile, and ffprobe/ffmpeg is not installed")
    out = subprocess.run(
        [probe, "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", str(path)],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
    )
    try:
        return float(out.stdout.strip())
    except ValueError:
        raise AudioDecodeError(f"{path}: cannot be decoded as audio ({out.stderr.strip()[-200:] or 'unknown format'})") from None


def audio_info(path: str | Path) -> AudioInfo:
    """Duration, rate and channels without decoding the whole file."""
    path = Path(path)
    _check_exists(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        if _ffmpeg() is None:
            raise AudioDecodeError(f"{path}: cannot be decoded as audio ({e})") from e
        return AudioInfo(path, _ffprobe_duration(path), 0, 0, "ffmpeg")
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioDecodeError(f"{path}: holds no audio samples")
    return AudioInfo(path, info.frames / info.samplerate, info.samplerate, info.channels, "soundfile")


def _mono(block: np.ndarray) -> np.ndarray:
    # block: (samples, channels) -> (samples,)
    return block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block.astype(np.float32)


def _soundfile_blocks(path: Path, block_seconds: float) -> Iterator[np.ndarray]:
    with sf.SoundFile(str(path)) as f:
        rate = f.samplerate
        blocksize = max(1, int(block_seconds * rate))
        resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
        while True:
            try:
                block = f.read(blocksize, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as e:
                raise AudioDecodeError(f"{path}: decoding failed part-way ({e})") from e
            last = len(block) < blocksize
            mono = _mono(block)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            if len(mono):
                yield mono
            if last:
                return


def _ffmpeg_blocks(path: Path, block_seconds: float) -> Iterator[np.ndarray]:
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        raise AudioDecodeError(f"{path}: not readable by libsndfile, and ffmpeg is not installed to try it")
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-vn", "-f", "f32le", "-ac", "1",
           "-ar", str(SAMPLE_RATE), "-"]
    blockbytes = int(block_seconds * SAMPLE_RATE) * 4
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        got_any = False
        pending = b""
        while True:
            chunk = proc.stdout.read(blockbytes)
            if not chunk:
                break
            chunk = pending + chunk
            usable = len(chunk) - len(chunk) % 4
            pending = chunk[usable:]
            if usable:
                got_any = True
                yield np.frombuffer(chunk[:usable], dtype="<f4").copy()
        err = proc.stderr.read().decode(errors="replace").strip()
        code = proc.wait()
    if code != 0 or not got_any:
        raise AudioDecodeError(f"{path}: cannot be decoded as audio ({err[-300:] or 'no audio stream'})")


def iter_audio(path: str | Path, *, block_seconds: float = _BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Yield consecutive blocks of mono float32 audio at SAMPLE_RATE, about block_seconds each.

    Raises AudioDecodeError (naming the file) for missing, empty or undecodable files.
    """
    path = Path(path)
    _check_exists(path)
    try:
        sf.info(str(path))
        use_soundfile = True
    except (sf.LibsndfileError, RuntimeError):
        use_soundfile = False
    blocks = _soundfile_blocks(path, block_seconds) if use_soundfile else _ffmpeg_blocks(path, block_seconds)
    yield from blocks


def load_audio(path: str | Path, *, max_seconds: float | None = None) -> np.ndarray:
    """Decode a whole file to mono float32 at SAMPLE_RATE (shape: (samples,)).

    max_seconds stops reading early (for clips); None reads everything.
    """
    limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    total = 0
    for block in iter_audio(path, block_seconds=min(_BLOCK_SECONDS, max_seconds or _BLOCK_SECONDS)):
        parts.append(block)
        total += len(block)
        if limit is not None and total >= limit:
            break
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if limit is not None:
        audio = audio[:limit]
    if audio.size == 0:
        raise AudioDecodeError(f"{Path(path)}: holds no audio samples")
    if not np.all(np.isfinite(audio)):
        raise AudioDecodeError(f"{Path(path)}: contains NaN or infinite samples")
    return audio


def fit_length(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Zero-pad or cut audio (samples,) to exactly n_samples."""
    if len(audio) >= n_samples:
        return audio[:n_samples]
    return np.pad(audio, (0, n_samples - len(audio)))


def log_mel(audio, *, n_samples: int = WINDOW_SAMPLES, n_mels: int = N_MELS):
    """Whisper's log-mel of audio fitted to n_samples: (..., samples) -> (..., n_mels, n_samples // HOP_LENGTH).

    Accepts a numpy array or a torch tensor (batched on the first axis); returns a float32 torch tensor.
    Whisper normalises each input by its own maximum, so each window is computed on its own.
    """
    import torch
    from whisper.audio import mel_filters

    x = torch.as_tensor(audio, dtype=torch.float32)
    if x.shape[-1] != n_samples:
        x = x[..., :n_samples] if x.shape[-1] > n_samples else torch.nn.functional.pad(x, (0, n_samples - x.shape[-1]))
    squeeze = x.ndim == 1
    x = x.reshape(-1, n_samples)  # (batch, samples)
    # The same arithmetic as whisper.audio.log_mel_spectrogram, but the max-normalisation is taken
    # per item rather than over the whole batch, so a window's features never depend on its neighbours.
    window = torch.hann_window(N_FFT, device=x.device)
    stft = torch.stft(x, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    magnitudes = stft[..., :-1].abs() ** 2  # (batch, 201, frames)
    mel = mel_filters(x.device, n_mels) @ magnitudes  # (batch, n_mels, frames)
    log_spec = torch.clamp(mel, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.amax(dim=(-2, -1), keepdim=True) - 8.0)
    log_spec = (log_spec + 4.0) / 4.0
    return log_spec[0] if squeeze else log_spec


def clip_samples(n_audio: int, *, min_samples: int = WINDOW_SAMPLES) -> int:
    """Samples a clip's log-mel is computed over: rounded up to whole seconds, at least one window, at most 30 s.

    Whole seconds put clips of many lengths (a 4.5 s clip, joined 6-9 s samples) into a few input lengths
    that can share batches; the padding is masked out of pooling by the real frame count (clip_mel).
    """
    n = -(-n_audio // SAMPLE_RATE) * SAMPLE_RATE
    n = min(max(n, min_samples), MAX_SAMPLES)
    return -(-n // HOP_LENGTH) * HOP_LENGTH  # whole mel frames


def clip_mel(audio: np.ndarray, *, n_mels: int = N_MELS, min_samples: int = WINDOW_SAMPLES):
    """The one way a clip becomes model input: predict, evaluate and the training caches all call it.

    Args:
        audio: mono float32 samples at SAMPLE_RATE (longer than 30 s: the first 30 s).
        n_mels: mel bands of the model.
        min_samples: shorter clips are zero-padded to this many samples (one 3 s window).

    Returns:
        ((n_mels, frames) log-mel over clip_samples(len(audio)), the real (unpadded) frame count).
    """
    n = clip_samples(len(audio), min_samples=min_samples)
    n_frames = min(-(-len(audio) // HOP_LENGTH), n // HOP_LENGTH)
    return log_mel(audio[:n], n_samples=n, n_mels=n_mels), n_frames

