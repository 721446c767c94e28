"""`assess --speakers auto` (issue 26 item 1): the other voice's stretches proposed where there is no sidecar,
left out of the counts without --words; a sidecar wins; the setting is in the resume key; cancel reaches it."""

from __future__ import annotations

import argparse
import csv
import json

import pytest
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.errors import Cancelled
from model.pipeline import inference_cli
from model.pipeline.assess import FROM_SIDECAR, FROM_SPEAKERS, SIDECAR_WINS, not_client_stretches


def _assess(*argv) -> None:
    parser = argparse.ArgumentParser()
    inference_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([str(a) for a in argv])
    assert args.func(args) == 0


def _rows(out):
    summary = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8").splitlines()))
    return summary, json.loads((out / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def talk(two_voice_conversation, tmp_path_factory):
    """(the conversation as a WAV file, interviewer turns)."""
    audio, interviewer, _ = two_voice_conversation
    wav = tmp_path_factory.mktemp("talk") / "talk.wav"
    sf.write(str(wav), audio, SAMPLE_RATE)
    return wav, interviewer


def test_auto_leaves_the_other_voice_out_and_the_key_follows_the_setting(talk, frame_bundle_path, tmp_path):
    wav, interviewer = talk
    out = tmp_path / "out"
    _assess("assess", wav, "--out", out, "--model", frame_bundle_path)  # off: as before
    (row,), (result,) = _rows(out)
    assert row["excluded_source"] == "none" and result["excluded"] == [] and result["settings"].get("speakers") is None
    _assess("assess", wav, "--out", out, "--model", frame_bundle_path, "--speakers", "auto")
    (row,), (result,) = _rows(out)
    assert row["status"] == "ok"  # analysed again, not "cached": the setting is in the key
    assert row["excluded_source"] == result["excluded_source"] == FROM_SPEAKERS
    assert result["settings"]["speakers"] == "auto" and "check them" in row["warning"]
    found = result["excluded"]
    assert len(found) == len(interviewer), (found, interviewer)
    for (s, e), (fs, fe) in zip(interviewer, found, strict=True):
        assert abs(fs - s) <= 0.3 and abs(fe - e) <= 0.3, (found, interviewer)
    # Without --words the counts leave the stretches out: the rates are per minute of the rest.
    left_out = sum(e - s for s, e in found)
    assert result["summary"]["excluded_s"] == pytest.approx(left_out, abs=0.01)
    assert float(row["excluded_s"]) == pytest.approx(left_out, abs=0.01)
    moments = result["summary"]["moments"]
    assert moments["duration"] == pytest.approx(result["summary"]["duration"] - left_out, abs=0.01)
    inside = [m for m in result["moments"] if any(s <= (m["start"] + m["end"]) / 2 <= e for s, e in found)]
    kept = [m for m in result["moments"] if m not in inside and m["kind"] == "stuttering"]
    assert moments["moments"] == len(kept)
    _assess("assess", wav, "--out", out, "--model", frame_bundle_path, "--speakers", "auto")
    assert _rows(out)[0][0]["status"] == "cached"


def test_a_sidecar_wins_over_auto(talk, frame_bundle_path, tmp_path):
    wav, _ = talk
    copy = tmp_path / "session.wav"
    copy.write_bytes(wav.read_bytes())
    (tmp_path / "session.exclude.csv").write_text("start_s,end_s\n1.0,2.5\n", encoding="utf-8")
    out = tmp_path / "out"
    _assess("assess", copy, "--out", out, "--model", frame_bundle_path, "--speakers", "auto")
    (row,), (result,) = _rows(out)
    assert result["excluded"] == [[1.0, 2.5]] and row["excluded_source"] == FROM_SIDECAR
    assert SIDECAR_WINS in row["warning"]


def test_cancel_reaches_the_speakers_and_a_bad_setting_says_what_to_use(talk):
    with pytest.raises(Cancelled):
        not_client_stretches(talk[0], speakers="auto", cancel=lambda: True)
    with pytest.raises(ValueError, match="off, auto"):
        not_client_stretches(talk[0], speakers="on")



def test_auto_is_refused_with_a_cluster_before_any_work(talk, frame_bundle_path, tmp_path):
    parser = argparse.ArgumentParser()
    inference_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["assess", str(talk[0]), "--out", str(tmp_path / "out"), "--model",
                              str(frame_bundle_path), "--speakers", "auto", "--scheduler", "tcp://127.0.0.1:1"])
    with pytest.raises(ValueError, match="leave out --scheduler"):
        args.func(args)
    assert not (tmp_path / "out").exists()
