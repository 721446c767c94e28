"""Convert Resemblyzer's voice encoder (its wheel's `pretrained.pt`) to model/assets/voice_encoder.safetensors.

Run once, by a developer, with torch and librosa present (the dev environment): the shipped path
(model/measures/voice_encoder.py) then reads plain float32 arrays with safetensors' numpy reader and never unpickles
anything. The checkpoint is read with `torch.load(weights_only=True)`, which refuses arbitrary objects.
Kept: the LSTM's and the linear layer's weights (the GE2E loss's similarity scale and the optimiser state are
training-only and dropped), and the 40-band mel filterbank librosa builds for Resemblyzer's front end
(Slaney mel scale and area normalisation), so that the numpy front end needs neither librosa nor a
reimplementation of librosa's filter construction.

    pip download --no-deps resemblyzer==0.1.4 -d /tmp/rz
    .venv/bin/python tools/convert_voice_encoder.py /tmp/rz/Resemblyzer-0.1.4-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from model.measures.voice_encoder import ASSET, METADATA_KEY, VoiceEncoderConfig  # noqa: E402

WEIGHTS_IN_WHEEL = "resemblyzer/pretrained.pt"


def read_checkpoint(wheel: Path) -> tuple[dict[str, np.ndarray], str]:
    """The encoder's weights from the wheel (torch, weights only) and the SHA-256 of pretrained.pt."""
    import torch

    with zipfile.ZipFile(wheel) as z:
        raw = z.read(WEIGHTS_IN_WHEEL)
    state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)["model_state"]
    keep = {k: v.numpy().astype(np.float32) for k, v in state.items() if k.startswith(("lstm.", "linear."))}
    return keep, hashlib.sha256(raw).hexdigest()


def mel_filters(config: VoiceEncoderConfig) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) float32: the filterbank librosa.feature.melspectrogram uses with these settings."""
    import librosa

    return librosa.filters.mel(sr=config.sample_rate, n_fft=config.n_fft, n_mels=config.n_mels).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    from safetensors.numpy import save_file

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", type=Path, help="Resemblyzer-0.1.4-py3-none-any.whl (pip download --no-deps resemblyzer)")
    ap.add_argument("--out", type=Path, default=ASSET)
    args = ap.parse_args(argv)
    config = VoiceEncoderConfig()
    tensors, sha = read_checkpoint(args.wheel)
    tensors["mel_filters"] = mel_filters(config)
    meta = {"config": config.to_dict(), "source": args.wheel.name, "pretrained_pt_sha256": sha}
    save_file(tensors, str(args.out), metadata={METADATA_KEY: json.dumps(meta, sort_keys=True)})
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) from {args.wheel.name}, pretrained.pt {sha[:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
