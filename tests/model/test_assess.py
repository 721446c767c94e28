import argparse
import csv
import json
import socket

import numpy as np
import pytest
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.encoder.bundle import load_bundle
from model.labels import LABELS
from model.pipeline import inference_cli
from model.pipeline.assess import analyse_one, assess_paths
from model.pipeline.inference import Cancelled, InferenceOptions, Predictor


def cli(*argv) -> int:
    parser = argparse.ArgumentParser()
    inference_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    return args.func(args)


@pytest.fixture()
def no_network(monkeypatch):
    """Any attempt to open a socket fails the test."""
    opened = []

    class NoSocket(socket.socket):
        def __init__(self, *a, **kw):
            opened.append(a)
            raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **kw: opened.append(a) or NoSocket())
    yield opened
    assert not opened


@pytest.fixture()
def recordings(tmp_path, speak):
    """A folder of recordings: good speech, every kind of bad input the issue names."""
    folder = tmp_path / "in"
    folder.mkdir()
    speech = speak("Well I I I went to the the store and um bought some bread.", "speech.wav")
    audio, rate = sf.read(speech)
    sf.write(folder / "a_speech.wav", audio, rate)
    sf.write(folder / "b_stereo8k.wav", np.stack([audio, audio * 0.5], 1)[: 2 * 8000], 8000)  # 2 s
    sf.write(folder / "c_silence.flac", np.zeros(5 * SAMPLE_RATE), SAMPLE_RATE)
    sf.write(folder / "d_short.wav", audio[: rate // 2], rate)
    (folder / "e_empty.wav").write_bytes(b"")
    (folder / "f_text.wav").write_text("this is not audio")
    full = (folder / "a_speech.wav").read_bytes()
    (folder / "g_truncated.wav").write_bytes(full[: len(full) // 2])
    (folder / "notes.txt").write_text("ignored: not an audio file")
    return folder


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_assess_folder_reports_bad_files_and_goes_on(frame_bundle_path, recordings, tmp_path, no_network):
    out = tmp_path / "out"
    status = cli("assess", recordings, "--out", out, "--model", frame_bundle_path, "--precision", "fp32")
    assert status == 1  # some files failed
    rows = {r["path"].rsplit("/", 1)[-1]: r for r in _read_csv(out / "summary.csv")}
    assert sorted(rows) == ["a_speech.wav", "b_stereo8k.wav", "c_silence.flac", "d_short.wav", "e_empty.wav",
                            "f_text.wav", "g_truncated.wav"]
    assert rows["e_empty.wav"]["status"] == "error" and "empty" in rows["e_empty.wav"]["error"]
    assert rows["f_text.wav"]["status"] == "error" and "cannot be decoded" in rows["f_text.wav"]["error"]
    expected = {"a_speech.wav": "ok", "b_stereo8k.wav": "ok", "g_truncated.wav": "ok-truncated",
                # Under 1 s of speech (model.audio.speech_activity): flagged, not scored.
                "c_silence.flac": "too-little-speech", "d_short.wav": "too-little-speech"}
    for name, status in expected.items():
        assert rows[name]["status"] == status, rows[name]
        assert len(rows[name]["model_id"]) == 64
    assert float(rows["c_silence.flac"]["duration_s"]) == pytest.approx(5.0)
    assert rows["c_silence.flac"]["sld_count"] == "" and "too little speech" in rows["c_silence.flac"]["warning"]
    assert float(rows["b_stereo8k.wav"]["duration_s"]) == pytest.approx(2.0, abs=0.01)
    # A truncated WAV is analysed as far as its data goes, and says so.
    assert float(rows["g_truncated.wav"]["duration_s"]) < float(rows["a_speech.wav"]["duration_s"])
    assert "truncated" in rows["g_truncated.wav"]["warning"]
    results = json.loads((out / "results.json").read_text())
    events = _read_csv(out / "events.csv")
    assert len(events) == sum(len(r["events"]) for r in results)
    assert not [p for p in out.rglob("*.tmp")]


def test_events_in_outputs_follow_the_model_thresholds(frame_bundle_path, recordings, tmp_path):
    bundle = load_bundle(frame_bundle_path)
    predictor = Predictor(bundle, options=InferenceOptions(precision="fp32"))
    report = assess_paths([recordings / "a_speech.wav"], tmp_path / "out", predictor=predictor)
    (result,) = report.results
    _, moments = predictor.predict_moments(recordings / "a_speech.wav")  # the model file's decoding
    assert moments and result.moments == [m.to_dict() for m in moments]
    assert len(result.events) == len(moments)
    # Thresholds above every probability: no moment, in the outputs as in the analysis.
    none, _ = analyse_one(recordings / "a_speech.wav", predictor, thresholds=dict.fromkeys(LABELS, 0.99))
    assert none.status == "ok" and none.events == [] and none.moments == []


def test_resume_after_an_interruption(frame_bundle_path, recordings, tmp_path):
    predictor = Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(precision="fp32"))
    good = [recordings / n for n in ("a_speech.wav", "b_stereo8k.wav", "c_silence.flac", "d_short.wav")]
    out = tmp_path / "out"
    done = []

    def stop_after_two():
        return len(done) >= 2

    with pytest.raises(Cancelled):
        assess_paths(good, out, predictor=predictor, progress=lambda i, n, p: done.append(p), cancel=stop_after_two)
    assert len(_read_csv(out / "summary.csv")) == 2  # what finished is on disk
    report = assess_paths(good, out, predictor=predictor)
    # c (silence) and d (0.5 s) hold under 1 s of speech: flagged, not scored (model.audio.speech_activity).
    assert [r.status for r in report.results] == ["cached", "cached", "too-little-speech", "too-little-speech"]
    fresh = assess_paths(good, tmp_path / "fresh", predictor=predictor)
    assert [r.summary for r in report.results] == [r.summary for r in fresh.results]
    # Other settings are not mixed with earlier results.
    other = Predictor(predictor.bundle, options=InferenceOptions(precision="fp32", hop_seconds=0.5))
    assert "cached" not in [r.status for r in assess_paths(good, out, predictor=other).results]


def test_predict_clips_csv(frame_bundle_path, recordings, tmp_path, no_network):
    out = tmp_path / "pred.csv"
    status = cli("predict", recordings / "a_speech.wav", recordings / "d_short.wav", recordings / "e_empty.wav",
                 "--out", out, "--model", frame_bundle_path, "--precision", "fp32")
    assert status == 1
    rows = _read_csv(out)
    assert [r["path"].rsplit("/", 1)[-1] for r in rows] == ["a_speech.wav", "d_short.wav", "e_empty.wav"]
    bundle = load_bundle(frame_bundle_path)
    speech, short, empty = rows
    assert speech["model_id"] == bundle.model_id and speech["error"] == speech["warning"] == ""
    for label in LABELS:
        p = float(speech[f"p_{label}"])
        assert 0 <= p <= 1 and int(speech[label]) == int(p >= bundle.thresholds[label])
    # Half a second of speech: flagged as assess flags it (issue 23), no probabilities nor decisions.
    assert short["error"] == "" and "too little speech" in short["warning"] and "not scored" in short["warning"]
    assert all(short[f"p_{label}"] == short[label] == "" for label in LABELS)
    assert "empty" in empty["error"]


def test_assess_a_generated_session_end_to_end(frame_bundle_path, tmp_path):
    from data_prep.synth import generate_corpus

    generate_corpus(tmp_path / "synth", n_clips=0, seed=0, sessions=1, session_minutes=1)
    session = tmp_path / "synth" / "sessions" / "Synthetic_session_0.wav"
    out = tmp_path / "out"
    assert cli("assess", session, "--out", out, "--model", frame_bundle_path) == 0
    (row,) = _read_csv(out / "summary.csv")
    assert float(row["duration_s"]) == pytest.approx(60.0)
    assert row["events_from"] == "moments" and 0.0 <= float(row["sld_time_share"]) <= 1.0
    (result,) = json.loads((out / "results.json").read_text())
    s = result["summary"]
    assert s["sld_count"] + s["interjection_count"] == len(result["moments"]) == int(row["moments"]) + int(
        row["interjections"])
    assert all(0 <= e["start"] < e["end"] <= 60.0 for e in result["events"])


def test_resume_key_follows_the_exclusion_sidecars_only_with_words(tmp_path):
    from model.pipeline.assess import _file_key

    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    plain, words = {"precision": "fp32"}, {"precision": "fp32", "words": {"backend": "faster-whisper"}}
    before = (_file_key(wav, "m", plain), _file_key(wav, "m", words))
    (tmp_path / "a.exclude.csv").write_text("start_s,end_s\n0,1\n")
    assert _file_key(wav, "m", plain) == before[0]  # without words the sidecar changes nothing
    assert _file_key(wav, "m", words) != before[1]
