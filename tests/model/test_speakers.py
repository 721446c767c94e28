"""Who is speaking (model.measures.speakers, model.measures.voice_encoder): a generated two-voice conversation, the numpy voice
encoder against Resemblyzer's torch network, clustering on hand-made embeddings, and no torch at run time."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.audio.decode import SAMPLE_RATE
from model.errors import Cancelled
from model.measures.speakers import Diarization, DiarizeOptions, cluster, diarize, resegment, smooth
from model.measures.voice_encoder import load_voice_encoder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def conversation(two_voice_conversation):
    """(audio, interviewer turns, client turns): tests/conftest.py's generated two-voice conversation."""
    return two_voice_conversation


def test_two_voice_turns_found_within_0_3_s(conversation):
    audio, interviewer, client = conversation
    d = diarize(audio)
    found = d.not_client()
    assert len(found) == len(interviewer), (found, interviewer)
    for (s, e), (fs, fe) in zip(interviewer, found, strict=True):
        assert abs(fs - s) <= 0.3 and abs(fe - e) <= 0.3, (found, interviewer)
    proposed = d.stretches[d.client()]
    assert len(proposed) == len(client)
    for (s, e), (fs, fe) in zip(client, proposed, strict=True):
        assert abs(fs - s) <= 0.3 and abs(fe - e) <= 0.3, (proposed, client)
    other = next(k for k in d.stretches if k != d.client())
    assert d.not_client(client=other) == list(proposed)  # the clinician clicks the other voice


def test_diarize_reports_progress_and_stops_on_cancel(conversation):
    audio = conversation[0][:4 * SAMPLE_RATE]
    seen = []
    diarize(audio, options=DiarizeOptions(hop_s=1.0), progress=seen.append)
    assert seen and seen[-1] == 1.0
    with pytest.raises(Cancelled):
        diarize(audio, cancel=lambda: True)


def test_silence_has_no_speakers_and_bad_input_says_what_to_do():
    d = diarize(np.zeros(3 * SAMPLE_RATE, np.float32))
    assert d.client() is None and d.not_client() == []
    with pytest.raises(ValueError, match="mono"):
        diarize(np.zeros((2, SAMPLE_RATE), np.float32))


def test_cluster_finds_two_hand_made_voices_of_unequal_speech():
    rng = np.random.default_rng(1)
    a, b = np.abs(rng.normal(size=(2, 256)))  # positive, as the voice encoder's ReLU outputs are
    x = np.vstack([a + 0.3 * rng.normal(size=(40, 256)), b + 0.3 * rng.normal(size=(8, 256))])
    labels = cluster(x, 2)
    assert len(set(labels[:40])) == 1 and len(set(labels[40:])) == 1 and labels[0] != labels[40]
    assert len(set(cluster(x, 2, centre=True)[:40])) == 1


def test_a_stray_sound_is_not_taken_for_the_second_voice():
    rng = np.random.default_rng(2)
    a, b = np.abs(rng.normal(size=(2, 256)))
    stray = -a  # as far from both voices as can be: the first thing an unchecked linkage splits off
    x = np.vstack([a + 0.3 * rng.normal(size=(50, 256)), b + 0.3 * rng.normal(size=(10, 256)), stray[None]])
    labels = cluster(x, 2, min_share=0.03)
    assert set(labels[:50]) == {0} and set(labels[50:60]) == {1}
    assert set(cluster(x, 2, min_share=0.0)[50:60]) == {0}  # without the check, the stray is "the other voice"


def test_smooth_gives_short_runs_to_the_longer_neighbour():
    labels = np.array([0] * 10 + [1] * 2 + [0] * 3 + [1] * 12)
    assert smooth(labels, 5).tolist() == [0] * 15 + [1] * 12


