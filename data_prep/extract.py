"""Cut clips out of episode recordings at the label CSV's Start/Stop samples.

Episodes are found as `{Show}/{EpId}.{ext}` in any format and rate, decoded to 16 kHz mono in blocks (an
hour-long episode is never held whole), and clips written to `{Show}/{EpId}/{Show}_{EpId}_{ClipId}.wav`.
Each clip is written atomically, so a clip on disk is complete: re-running resumes where it stopped,
and an episode whose clips all exist is not decoded at all.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm import tqdm

from model.audio.decode import SAMPLE_RATE, AudioDecodeError, iter_audio
from model.fileio import atomic_path

from .corpus import ClipRow, expected_clip_path, find_episode_audio

log = logging.getLogger(__name__)

CLIP_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16")}


@dataclass(frozen=True)
class ExtractOptions:
    ext: str = ".wav"  # clip format written: ".wav" or ".flac", 16-bit
    overwrite: bool = False  # cut clips again even where they exist (default: resume, keep them)

    def __post_init__(self):
        if self.ext not in CLIP_FORMATS:
            raise ValueError(f"clip format {self.ext!r}: choose one of {', '.join(CLIP_FORMATS)}")


@dataclass
class ExtractReport:
    written: int = 0  # clips cut in this run
    existing: int = 0  # clips already there (resumed)
    missing_episodes: list[str] = field(default_factory=list)  # "Show/EpId" with no recording
    failed_episodes: dict[str, str] = field(default_factory=dict)  # "Show/EpId" -> why it could not be decoded
    beyond_end: list[str] = field(default_factory=list)  # clip stems whose Stop lies past the recording's end

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def write_clip(path: Path, audio: np.ndarray, *, ext: str) -> None:
    """Write audio (samples,) at SAMPLE_RATE via a temporary file + os.replace."""
    fmt, subtype = CLIP_FORMATS[ext]
    with atomic_path(path) as tmp:
        sf.write(tmp, audio, SAMPLE_RATE, format=fmt, subtype=subtype)


def _cut_episode(recording: Path, rows: list[ClipRow], clips_dir: Path, *, ext: str) -> tuple[int, list[str]]:
    """Stream the recording once and write each row's clip; returns (written, stems past the end)."""
    pending = sorted(rows, key=lambda r: (r.stop, r.start))
    buffer = np.zeros(0, np.float32)
    buf_start = 0  # episode sample index of buffer[0]
    written = 0
    for block in iter_audio(recording):
        buffer = np.concatenate([buffer, block])
        buf_end = buf_start + len(buffer)
        while pending and pending[0].stop <= buf_end:
            row = pending.pop(0)
            write_clip(expected_clip_path(clips_dir, row, ext=ext), buffer[row.start - buf_start:row.stop - buf_start],
                       ext=ext)
            written += 1
        if not pending:
            break
        # Keep only what a clip still to be cut needs (clips may overlap).
        keep_from = min(r.start for r in pending)
        if keep_from > buf_start:
            buffer = buffer[keep_from - buf_start:]
            buf_start = keep_from
    return written, [r.stem for r in pending]


def extract_clips(rows: list[ClipRow], episodes_dir: str | Path, clips_dir: str | Path, *,
                  options: ExtractOptions = ExtractOptions(), progress: bool = True) -> ExtractReport:
    """Cut every row's clip that is not there yet; missing or undecodable episodes are reported, not fatal."""
    episodes_dir, clips_dir = Path(episodes_dir), Path(clips_dir)
    if not episodes_dir.is_dir():
        raise FileNotFoundError(f"{episodes_dir}: no such episode folder (expected {{Show}}/{{EpId}}.wav inside it)")
    by_episode: dict[tuple[str, str], list[ClipRow]] = defaultdict(list)
    for row in rows:
        by_episode[(row.show, row.ep_id)].append(row)
    report = ExtractReport()
    for (show, ep_id), ep_rows in tqdm(sorted(by_episode.items()), desc="episodes", unit="ep", disable=not progress):
        todo = [r for r in ep_rows if options.overwrite or not expected_clip_path(clips_dir, r, ext=options.ext).is_file()]
        report.existing += len(ep_rows) - len(todo)
        if not todo:
            continue
        recording = find_episode_audio(episodes_dir, show, ep_id)
        if recording is None:
            report.missing_episodes.append(f"{show}/{ep_id}")
            continue
        try:
            written, beyond = _cut_episode(recording, todo, clips_dir, ext=options.ext)
        except AudioDecodeError as e:
            log.warning("skipping episode %s/%s: %s", show, ep_id, e)
            report.failed_episodes[f"{show}/{ep_id}"] = str(e)
            continue
        report.written += written
        report.beyond_end += beyond
    if report.missing_episodes:
        log.warning("%d episode recording(s) not found in %s: %s", len(report.missing_episodes), episodes_dir,
                    ", ".join(report.missing_episodes[:10]) + (" ..." if len(report.missing_episodes) > 10 else ""))
    return report
