import numpy as np
import pytest
import soundfile as sf

from model.audio.decode import SAMPLE_RATE, AudioDecodeError, audio_info, iter_audio, load_audio, log_mel


def test_any_rate_and_channels_become_mono_16k(tmp_path):
    t = np.arange(8000 * 2) / 8000
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    sf.write(tmp_path / "a.wav", stereo, 8000)
    audio = load_audio(tmp_path / "a.wav")
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 2 * SAMPLE_RATE) <= 16
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / len(audio) - 440) < 2


@pytest.mark.parametrize("ext,fmt", [(".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_compressed_formats_decode(tmp_path, ext, fmt):
    tone = 0.3 * np.sin(2 * np.pi * 300 * np.arange(44100) / 44100)
    sf.write(tmp_path / f"a{ext}", tone, 44100, format=fmt)
    audio = load_audio(tmp_path / f"a{ext}")
    assert abs(len(audio) / SAMPLE_RATE - 1.0) < 0.1


def test_m4a_decodes_through_ffmpeg(tmp_path):
    import shutil
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    sf.write(tmp_path / "a.wav", 0.3 * np.sin(np.arange(32000) / 5), 16000)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "a.wav"), str(tmp_path / "a.m4a")], check=True)
    assert audio_info(tmp_path / "a.m4a").backend == "ffmpeg"
    assert abs(len(load_audio(tmp_path / "a.m4a")) / SAMPLE_RATE - 2.0) < 0.1


def test_streaming_equals_whole_file(tmp_path):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "a.wav", rng.standard_normal(22050 * 7) * 0.1, 22050)
    streamed = np.concatenate(list(iter_audio(tmp_path / "a.wav", block_seconds=0.7)))
    whole = np.concatenate(list(iter_audio(tmp_path / "a.wav", block_seconds=100)))
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-4)


@pytest.mark.parametrize("content,match", [(b"", "empty"), (b"just some text, not audio", "cannot be decoded")])
def test_bad_files_name_the_file(tmp_path, content, match):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with pytest.raises(AudioDecodeError, match=match) as err:
        load_audio(bad)
    assert "bad.wav" in str(err.value)


def test_log_mel_matches_whisper_per_item():
    import torch
    from whisper.audio import log_mel_spectrogram

    rng = np.random.default_rng(0)
    batch = rng.standard_normal((3, 48000)).astype(np.float32) * np.array([[0.01], [0.1], [1.0]], np.float32)
    ours = log_mel(batch)
    assert ours.shape == (3, 80, 300)
    for i in range(3):
        torch.testing.assert_close(ours[i], log_mel_spectrogram(torch.from_numpy(batch[i])), atol=1e-4, rtol=1e-4)
