"""Audio constants, decoding and Whisper log-mel features.

Every other module takes its numbers from here: no stray 16000.
Decoding goes through libsndfile (wav, flac, ogg, mp3) and falls back to an ffmpeg
pipe (m4a, and anything else ffmpeg reads). Long recordings are read in blocks so a
2-hour file is never held in memory whole.

Every decoder path refuses the same things the same way (AudioDecodeError naming the file):
NaN or infinite samples, source rates outside MIN_SOURCE_RATE..MAX_SOURCE_RATE. ffmpeg's stderr
goes to a temporary file (a chatty decoder can never fill a pipe and hang us), its output is read
on a thread, and every ffmpeg/ffprobe call has a time limit and can be cancelled.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from ..errors import Cancelled
from .wav_header import read_wav_header

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Hz, what Whisper was trained on
N_FFT = 400  # 25 ms analysis window
HOP_LENGTH = 160  # 10 ms between mel frames
N_MELS = 80  # Whisper base's mel bands
FRAMES_PER_SECOND = SAMPLE_RATE // HOP_LENGTH  # 100 mel frames per second
TOKENS_PER_SECOND = FRAMES_PER_SECOND // 2  # 50: the encoder's second conv has stride 2
TOKEN_SAMPLES = SAMPLE_RATE // TOKENS_PER_SECOND  # 320 samples = 20 ms: one encoder token (a frame)

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

MIN_SOURCE_RATE = 4_000  # Hz: below this a file is not speech audio (a 1 Hz header would mean 47 h of resampling)
MAX_SOURCE_RATE = 384_000  # Hz: the highest rate audio interfaces record at

_BLOCK_SECONDS = 60.0  # how much audio a streaming read holds at once
DECODER_STALL_SECONDS = 60.0  # ffmpeg producing nothing this long while we wait: the file is taken as undecodable
PROBE_TIMEOUT_SECONDS = 30.0  # ffprobe reads only the container's header: it never needs longer
_POLL_SECONDS = 0.1  # how often a wait on the decoder checks for cancel


class AudioDecodeError(ValueError):
    """A file that cannot be decoded as audio; the message names the file and why."""


@dataclass(frozen=True)
class AudioInfo:
    path: Path
    duration: float  # seconds, at the source rate: what the file really holds
    sample_rate: int  # the source's rate
    channels: int
    backend: str  # "soundfile" or "ffmpeg"
    declared_duration: float | None = None  # seconds a truncated WAV's header claims; None when not truncated

    @property
    def truncated(self) -> bool:
        """The file holds less audio than its header says (a copy cut short, a recorder that crashed)."""
        return self.declared_duration is not None

    def truncation_warning(self) -> str:
        """A sentence for the user ("" when the file is whole)."""
        if not self.truncated:
            return ""
        return (f"{self.path}: the file is truncated: its header says {self.declared_duration:.2f} s but it holds "
                f"{self.duration:.2f} s; the {self.duration:.2f} s there were analysed")


def is_audio_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise AudioDecodeError(f"{path}: no such file")
    if path.is_dir():
        raise AudioDecodeError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(f"{path}: the file is empty (0 bytes)")


def _sf_path(path: Path) -> str | bytes:
    # libsndfile gets bytes on POSIX: soundfile encodes a str as strict UTF-8, so a file name that is not
    # valid UTF-8 (legal on Linux) would fail to open. Windows names are UTF-16 and always fit a str.
    return os.fsencode(path) if os.name == "posix" else str(path)


def _ffmpeg() -> str | None:
    return shutil.which("ffmpeg")


def check_source_rate(path: Path, rate: int) -> None:
    """Refuse a header rate no recording has: it would give a 0 s file or hours of resampling."""
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise AudioDecodeError(f"{path}: the header says {rate} Hz, outside {MIN_SOURCE_RATE}-{MAX_SOURCE_RATE} Hz; "
                               "the file is damaged or not audio: re-export it")


def check_finite(path: Path, block: np.ndarray, *, offset_seconds: float, rate: int) -> None:
    """Refuse NaN or infinite samples (possible in float WAV/FLAC): they would turn every probability to NaN.

    block: (samples,) or (samples, channels) at `rate`, starting offset_seconds into the file.
    """
    bad = ~np.isfinite(block)
    if bad.any():
        first = int(np.flatnonzero(bad.reshape(len(block), -1).any(axis=1))[0])
        raise AudioDecodeError(f"{path}: contains NaN or infinite samples (the first at "
                               f"{offset_seconds + first / rate:.2f} s); the file is damaged: re-export it as "
                               "16-bit PCM")


def _ffprobe(path: Path, cancel: Callable[[], bool] | None = None) -> tuple[float, int, int]:
    """Duration (s), sample rate and channels of the first audio stream, as ffprobe reads them."""
    probe = shutil.which("ffprobe")
    if probe is None:
        raise AudioDecodeError(f"{path}: not readable by libsndfile, and ffprobe/ffmpeg is not installed")
    cmd = [probe, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "format=duration:stream=sample_rate,channels", "-of", "default=nw=1", str(path)]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        deadline = time.monotonic() + PROBE_TIMEOUT_SECONDS
        try:
            while proc.poll() is None:  # polled, not wait(): Cancel must work while ffprobe reads
                if cancel is not None and cancel():
                    raise Cancelled(f"reading {path} cancelled")
                if time.monotonic() > deadline:
                    raise AudioDecodeError(f"{path}: ffprobe did not finish reading the file's header within "
                                           f"{PROBE_TIMEOUT_SECONDS:.0f} s; the file is damaged or on a drive that "
                                           "stopped answering")
                time.sleep(_POLL_SECONDS / 5)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    fields = dict(line.partition("=")[::2] for line in stdout.splitlines() if "=" in line)
    try:
        return float(fields["duration"]), int(fields["sample_rate"]), int(fields["channels"])
    except (KeyError, ValueError):  # no audio stream, or "N/A" where a number belongs
        raise AudioDecodeError(f"{path}: cannot be decoded as audio ({stderr.strip()[-200:] or 'unknown format'})") from None


def audio_info(path: str | Path, *, cancel: Callable[[], bool] | None = None) -> AudioInfo:
    """Duration, rate and channels without decoding the whole file; a truncated WAV says how long it claims to be.

    cancel: polled while ffprobe reads a file libsndfile cannot (raises Cancelled).
    """
    path = Path(path)
    _check_exists(path)
    try:
        info = sf.info(_sf_path(path))
    except (sf.LibsndfileError, RuntimeError) as e:
        if _ffmpeg() is None:
            raise AudioDecodeError(f"{path}: cannot be decoded as audio ({e})") from e
        # The rate ffprobe reads is checked like libsndfile's: a header ffmpeg decodes (e.g. 64-bit PCM WAV)
        # can still declare 0 Hz or 5 MHz, and callers divide by the rate.
        duration, rate, channels = _ffprobe(path, cancel)
        check_source_rate(path, rate)
        return AudioInfo(path, duration, rate, channels, "ffmpeg")
    check_source_rate(path, info.samplerate)
    if info.frames <= 0:
        raise AudioDecodeError(f"{path}: holds no audio samples")
    duration = info.frames / info.samplerate
    header = read_wav_header(path) if info.format in ("WAV", "WAVEX") else None
    declared = header.declared_seconds if header is not None and header.truncated else None
    if declared is not None and declared <= duration:
        declared = None  # libsndfile found all the header promised (e.g. trailing padding miscounted)
    return AudioInfo(path, duration, info.samplerate, info.channels, "soundfile", declared_duration=declared)


def _mono(block: np.ndarray) -> np.ndarray:
    # block: (samples, channels) -> (samples,)
    return block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block.astype(np.float32)


def _soundfile_blocks(path: Path, block_seconds: float) -> Iterator[np.ndarray]:
    with sf.SoundFile(_sf_path(path)) as f:
        rate = f.samplerate
        check_source_rate(path, rate)
        blocksize = max(1, int(block_seconds * rate))
        resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
        position = 0  # source frames read so far
        while True:
            try:
                block = f.read(blocksize, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as e:
                raise AudioDecodeError(f"{path}: decoding failed part-way ({e})") from e
            check_finite(path, block, offset_seconds=position / rate, rate=rate)
            position += len(block)
            last = len(block) < blocksize
            mono = _mono(block)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            if len(mono):
                yield mono
            if last:
                return


def _pump(stream, blockbytes: int, out: queue.Queue, stop: threading.Event) -> None:
    """Thread body: read the decoder's stdout into `out` (b"" at the end) until told to stop."""
    while not stop.is_set():
        try:
            chunk = stream.read(blockbytes)
        except (OSError, ValueError):  # the pipe was closed under us: we are stopping
            chunk = b""
        while not stop.is_set():
            try:
                out.put(chunk, timeout=_POLL_SECONDS)
                break
            except queue.Full:  # the consumer is busy (encoding): waiting here is not the decoder's fault
                continue
        if not chunk:
            return


