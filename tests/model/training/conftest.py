"""Fixtures of the training tests: the small real Whisper and espeak-ng, skipped cleanly without them."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def tiny_en():
    """Whisper tiny.en (offline package): the same code as base at a fifth of the cost."""
    from model.encoder.weights import WeightsNotFoundError, resolve_whisper

    try:
        resolve_whisper("tiny.en")
    except WeightsNotFoundError as e:
        pytest.skip(f"needs Whisper tiny.en offline ({e})")
    return "tiny.en"


@pytest.fixture(scope="module")
def espeak():
    """Skips unless espeak-ng is there, which the synthetic corpus speaks with."""
    from data_prep.synth.speech import espeak_binary

    try:
        espeak_binary()
    except RuntimeError as e:
        pytest.skip(f"the synthetic corpus needs espeak-ng ({e})")
