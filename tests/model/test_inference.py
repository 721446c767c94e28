import numpy as np
import pytest
import soundfile as sf
import torch

from model.audio import SAMPLE_RATE, WINDOW_SAMPLES, log_mel
from model.bundle import load_bundle
from model.events import Event, detect_events, summarize
from model.inference import InferenceOptions, Predictor, iter_windows, n_windows
from model.labels import LABELS
from model.predictions import WindowPredictions


@pytest.fixture(scope="module")
def predictor(tiny_bundle_path):
    return Predictor(load_bundle(tiny_bundle_path), options=InferenceOptions(precision="fp32", batch_size=4))


@pytest.mark.parametrize("seconds,expected_starts", [
    (10.0, list(range(8))),  # 0..7: the last window ends exactly at 10 s
    (10.5, list(range(9))),  # one more, zero-padded, to cover the last half second
    (0.5, [0]),  # a short clip is one padded window
    (3.0, [0]),
])
def test_window_starts(seconds, expected_starts):
    audio = np.ones(int(seconds * SAMPLE_RATE), np.float32)
    blocks = (audio[i:i + 7000] for i in range(0, len(audio), 7000))
    got = list(iter_windows(blocks, SAMPLE_RATE))
    assert [s / SAMPLE_RATE for s, _, _ in got] == expected_starts
    assert len(got) == n_windows(len(audio), SAMPLE_RATE)
    assert all(len(w) == WINDOW_SAMPLES for _, w, _ in got)
    assert got[-1][2] == min(WINDOW_SAMPLES, len(audio) - got[-1][0])


def test_streamed_windows_equal_direct_windows(predictor, tmp_path):
    rng = np.random.default_rng(1)
    audio = (rng.standard_normal(int(7.5 * SAMPLE_RATE)) * 0.1).astype(np.float32)
    sf.write(tmp_path / "r.wav", audio, SAMPLE_RATE, subtype="FLOAT")
    preds = predictor.predict_recording(tmp_path / "r.wav")
    assert preds.starts.tolist() == [0, 1, 2, 3, 4, 5]
    assert preds.duration == pytest.approx(7.5)
    model = predictor.model
    for k, start in enumerate(preds.starts):
        s = int(start * SAMPLE_RATE)
        window = audio[s:s + WINDOW_SAMPLES]
        real = len(window)
        mel = log_mel(np.pad(window, (0, WINDOW_SAMPLES - real)))[None]
        with torch.no_grad():
            expected = torch.sigmoid(model(mel, torch.tensor([real // 160]))).numpy()[0]
        np.testing.assert_allclose(preds.probs[k], expected, atol=1e-5)


def test_progress_and_cancel(predictor, tmp_path):
    from model.inference import Cancelled

    sf.write(tmp_path / "r.wav", np.zeros(20 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    seen = []
    predictor.predict_recording(tmp_path / "r.wav", progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and len(seen) > 2
    calls = []
    with pytest.raises(Cancelled):
        predictor.predict_recording(tmp_path / "r.wav", cancel=lambda: calls.append(1) or len(calls) > 3)


def _preds(probs, hop=1.0, duration=None):
    probs = np.asarray(probs, np.float32)
    starts = np.arange(len(probs)) * hop
    return WindowPredictions(LABELS, starts, probs, 3.0, hop, duration or starts[-1] + 3.0, "id", "x.wav")


def test_events_merge_consecutive_windows_per_type():
    p = np.zeros((8, 5))
    p[1:4, 1] = [0.6, 0.9, 0.7]  # Block in windows 1-3 -> 1 s .. 6 s, peak 0.9
    p[6, 1] = 0.8  # a second Block: 6 s .. 9 s
    p[2, 4] = 0.95  # Interjection: 2 s .. 5 s
    events = detect_events(_preds(p, duration=10.0), dict.fromkeys(LABELS, 0.5))
    assert events == [Event("Block", 1.0, 6.0, pytest.approx(0.9)), Event("Interjection", 2.0, 5.0, pytest.approx(0.95)),
                      Event("Block", 6.0, 9.0, pytest.approx(0.8))]


def test_last_event_is_cut_at_the_end_of_the_recording():
    p = np.zeros((3, 5))
    p[2, 0] = 0.9
    (event,) = detect_events(_preds(p, duration=4.2), dict.fromkeys(LABELS, 0.5))
    assert (event.start, event.end) == (2.0, 4.2)


def test_summary_against_hand_computed_values():
    p = np.zeros((28, 5))  # 30 s recording, 28 windows
    p[0:2, 0] = 0.9  # Prolongation 0-4 s (4 s)
    p[10, 2] = 0.9  # SoundRep 10-13 s (3 s)
    p[20:25, 3] = 0.9  # WordRep 20-27 s (7 s)
    p[15, 1] = 0.9  # Block 15-18 s (3 s)
    p[5, 4] = p[7, 4] = 0.9  # two Interjections
    preds = _preds(p, duration=30.0)
    thresholds = dict.fromkeys(LABELS, 0.5)
    s = summarize(detect_events(preds, thresholds), windows=preds)
    assert s.counts == {"Prolongation": 1, "Block": 1, "SoundRep": 1, "WordRep": 1, "Interjection": 2}
    assert s.sld_count == 4 and s.sld_per_minute == 8.0
    assert s.interjection_count == 2 and s.interjection_per_minute == 4.0
    assert s.per_minute["WordRep"] == 2.0
    assert s.longest3 == (7.0, 4.0, 3.0) and s.longest3_mean == pytest.approx(14 / 3, abs=1e-3)
    assert s.sld_window_share == pytest.approx(9 / 28, abs=1e-4)  # windows 0,1,10,15,20-24
    assert s.windows == 28 and s.duration == 30.0


@pytest.mark.parametrize("hop", [3.5, 30.0])
def test_a_hop_longer_than_the_window_is_refused(hop):
    # Issue 23: --hop 5 analysed 3 s of every 5 (and zeroed a frame model's frames in between, as no speech).
    from model.inference import InferenceOptions

    with pytest.raises(ValueError, match=r"between 0.05 and 3 \(the window\)"):
        InferenceOptions(hop_seconds=hop)
    assert InferenceOptions(hop_seconds=3.0).hop_seconds == 3.0
