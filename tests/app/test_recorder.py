"""Recording through a fake audio source, recovery of an interrupted recording, and missing devices."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from app.qt.recorder import NO_MICROPHONE, ArrayAudioSource, Recorder
from app.qt.settings import microphone_dir
from app.wavstream import WavStreamWriter, find_unfinished


def test_fake_microphone_is_streamed_to_disk(qtbot, tmp_path):
    rng = np.random.default_rng(1)
    samples = (rng.standard_normal(16_000) * 0.2).astype(np.float32)  # 1 s
    recorder = Recorder(tmp_path)
    levels, finished = [], []
    recorder.level.connect(levels.append)
    recorder.finished.connect(finished.append)
    source = ArrayAudioSource(samples, chunk_ms=50)
    path = recorder.start(source)
    qtbot.waitUntil(lambda: source.exhausted, timeout=10_000)
    assert find_unfinished(tmp_path) == [path]  # still open: a crash now would leave it recoverable
    assert recorder.stop() == path and finished == [str(path)]
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 16_000 and len(audio) == len(samples)
    assert np.abs(audio - samples).max() < 1e-3 and max(levels) > 0.3
    assert find_unfinished(tmp_path) == []


def test_interrupted_recording_is_offered_at_start(qtbot, app_settings, tmp_path):
    from test_main_window import ScriptedDialogs

    from app.qt.main_window import MainWindow

    writer = WavStreamWriter(microphone_dir() / "recording-crashed.wav")
    writer.write((np.sin(np.arange(48_000) / 5) * 8000).astype("<i2").tobytes())  # 3 s, then "power cut"
    writer._file.flush()
    dialogs = ScriptedDialogs(answers=[True])
    win = MainWindow(app_settings, dialogs=dialogs)
    qtbot.addWidget(win)
    recovered = win.offer_recovery()
    assert recovered == [writer.path] and "interrupted" in dialogs.questions[0]
    assert sf.info(writer.path).frames == 48_000
    qtbot.waitUntil(lambda: win.state.review is not None and not win.state.busy, timeout=60_000)
    assert win.state.path == writer.path


def test_no_microphone_gives_a_message(qtbot, tmp_path):
    from app.qt.widgets.record_dialog import RecordDialog

    def no_source(_device_id):
        raise ValueError(NO_MICROPHONE)

    dialog = RecordDialog(Recorder(tmp_path), [], no_source)
    qtbot.addWidget(dialog)
    assert "No microphone" in dialog.status.text() and not dialog.start_button.isEnabled()
    assert dialog.start() is False and "No microphone" in dialog.status.text()


def test_record_dialog_with_a_fake_source(qtbot, tmp_path):
    from app.qt.recorder import Microphone
    from app.qt.widgets.record_dialog import RecordDialog

    samples = np.zeros(8000, np.float32)
    source = ArrayAudioSource(samples, chunk_ms=50)
    dialog = RecordDialog(Recorder(tmp_path), [Microphone("fake", "Fake mic")], lambda _id: source)
    qtbot.addWidget(dialog)
    assert dialog.start()
    qtbot.waitUntil(lambda: source.exhausted, timeout=10_000)
    dialog.stop()
    assert dialog.path is not None and sf.info(dialog.path).frames == 8000


def _virtual_microphone() -> bool:
    """A pulseaudio null sink and a virtual source on it, when pulseaudio is here and we are root."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None or os.geteuid() != 0:
        return False
    run = lambda *cmd: subprocess.run(cmd, capture_output=True, timeout=20, check=False)  # noqa: E731
    if run("pactl", "info").returncode != 0:
        run("pulseaudio", "-D", "--exit-idle-time=-1", "--system=false")
        if run("pactl", "info").returncode != 0:
            return False
    if b"vmic" not in run("pactl", "list", "short", "sources").stdout:
        run("pactl", "load-module", "module-null-sink", "sink_name=virt")
        run("pactl", "load-module", "module-virtual-source", "source_name=vmic", "master=virt.monitor")
    return b"vmic" in run("pactl", "list", "short", "sources").stdout


@pytest.mark.slow
def test_real_qt_microphone_on_a_virtual_source(qtbot, tmp_path):
    if not _virtual_microphone():
        pytest.skip("needs pulseaudio (and root to start it) for a virtual microphone")
    from app.qt.recorder import QtMicrophoneSource, microphones

    mics = microphones()
    if not mics:
        pytest.skip("Qt Multimedia sees no input device even with the virtual source")
    recorder = Recorder(tmp_path)
    source = QtMicrophoneSource(next((m.id for m in mics if "vmic" in m.id), mics[0].id))
    recorder.start(source)
    qtbot.waitUntil(lambda: recorder.writer.seconds > 0.5, timeout=10_000)
    path = recorder.stop()
    assert path is not None and sf.info(path).duration > 0.5
