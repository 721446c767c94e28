"""The model a training run starts from: Whisper's encoder (by name or from an encoder file) and a fresh head."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor

from ..encoder.classifier import ClassifierConfig, EncoderDims, StutterClassifier
from .caches import state_sha256

ENCODER_FILE_DIMS_KEY = "encoder_dims"  # metadata key of an encoder .safetensors file


def save_encoder_file(dims: EncoderDims, state: dict[str, Tensor], path: str | Path) -> None:
    """Write encoder weights + dims as one .safetensors (for tests and for weights kept by hand)."""
    from dataclasses import asdict

    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(path),
              metadata={ENCODER_FILE_DIMS_KEY: json.dumps(asdict(dims))})


def load_encoder(weights: str) -> tuple[EncoderDims, dict[str, Tensor], str]:
    """(dims, encoder state, SHA-256 of the state) from a Whisper name or an encoder .safetensors file."""
    if weights.endswith(".safetensors"):
        from safetensors import safe_open

        if not Path(weights).is_file():
            raise ValueError(f"{weights}: no such encoder weights file")
        with safe_open(weights, framework="pt") as f:
            meta = f.metadata() or {}
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has keys() only
        if ENCODER_FILE_DIMS_KEY not in meta:
            raise ValueError(f"{weights}: not an encoder weights file (no {ENCODER_FILE_DIMS_KEY!r} metadata)")
        dims = EncoderDims(**json.loads(meta[ENCODER_FILE_DIMS_KEY]))
    else:
        from ..encoder.weights import load_encoder_state

        dims, state, _source = load_encoder_state(weights)
    state = {k: v.float() for k, v in state.items()}
    return dims, state, state_sha256(state)


def build_model(weights: str, *, train_blocks: int, context: str, head_hidden: int = 256,
                dropout: float = 0.1, seed: int = 0, head: str = "mean", pooling: str = "auto",
                ) -> tuple[StutterClassifier, str]:
    """A classifier with Whisper's encoder loaded and a seeded fresh head; returns (model, weights SHA-256).

    head/pooling: the clip head ("mean") or the frame head ("frame", pooled by "auto" or "attention").
    """
    dims, state, sha = load_encoder(weights)
    config = ClassifierConfig(dims=dims, context=context, train_blocks=train_blocks,
                              head_hidden=head_hidden, dropout=dropout, head=head, pooling=pooling)
    torch.manual_seed(seed)
    model = StutterClassifier(config)
    model.load_whisper_encoder(state)
    return model, sha


# -- targets ----------------------------------------------------------------------------------------
