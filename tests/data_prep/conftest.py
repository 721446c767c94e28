"""Small corpora in the official formats, made by the tests: label CSVs with ", " separators and tone clips."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from data_prep.corpus import KEY_COLUMNS, VOTE_COLUMNS
from model.audio.decode import SAMPLE_RATE

CLIP_SECONDS = 0.5  # short clips keep the tests fast; the recipes don't care about length
CLIP_SAMPLES = int(CLIP_SECONDS * SAMPLE_RATE)  # 8,000


def csv_line(values) -> str:
    return ", ".join(str(v) for v in values)


def vote_row(show: str, ep: str, clip: int, start: int, votes: dict[str, int]) -> list:
    return [show, ep, clip, start, start + CLIP_SAMPLES] + [votes.get(c, 0) for c in VOTE_COLUMNS]


def write_label_csv(path: Path, rows: list[list]) -> Path:
    lines = [",".join(KEY_COLUMNS + VOTE_COLUMNS)] + [csv_line(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def tone(seconds: float, freq: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# Per clip: votes that exercise labels, multi-stuttering and the exclusion rules.
_PATTERNS = [
    {"Block": 2, "Interjection": 3},  # multi
    {"SoundRep": 3},
    {"Prolongation": 2, "WordRep": 1},
    {"NoStutteredWords": 3},
    {"Interjection": 2, "PoorAudioQuality": 2},  # excluded by default
    {"WordRep": 3, "Block": 1},
]


def fluency_rows(n_episodes: int = 6) -> list[list]:
    rows = []
    for e in range(n_episodes):
        ep = f"{10 + e:03d}"  # zero-padded, as FluencyBank's
        for c, votes in enumerate(_PATTERNS):
            rows.append(vote_row("FluencyBank", ep, c, 16_000 + c * CLIP_SAMPLES, votes))
    return rows


@pytest.fixture()
def mini_fluencybank(tmp_path):
    """(labels CSV, clip folder): 6 episodes x 6 clips in FluencyBank's layout (FLAC)."""
    rows = fluency_rows()
    labels = write_label_csv(tmp_path / "fluencybank_labels.csv", rows)
    clips = tmp_path / "clips"
    for i, row in enumerate(rows):
        show, ep, clip = row[:3]
        folder = clips / show / ep
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{show}_{ep}_{clip}.flac", tone(CLIP_SECONDS, 200 + 10 * i), SAMPLE_RATE)
    return labels, clips


@pytest.fixture()
def prep():
    """prep("fluencybank", "--labels", ...) -> exit status, through data_prep.cli.register's parser."""
    from data_prep.cli import register

    parser = argparse.ArgumentParser(prog="stutterscope")
    register(parser.add_subparsers(dest="command", required=True))

    def _run(*argv) -> int:
        args = parser.parse_args(["prep", *map(str, argv)])
        return args.func(args)

    return _run


@pytest.fixture()
def kit():
    """The helpers above, for tests (tests/data_prep has no __init__.py, so they can't be imported)."""
    import types

    return types.SimpleNamespace(fluency_rows=fluency_rows, write_label_csv=write_label_csv, vote_row=vote_row,
                                 tone=tone, CLIP_SAMPLES=CLIP_SAMPLES, CLIP_SECONDS=CLIP_SECONDS)