def _next_chunk(path: Path, chunks: queue.Queue, *, stall_seconds: float,
                cancel: Callable[[], bool] | None) -> bytes:
    """The decoder's next output; raises Cancelled, or AudioDecodeError when it stalls past the time limit."""
    waited_since = time.monotonic()
    while True:
        if cancel is not None and cancel():
            raise Cancelled(f"decoding of {path} cancelled")
        try:
            return chunks.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if time.monotonic() - waited_since > stall_seconds:
                raise AudioDecodeError(f"{path}: the decoder (ffmpeg) gave no audio for {stall_seconds:.0f} s and was "
                                       "stopped; the file is probably damaged: re-export it") from None


def _ffmpeg_blocks(path: Path, block_seconds: float, *, cancel: Callable[[], bool] | None = None,
                   stall_seconds: float | None = None) -> Iterator[np.ndarray]:
    stall_seconds = DECODER_STALL_SECONDS if stall_seconds is None else stall_seconds
    ffmpeg = _ffmpeg()
    if ffmpeg is None:
        raise AudioDecodeError(f"{path}: not readable by libsndfile, and ffmpeg is not installed to try it")
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-vn", "-f", "f32le", "-ac", "1",
           "-ar", str(SAMPLE_RATE), "-"]
    blockbytes = int(block_seconds * SAMPLE_RATE) * 4
    got_any = False
    samples = 0
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: ffmpeg may write megabytes of complaints
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        chunks: queue.Queue = queue.Queue(maxsize=2)
        stop = threading.Event()
        reader = threading.Thread(target=_pump, args=(proc.stdout, blockbytes, chunks, stop),
                                  name="ffmpeg-reader", daemon=True)
        reader.start()
        try:
            pending = b""
            while chunk := _next_chunk(path, chunks, stall_seconds=stall_seconds, cancel=cancel):
                chunk = pending + chunk
                usable = len(chunk) - len(chunk) % 4
                pending = chunk[usable:]
                if usable:
                    got_any = True
                    block = np.frombuffer(chunk[:usable], dtype="<f4").copy()
                    check_finite(path, block, offset_seconds=samples / SAMPLE_RATE, rate=SAMPLE_RATE)
                    samples += len(block)
                    yield block
            try:
                code = proc.wait(timeout=stall_seconds)
            except subprocess.TimeoutExpired:
                raise AudioDecodeError(f"{path}: the decoder (ffmpeg) did not exit {stall_seconds:.0f} s after its "
                                       "last output and was stopped") from None
        finally:
            stop.set()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
            reader.join(timeout=5)
        errors.seek(0, 2)
        errors.seek(max(0, errors.tell() - 2000))
        err = errors.read().decode(errors="replace").strip()
    if code != 0 or not got_any:
        raise AudioDecodeError(f"{path}: cannot be decoded as audio ({err[-300:] or 'no audio stream'})")


