"""Cutting clips from episode recordings: any rate/format in, 16 kHz mono clips out, resumable."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from data_prep import extract
from data_prep.corpus import read_label_csv
from data_prep.extract import ExtractOptions, extract_clips
from model.audio.decode import SAMPLE_RATE, load_audio


@pytest.fixture()
def episodes(tmp_path, kit):
    """Two 3 s episodes (one 44.1 kHz stereo WAV, one 8 kHz FLAC), clips overlapping, one episode missing."""
    rows = []
    for ep in ("0", "1", "2"):
        for c, start in enumerate((0, 4000, 20_000, 36_000)):  # clips of 8,000 samples; 0 and 1 overlap
            rows.append(kit.vote_row("Show", ep, c, start, {}))
    labels = kit.write_label_csv(tmp_path / "labels.csv", rows)
    folder = tmp_path / "episodes" / "Show"
    folder.mkdir(parents=True)
    t = np.arange(3 * 44_100) / 44_100
    left = np.sin(2 * np.pi * 220 * t) * np.linspace(0.1, 0.9, len(t))  # a rising envelope locates the cuts
    sf.write(folder / "0.wav", np.stack([left, left], axis=1).astype(np.float32), 44_100)
    sf.write(folder / "1.flac", kit.tone(3.0, 300, rate=8000), 8000)
    return read_label_csv(labels), tmp_path / "episodes", tmp_path / "clips"


def test_cuts_clips_at_start_stop(episodes):
    rows, episodes_dir, clips_dir = episodes
    report = extract_clips(rows, episodes_dir, clips_dir, progress=False)
    assert report.written == 8 and report.missing_episodes == ["Show/2"]
    whole = load_audio(episodes_dir / "Show" / "0.wav")
    for row in rows[:4]:
        clip_path = clips_dir / "Show" / "0" / f"Show_0_{row.clip_id}.wav"
        info = sf.info(clip_path)
        assert (info.samplerate, info.channels, info.frames) == (SAMPLE_RATE, 1, row.stop - row.start)
        clip, _ = sf.read(clip_path, dtype="float32")
        np.testing.assert_allclose(clip, whole[row.start:row.stop], atol=1e-3)  # 16-bit rounding


def test_resumes_after_interruption(episodes, monkeypatch):
    rows, episodes_dir, clips_dir = episodes
    real_write = extract.write_clip
    calls = []

    def flaky(path, audio, *, ext):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(path)
        real_write(path, audio, ext=ext)

    monkeypatch.setattr(extract, "write_clip", flaky)
    with pytest.raises(KeyboardInterrupt):
        extract_clips(rows, episodes_dir, clips_dir, progress=False)
    monkeypatch.setattr(extract, "write_clip", real_write)
    done = sorted(clips_dir.rglob("*.wav"))
    assert len(done) == 3 and not list(clips_dir.rglob("*.tmp"))
    stamps = {p: p.stat().st_mtime_ns for p in done}
    report = extract_clips(rows, episodes_dir, clips_dir, progress=False)
    assert (report.written, report.existing) == (5, 3)
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())  # finished clips are kept
    again = extract_clips(rows, episodes_dir, clips_dir, progress=False)
    assert (again.written, again.existing) == (0, 8)


def test_reports_clips_past_the_end_and_broken_episodes(episodes, kit, tmp_path):
    rows, episodes_dir, clips_dir = episodes
    (episodes_dir / "Show" / "2.mp3").write_bytes(b"garbage" * 100)
    late = read_label_csv(kit.write_label_csv(tmp_path / "late.csv", [kit.vote_row("Show", "0", 9, 46_000, {})]))
    report = extract_clips(rows + late, episodes_dir, clips_dir, options=ExtractOptions(ext=".flac"),
                           progress=False)
    assert report.beyond_end == ["Show_0_9"]
    assert list(report.failed_episodes) == ["Show/2"]
    assert (clips_dir / "Show" / "1" / "Show_1_3.flac").is_file()
    with pytest.raises(ValueError, match="clip format"):
        ExtractOptions(ext=".mp3")
