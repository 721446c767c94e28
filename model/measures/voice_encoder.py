"""Resemblyzer's voice encoder (GE2E, 3-layer LSTM) run in numpy: one 256-d voice embedding per 1.6 s of speech.

The weights are Resemblyzer 0.1.4's `pretrained.pt` (Apache-2.0, resemble-ai/Resemblyzer), converted once by
tools/convert_voice_encoder.py into model/assets/voice_encoder.safetensors (model/assets/VOICE_ENCODER.md):
read here as plain arrays, nothing unpickled, no torch. The network is Resemblyzer's `VoiceEncoder.forward`:
LSTM(40 -> 256) x 3 over the frames, the last layer's final hidden state, Linear(256, 256), ReLU, L2 norm.

Front end: Resemblyzer's `wav_to_mel_spectrogram` (librosa's melspectrogram: 25 ms Hann window, 10 ms hop,
centred frames zero-padded as librosa >= 0.10 pads, power spectrum, 40 Slaney mel bands, no log), with the
filterbank stored in the asset. What differs from Resemblyzer's `preprocess_wav`: no resampling (the input is
already at SAMPLE_RATE) and no webrtcvad silence trimming (model.measures.speakers gives only speech here, from
model.audio.speech_activity); the volume normalisation to -30 dBFS (raise only) is applied per window.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

ASSET = Path(__file__).resolve().parents[1] / "assets" / "voice_encoder.safetensors"  # model/assets
METADATA_KEY = "stutterscope.voice_encoder"
_INT16_MAX = 2 ** 15 - 1  # Resemblyzer measures dBFS against 16-bit full scale


@dataclass(frozen=True)
class VoiceEncoderConfig:
    sample_rate: int = 16_000  # Hz (model.audio.decode.SAMPLE_RATE)
    n_fft: int = 400  # 25 ms analysis window
    hop: int = 160  # 10 ms between frames
    n_mels: int = 40  # mel bands, linear power (not log)
    partial_frames: int = 160  # frames per embedding: 1.6 s, Resemblyzer's partial utterance
    hidden: int = 256  # LSTM width
    layers: int = 3  # stacked LSTM layers
    embedding: int = 256  # output size
    target_dbfs: float = -30.0  # windows quieter than this are raised to it (Resemblyzer's normalize_volume)

    @property
    def partial_samples(self) -> int:
        return self.partial_frames * self.hop  # 25,600 samples = 1.6 s

    def to_dict(self) -> dict:
        return asdict(self)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + e^-x), without overflow warnings


class VoiceEncoder:
    """The encoder's weights as numpy arrays; `embed` maps windows of audio to L2-normed embeddings."""

    def __init__(self, tensors: dict[str, np.ndarray], config: VoiceEncoderConfig):
        self.config = config
        self.mel_filters = tensors["mel_filters"]  # (n_mels, n_fft // 2 + 1)
        self.layers = [(tensors[f"lstm.weight_ih_l{k}"].T.copy(), tensors[f"lstm.weight_hh_l{k}"].T.copy(),
                        tensors[f"lstm.bias_ih_l{k}"] + tensors[f"lstm.bias_hh_l{k}"]) for k in range(config.layers)]
        self.linear = (tensors["linear.weight"].T.copy(), tensors["linear.bias"])
        self._window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(config.n_fft) / config.n_fft)).astype(np.float32)

    def mel(self, audio: np.ndarray) -> np.ndarray:
        """(frames, n_mels) float32 power mel of audio (samples,), frames = 1 + samples // hop (centred)."""
        c = self.config
        pad = c.n_fft // 2
        x = np.pad(np.asarray(audio, np.float32), (pad, pad))
        n = 1 + (len(x) - c.n_fft) // c.hop
        idx = np.arange(c.n_fft)[None, :] + c.hop * np.arange(n)[:, None]  # (frames, n_fft)
        power = np.abs(np.fft.rfft(x[idx] * self._window, axis=1)) ** 2  # (frames, n_fft // 2 + 1)
        return (power @ self.mel_filters.T).astype(np.float32)

    def forward(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, n_mels) -> (batch, embedding): Resemblyzer's VoiceEncoder.forward."""
        x = np.asarray(mels, np.float32)
        h = np.zeros((x.shape[0], self.config.hidden), np.float32)
        for w_ih, w_hh, bias in self.layers:
            gates_in = x @ w_ih + bias  # (batch, frames, 4 * hidden): the input's share of every step at once
            h = np.zeros((x.shape[0], self.config.hidden), np.float32)
            c = np.zeros_like(h)
            out = np.empty((x.shape[0], x.shape[1], self.config.hidden), np.float32)
            for t in range(x.shape[1]):
                i, f, g, o = np.split(gates_in[:, t] + h @ w_hh, 4, axis=1)  # torch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        raw = np.maximum(h @ self.linear[0] + self.linear[1], 0.0)
        return raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)

    def embed(self, windows: np.ndarray) -> np.ndarray:
        """(n, samples) audio windows -> (n, embedding) embeddings, each window volume-normalised.

        Resemblyzer's windows are partial_samples long (1.6 s); the LSTM takes any length of at least a frame.
        """
        c = self.config
        if windows.ndim != 2 or windows.shape[1] < c.n_fft:
            raise ValueError(f"windows must be (n, samples) with at least {c.n_fft} samples, got {windows.shape}")
        rms = np.sqrt(np.mean((windows.astype(np.float64) * _INT16_MAX) ** 2, axis=1)) + 1e-9
        gain = np.maximum(1.0, 10 ** ((c.target_dbfs - 20 * np.log10(rms / _INT16_MAX)) / 20))
        scaled = windows * gain[:, None].astype(np.float32)
        mels = np.stack([self.mel(w)[:windows.shape[1] // c.hop] for w in scaled])  # (n, frames, n_mels)
        return self.forward(mels)


def read_asset(path: Path = ASSET) -> tuple[dict[str, np.ndarray], VoiceEncoderConfig]:
    from safetensors import safe_open

    if not path.exists():
        raise ValueError(f"{path}: the voice encoder file is missing; rebuild it with tools/convert_voice_encoder.py")
    with safe_open(str(path), framework="numpy") as f:
        meta = json.loads((f.metadata() or {}).get(METADATA_KEY, "{}"))
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a mapping)
    if "config" not in meta:
        raise ValueError(f"{path}: not a StutterScope voice encoder (no '{METADATA_KEY}' metadata)")
    return tensors, VoiceEncoderConfig(**meta["config"])


@lru_cache(maxsize=1)
def load_voice_encoder(path: Path = ASSET) -> VoiceEncoder:
    """The shipped encoder, read once per process (6 MB of float32)."""
    return VoiceEncoder(*read_asset(path))