def iter_audio(path: str | Path, *, block_seconds: float = _BLOCK_SECONDS,
               cancel: Callable[[], bool] | None = None) -> Iterator[np.ndarray]:
    """Yield consecutive blocks of mono float32 audio at SAMPLE_RATE, about block_seconds each.

    Raises AudioDecodeError (naming the file) for missing, empty or undecodable files, NaN/inf samples
    and impossible source rates; Cancelled when `cancel()` turns true while ffmpeg is decoding.
    """
    path = Path(path)
    _check_exists(path)
    try:
        sf.info(_sf_path(path))
        use_soundfile = True
    except (sf.LibsndfileError, RuntimeError):
        use_soundfile = False
    if use_soundfile:
        yield from _soundfile_blocks(path, block_seconds)
    else:
        yield from _ffmpeg_blocks(path, block_seconds, cancel=cancel)


def load_audio(path: str | Path, *, max_seconds: float | None = None) -> np.ndarray:
    """Decode a whole file to mono float32 at SAMPLE_RATE (shape: (samples,)).

    max_seconds stops reading early (for clips); None reads everything.
    """
    # round, not int: n / SAMPLE_RATE * SAMPLE_RATE can land just below n (e.g. n = 1001).
    limit = None if max_seconds is None else int(round(max_seconds * SAMPLE_RATE))
    parts: list[np.ndarray] = []
    total = 0
    blocks = iter_audio(path, block_seconds=min(_BLOCK_SECONDS, max_seconds or _BLOCK_SECONDS))
    try:
        for block in blocks:
            parts.append(block)
            total += len(block)
            if limit is not None and total >= limit:
                break
    finally:
        blocks.close()  # stops a running decoder at once when we stop early
    audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if limit is not None:
        audio = audio[:limit]
    if audio.size == 0:
        raise AudioDecodeError(f"{Path(path)}: holds no audio samples")
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


