import json

import numpy as np
import pytest
import soundfile as sf

from model.audio.decode import SAMPLE_RATE
from model.encoder.bundle import load_bundle
from model.measures.summary import summarize
from model.moments.decoding import INTERJECTION, Moment
from model.pipeline.inference import InferenceOptions, Predictor


@pytest.fixture(scope="module")
def predictor(frame_bundle_path):
    return Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(precision="fp32", batch_size=4))


def test_progress_and_cancel(predictor, tmp_path):
    from model.pipeline.inference import Cancelled

    sf.write(tmp_path / "r.wav", np.zeros(20 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    seen = []
    predictor.predict_frames(tmp_path / "r.wav", progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 2
    calls = []
    with pytest.raises(Cancelled):
        predictor.predict_frames(tmp_path / "r.wav", cancel=lambda: calls.append(1) or len(calls) > 3)


def test_summary_against_hand_computed_values():
    def sld(start, end, *types):
        return Moment(start, end, 0.9, types)

    def interjection(start, end):
        return Moment(start, end, 0.9, ("Interjection",), INTERJECTION)

    moments = [sld(0.0, 4.0, "Prolongation"), sld(10.0, 13.0, "SoundRep"), sld(20.0, 27.0, "WordRep"),
               sld(15.0, 18.0, "Block"), interjection(5.0, 5.5), interjection(7.0, 7.5),
               sld(21.0, 22.0, "Block", "WordRep")]  # inside the WordRep: its time counts once
    s = summarize(moments, duration=30.0)
    assert s.counts == {"Prolongation": 1, "Block": 2, "SoundRep": 1, "WordRep": 2, "Interjection": 2}
    assert s.sld_count == 5 and s.sld_per_minute == 10.0
    assert s.interjection_count == 2 and s.interjection_per_minute == 4.0
    assert s.longest3 == (7.0, 4.0, 3.0) and s.longest3_mean == pytest.approx(14 / 3, abs=1e-3)
    assert s.sld_time_share == pytest.approx(17 / 30, abs=1e-4)  # 4 + 3 + 7 + 3 s of SLD in 30 s
    assert s.duration == 30.0 and not hasattr(s, "windows")
    # Over the client's time: 20-30 s is someone else, so the WordRep (and the Block inside it) go.
    client = summarize(moments, duration=30.0, excluded=[(20.0, 30.0)])
    assert client.sld_count == 3 and client.sld_time_share == pytest.approx(10 / 20, abs=1e-4)
    # A stretch cutting into a kept moment: only its time outside the stretch counts.
    cut = summarize([sld(0.0, 4.0, "Block")], duration=10.0, excluded=[(3.0, 5.0)])
    assert cut.sld_count == 1 and cut.sld_time_share == pytest.approx(3 / 8, abs=1e-4)


@pytest.mark.parametrize("hop", [3.5, 30.0])
def test_a_hop_longer_than_the_window_is_refused(hop):
    # Issue 23: --hop 5 analysed 3 s of every 5 (and zeroed a frame model's frames in between, as no speech).
    with pytest.raises(ValueError, match=r"between 0.05 and 3 \(the window\)"):
        InferenceOptions(hop_seconds=hop)
    assert InferenceOptions(hop_seconds=3.0).hop_seconds == 3.0


def test_a_window_head_file_is_refused_with_what_it_is_and_the_fix(format1_bundle_path, tmp_path, speech_like_wav):
    from app.cli import main

    old = format1_bundle_path
    bundle = load_bundle(old, build_model=False)  # training's clip evaluation still reads it
    with pytest.raises(ValueError) as e:
        Predictor(bundle)
    text = str(e.value)
    assert "old-window.safetensors" in text and "format 1" in text and "3 s window" in text
    assert "bundled default model" in text and "stutterscope export" in text
    for argv in (["assess", str(speech_like_wav), "--out", str(tmp_path / "out"), "--model", str(old)],
                 ["predict", str(speech_like_wav), "--model", str(old)]):
        assert main(argv) == 2
    assert not (tmp_path / "out" / "summary.csv").exists()


def test_the_cli_says_it_without_a_traceback(format1_bundle_path, tmp_path, speech_like_wav, capsys, monkeypatch):
    from app.cli import main

    old = format1_bundle_path
    assert main(["assess", str(speech_like_wav), "--out", str(tmp_path / "out"), "--model", str(old)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stutterscope: error: ") and "old-window.safetensors" in err
    assert "Traceback" not in err and "stutterscope export" in err
    monkeypatch.setenv("STUTTERSCOPE_MODEL", str(old))  # `info` on such a default: the rest, and the message
    assert main(["info"]) == 0
    shown = json.loads(capsys.readouterr().out)["default_model"]
    assert shown["path"] == str(old) and "stutterscope export" in shown["error"]


@pytest.fixture()
def speech_like_wav(tmp_path):
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(4 * SAMPLE_RATE) * 0.1).astype(np.float32)
    sf.write(tmp_path / "r.wav", audio, SAMPLE_RATE)
    return tmp_path / "r.wav"
