"""The synthetic stutter corpus: labels true of the audio, exact event times, determinism, sessions."""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from data_prep.corpus import KEY_COLUMNS, VOTE_COLUMNS, expected_clip_path, read_label_csv
from data_prep.synth import CorpusOptions, add_arguments, generate_corpus, run, speech
from data_prep.synth.acoustics import DRY, colored_noise
from data_prep.synth.clips import plan_labels
from data_prep.synth.disfluency import DisfluencyOptions, prolongation, stretch
from data_prep.synth.text import INTERJECTIONS
from model.audio.decode import SAMPLE_RATE, WINDOW_SAMPLES
from model.labels import LABELS

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

MS = SAMPLE_RATE // 1000  # 16 samples per millisecond


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _events(path: Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def dry(tmp_path_factory):
    """A small corpus without noise or reverberation, so event times can be checked on the waveform."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("needs espeak-ng")
    out = tmp_path_factory.mktemp("synth_dry")
    summary = generate_corpus(out, n_clips=40, seed=7, sessions=1, session_minutes=0.5,
                              options=CorpusOptions(acoustics=DRY))
    audio = {}
    for row in read_label_csv(summary.label_csv):
        audio[row.ep_id, row.clip_id] = sf.read(expected_clip_path(out, row), dtype="float32")[0]
    return summary, audio, _events(summary.event_csv)


def _of(dry, label):
    summary, audio, events = dry
    found = [(audio[e["EpId"], e["ClipId"]], e) for e in events if e["Label"] == label]
    assert found, f"the corpus has no {label} event"
    return found


def _onset(x: np.ndarray, at: int) -> float:
    """The loudest 10 ms frame of the 150 ms from sample at: the release after a block."""
    return max(_rms(x[i: i + 10 * MS]) for i in range(at, at + 150 * MS, 10 * MS))


def _span(e: dict) -> tuple[int, int]:
    return round(float(e["StartSec"]) * SAMPLE_RATE), round(float(e["EndSec"]) * SAMPLE_RATE)


def test_label_csv_has_the_official_format(dry):
    summary, audio, events = dry
    lines = summary.label_csv.read_text().splitlines()
    assert lines[0] == ",".join(KEY_COLUMNS + VOTE_COLUMNS)
    assert all(len(line.split(", ")) == len(KEY_COLUMNS + VOTE_COLUMNS) for line in lines[1:])
    rows = read_label_csv(summary.label_csv)  # the SEP-28k recipe's own reader
    assert len(rows) == summary.n_clips == 40
    by_clip = {}
    for e in events:
        by_clip.setdefault((e["EpId"], e["ClipId"]), set()).add(e["Label"])
    for row in rows:
        present = {k for k in LABELS if row.votes[k] == 3}
        assert all(row.votes[k] in (0, 3) for k in LABELS)
        assert row.votes["NoStutteredWords"] == (0 if present else 3)
        assert present == by_clip.get((row.ep_id, row.clip_id), set())  # labels = injected events
        assert row.show == "Synthetic" and row.stop - row.start == WINDOW_SAMPLES
    assert len({r.ep_id for r in rows}) == len(summary.voices) == 4  # one episode per voice
    assert summary.counts["fluent"] == 12 and all(summary.counts[k] >= 5 for k in LABELS)


def test_clips_are_exact_windows_with_events_inside(dry):
    summary, audio, events = dry
    for (ep, clip), x in audio.items():
        info = sf.info(str(summary.out_dir / "Synthetic" / ep / f"Synthetic_{ep}_{clip}.wav"))
        assert (info.samplerate, info.channels, info.frames) == (SAMPLE_RATE, 1, WINDOW_SAMPLES)
        assert len(x) == WINDOW_SAMPLES and _rms(x) > 0.01
    for e in events:
        start, end = _span(e)
        assert 0 <= start < end <= WINDOW_SAMPLES


def test_block_is_near_silence_before_an_abrupt_onset(dry):
    for x, e in _of(dry, "Block"):
        start, end = _span(e)
        assert 0.3 * SAMPLE_RATE - 2 <= end - start <= 2.0 * SAMPLE_RATE + 2
        hold, onset = _rms(x[start + 10 * MS: end - 10 * MS]), _onset(x, end)
        assert hold < 0.03 * onset, (e, hold, onset)


def test_word_repetition_repeats_the_word(dry):
    for x, e in _of(dry, "WordRep"):
        start, end = _span(e)
        n = 120 * MS
        assert _corr(x[start: start + n], x[end: end + n]) > 0.95, e  # first copy = the fluent word


def test_sound_repetition_repeats_the_word_start(dry):
    for x, e in _of(dry, "SoundRep"):
        start, end = _span(e)
        n = 60 * MS  # shorter than any fragment (80 ms at least)
        assert _corr(x[start: start + n], x[end: end + n]) > 0.95, e
        assert end - start >= 2 * 80 * MS  # at least two fragments


def test_prolongation_holds_a_sound_for_the_stated_time(dry):
    for x, e in _of(dry, "Prolongation"):
        start, end = _span(e)
        assert 0.3 * SAMPLE_RATE - 2 <= end - start <= 1.5 * SAMPLE_RATE + 2
        levels = [_rms(x[i: i + 10 * MS]) for i in range(start, end - 10 * MS, 10 * MS)]  # 10 ms frames
        assert min(levels) > 0.05 * max(levels), e  # no gap or fade: one sound, held throughout


def test_interjections_are_fillers(dry):
    for x, e in _of(dry, "Interjection"):
        start, end = _span(e)
        assert e["Text"] in INTERJECTIONS and _rms(x[start:end]) > 0.01


def test_session_events_fit_the_recording(dry):
    summary, _, _ = dry
    (path,) = summary.sessions
    info = sf.info(str(path))
    assert info.frames == 30 * SAMPLE_RATE and info.samplerate == SAMPLE_RATE
    events = _events(path.with_name(f"{path.stem}_events.csv"))
    assert events and {e["Label"] for e in events} <= set(LABELS)
    spans = [(float(e["StartSec"]), float(e["EndSec"])) for e in events]
    assert spans == sorted(spans) and all(0 < s < t <= 30.0 for s, t in spans)
    audio = sf.read(str(path), dtype="float32")[0]
    for e in events:
        if e["Label"] == "Block":
            start, end = _span(e)
            assert _rms(audio[start + 10 * MS: end - 10 * MS]) < 0.03 * _onset(audio, end)


@needs_espeak
def test_same_seed_same_corpus_other_seed_differs(tmp_path):
    def make(name, seed):
        out = tmp_path / name
        generate_corpus(out, n_clips=8, seed=seed, options=CorpusOptions(n_voices=2))
        return out

    a, b, c = make("a", 5), make("b", 5), make("c", 6)
    assert (a / "synthetic_labels.csv").read_bytes() == (b / "synthetic_labels.csv").read_bytes()
    assert (a / "synthetic_events.csv").read_bytes() == (b / "synthetic_events.csv").read_bytes()
    clips = sorted(p.relative_to(a) for p in a.rglob("*.wav"))
    assert len(clips) == 8
    assert all(_sha(a / p) == _sha(b / p) for p in clips)
    assert any(not (c / p).exists() or _sha(a / p) != _sha(c / p) for p in clips)


def test_missing_espeak_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="espeak-ng.*install"):
        generate_corpus(tmp_path / "out", n_clips=3, seed=0)
    assert not (tmp_path / "out").exists()


def test_failing_espeak_is_a_runtime_error(monkeypatch, tmp_path):
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\necho 'voice not found' >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setattr(speech, "espeak_binary", lambda: str(broken))
    with pytest.raises(RuntimeError, match="espeak-ng failed for voice en-us.*voice not found"):
        speech.speak(speech.Voice("en-us", "m3", 50, 160), "hello")


@needs_espeak
def test_words_are_cut_at_the_pauses_or_spoken_one_by_one(monkeypatch):
    voice, words = speech.Voice("en-gb", "f2", 60, 150), ("so", "you know", "snake", "I")
    batch = speech.synthesize_words(voice, words)
    monkeypatch.setattr(speech, "split_words", lambda audio, n: None)  # as if the cut had failed
    single = speech.synthesize_words(voice, words)
    for w in words:
        assert 0.1 * SAMPLE_RATE < len(batch[w]) < 0.8 * SAMPLE_RATE
        assert len(single[w]) == pytest.approx(len(batch[w]), rel=0.35)
        edge = max(_rms(batch[w][:10 * MS]), _rms(batch[w][-10 * MS:]))
        assert 0 < edge < 0.5 * _rms(batch[w])  # trimmed: starts and ends near the speech, not in silence
    assert len(batch["you know"]) > len(batch["so"])  # a two-word filler stays one unit


@pytest.mark.parametrize("kwargs", [{"n_clips": -1}, {"sessions": 1, "session_minutes": 11.0},
                                    {"options": CorpusOptions(fluent_fraction=1.5)}])
def test_bad_arguments_are_refused(tmp_path, kwargs):
    with pytest.raises(ValueError):
        generate_corpus(tmp_path, **{"n_clips": 3, "seed": 0, **kwargs})


@needs_espeak
def test_cli_writes_a_corpus(tmp_path):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--n", "4", "--seed", "1", "--voices", "1", "--dry"])
    assert run(args) == 0
    assert len(read_label_csv(tmp_path / "synthetic_labels.csv")) == 4


def test_label_plan_is_balanced():
    plan = plan_labels(1000, np.random.default_rng(0), fluent_fraction=0.3, two_type_fraction=0.4)
    assert sum(not p for p in plan) == 300
    counts = [sum(k in p for p in plan) for k in LABELS]
    assert max(counts) - min(counts) < 40 and all(len(set(p)) == len(p) for p in plan)


def test_stretch_keeps_pitch_and_exact_length():
    t = np.arange(1600) / SAMPLE_RATE
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    held = stretch(tone, SAMPLE_RATE)
    assert len(held) == SAMPLE_RATE
    spectrum = np.abs(np.fft.rfft(held))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(held) - 220) < 2
    assert _rms(held[800:-800]) == pytest.approx(_rms(tone), rel=0.1)


def test_prolongation_reports_the_held_span():
    word = np.random.default_rng(1).standard_normal(6000).astype(np.float32) * 0.1
    out = prolongation(word, np.random.default_rng(2), DisfluencyOptions(prolong_target=(0.7, 0.7)))
    assert (out.start, out.end) == (0, int(0.7 * SAMPLE_RATE))
    assert len(out.audio) > out.end


def test_noise_colours_have_their_slopes():
    rng = np.random.default_rng(0)
    for color, low_share in (("white", (0.0, 0.05)), ("brown", (0.5, 1.0))):
        noise = colored_noise(SAMPLE_RATE, color, rng)
        power = np.abs(np.fft.rfft(noise)) ** 2
        share = power[: len(power) // 100].sum() / power.sum()  # below 80 Hz
        assert _rms(noise) == pytest.approx(1.0, rel=1e-3) and low_share[0] <= share <= low_share[1]