@functools.cache
def mel_filters(n_mels: int = N_MELS) -> np.ndarray:
    """Whisper's own mel filterbank (n_mels, N_FFT // 2 + 1), read from openai-whisper's assets without importing it
    (importing whisper loads torch)."""
    spec = importlib.util.find_spec("whisper")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Whisper's mel filters come with openai-whisper: pip install openai-whisper")
    path = Path(next(iter(spec.submodule_search_locations))) / "assets" / "mel_filters.npz"
    with np.load(path, allow_pickle=False) as f:
        return np.asarray(f[f"mel_{n_mels}"], np.float32)


def log_mel_numpy(audio: np.ndarray, *, n_samples: int = WINDOW_SAMPLES, n_mels: int = N_MELS) -> np.ndarray:
    """log_mel in numpy, for inference without torch: (..., samples) -> float32 (..., n_mels, n_samples // HOP_LENGTH).

    The same arithmetic as torch.stft (centred, reflect-padded, periodic Hann window) and log_mel's per-item
    normalisation; equal to log_mel within float32 rounding (tests/model/test_ct2_engine.py).
    """
    x = np.asarray(audio, np.float32)
    x = x[..., :n_samples] if x.shape[-1] >= n_samples else np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n_samples - x.shape[-1])])
    squeeze = x.ndim == 1
    x = x.reshape(-1, n_samples)  # (batch, samples)
    padded = np.pad(x, ((0, 0), (N_FFT // 2, N_FFT // 2)), mode="reflect")  # torch.stft(center=True)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT, axis=-1)[:, ::HOP_LENGTH]  # (batch, frames + 1, N_FFT)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann
    spectrum = np.fft.rfft(frames[:, :-1] * window, axis=-1)  # (batch, frames, 201); the last frame is dropped
    magnitudes = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    mel = magnitudes @ mel_filters(n_mels).T  # (batch, frames, n_mels)
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max(axis=(-2, -1), keepdims=True) - 8.0)
    log_spec = ((log_spec + 4.0) / 4.0).transpose(0, 2, 1)  # (batch, n_mels, frames)
    return np.ascontiguousarray(log_spec[0] if squeeze else log_spec)


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