def test_not_client_is_the_speakers_with_less_speech():
    d = Diarization(10.0, {0: ((0.0, 2.0), (6.0, 7.0)), 1: ((2.5, 5.5),), 2: ((7.0, 8.0),)},
                    {0: 3.0, 1: 3.0 + 0.5, 2: 1.0})
    assert d.client() == 1
    assert d.not_client() == [(0.0, 2.0), (6.0, 8.0)]
    with pytest.raises(ValueError, match="pick one of"):
        d.not_client(client=5)


def test_options_are_keyword_defaults():
    assert DiarizeOptions().speakers == 2 and DiarizeOptions().window_s > DiarizeOptions().hop_s


@pytest.fixture(scope="module")
def resemblyzer_network():
    """Resemblyzer's own torch network with its shipped weights (needs torch and the resemblyzer package,
    whose module is not imported: it needs webrtcvad, which the network does not)."""
    torch = pytest.importorskip("torch")
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("needs the resemblyzer package (pip install --no-deps resemblyzer)")
    state = torch.load(Path(spec.submodule_search_locations[0]) / "pretrained.pt", map_location="cpu",
                       weights_only=True)["model_state"]
    lstm, linear = torch.nn.LSTM(40, 256, 3, batch_first=True), torch.nn.Linear(256, 256)
    lstm.load_state_dict({k[len("lstm."):]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[len("linear."):]: v for k, v in state.items() if k.startswith("linear.")})

    def forward(mels: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            _, (hidden, _) = lstm(torch.from_numpy(mels))
            raw = torch.relu(linear(hidden[-1]))  # resemblyzer.VoiceEncoder.forward
            return (raw / torch.norm(raw, dim=1, keepdim=True)).numpy()

    return forward


def test_numpy_encoder_equals_resemblyzer_torch(resemblyzer_network, conversation):
    encoder = load_voice_encoder()
    audio = conversation[0]
    windows = np.stack([audio[s:s + encoder.config.partial_samples] for s in (0, SAMPLE_RATE * 4)])
    mels = np.stack([encoder.mel(w)[:encoder.config.partial_frames] for w in windows])  # (2, 160, 40)
    expected = resemblyzer_network(mels)
    assert np.abs(encoder.forward(mels) - expected).max() < 1e-5
    assert expected[0] @ expected[1] < 0.9  # two voices: the comparison is not between near-equal vectors


def test_numpy_mel_equals_librosa(conversation):
    librosa = pytest.importorskip("librosa")
    encoder = load_voice_encoder()
    w = conversation[0][:SAMPLE_RATE]
    expected = librosa.feature.melspectrogram(y=w, sr=SAMPLE_RATE, n_fft=400, hop_length=160, n_mels=40).T
    assert np.allclose(encoder.mel(w), expected, rtol=1e-4, atol=1e-6 * expected.max())


def test_diarization_runs_without_torch(tmp_path):
    code = ("import sys, numpy as np; from model.measures.speakers import diarize; "
            "rng = np.random.default_rng(0); t = np.arange(32000) / 16000; "
            "x = (0.1 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32); "
            "diarize(x); assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_resegment_keeps_a_turn_through_a_lone_stray_window_and_follows_a_real_change():
    rng = np.random.default_rng(3)
    a, b = np.abs(rng.normal(size=(2, 256)))
    voice = [a] * 8 + [b] + [a] * 8 + [b] * 6 + [a] * 4  # in time order: one stray window, then a real turn
    x = np.array(voice) + 0.05 * rng.normal(size=(len(voice), 256))
    nearest = (x @ b > x @ a).astype(np.int64)
    assert nearest[8] == 1  # the stray window alone leans to the other voice
    labels = resegment(x, nearest, switch_cost=1.0)
    assert labels.tolist() == [0] * 17 + [1] * 6 + [0] * 4
    assert resegment(x, nearest, switch_cost=0.0).tolist() == nearest.tolist()  # 0: the nearest centre
    assert resegment(x, np.zeros(len(x), np.int64), switch_cost=1.0).tolist() == [0] * len(x)  # one voice
