"""The batch page: a folder with a bad file in the middle, per-file errors, cancel, resume and CSV export."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt

from app.qt.views.batch_page import LEGACY_OUT_FOLDER, BatchPage
from model.audio.decode import SAMPLE_RATE


class ScriptedDialogs:
    def __init__(self):
        self.messages: list[tuple[str, str]] = []

    def message(self, level, text):
        self.messages.append((level, text))

    def save_path(self, *args):
        return None


@pytest.fixture()
def folder(tmp_path, speech_wav):
    folder = tmp_path / "clinic day"
    folder.mkdir()
    shutil.copy(speech_wav, folder / "a.wav")
    (folder / "b.wav").write_bytes(b"this is not audio at all" * 100)  # the bad file, in the middle
    shutil.copy(speech_wav, folder / "c.wav")
    return folder


@pytest.fixture()
def page(qtbot, tiny_bundle):
    from model.pipeline.inference import InferenceOptions, Predictor

    dialogs = ScriptedDialogs()
    page = BatchPage(lambda: Predictor(tiny_bundle, options=InferenceOptions(device="cpu")), dialogs=dialogs)
    qtbot.addWidget(page)
    return page


def run(qtbot, page, folder):
    job = page.start(folder)
    qtbot.waitUntil(lambda: not job.is_running() and page.start_button.isEnabled(), timeout=60_000)


def test_bad_file_in_the_middle_is_an_error_row(qtbot, page, folder, tmp_path):
    run(qtbot, page, folder)
    assert [r["status"] for r in page.results] == ["ok", "error", "ok"]
    assert page.table.rowCount() == 3
    assert page.table.item(1, 0).text() == "b.wav" and "b.wav" in page.table.item(1, 6).text()
    assert page.dialogs.messages == []
    out = tmp_path / "export.csv"
    page.export_csv(out)
    rows = list(csv.DictReader(out.open()))
    assert [r["status"] for r in rows] == ["ok", "error", "ok"] and rows[1]["error"]

    run(qtbot, page, folder)  # again: resumed from the first run
    assert [r["status"] for r in page.results] == ["cached", "error", "cached"]
    # Beside the recordings, not into them (issue 23): the recordings folder holds what the clinician put there.
    assert (tmp_path / "clinic day-results" / "summary.csv").is_file()
    assert sorted(p.name for p in folder.iterdir()) == ["a.wav", "b.wav", "c.wav"]


def test_cancel_keeps_finished_recordings(qtbot, page, folder):
    page._relay.file_done.connect(lambda done, total, path: page.cancel() if done == 1 else None)
    job = page.start(folder)
    qtbot.waitUntil(lambda: not job.is_running() and page.start_button.isEnabled(), timeout=60_000)
    assert "Cancelled" in page.status.text()
    assert 1 <= len(page.results) < 3


def test_not_a_folder_says_so(page, tmp_path):
    assert page.start(tmp_path / "missing") is None
    assert "not a folder" in page.dialogs.messages[0][1]


def test_too_little_speech_is_a_row_and_the_page_stays_usable(qtbot, page, folder, tmp_path):
    # Issue 23: a flagged recording's summary has its duration only; the page raised KeyError, left a blank
    # row and kept Assess and Export disabled until a restart.
    sf.write(folder / "b.wav", np.zeros(4 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    for expected in (["ok", "too-little-speech", "ok"], ["cached", "cached", "cached"]):
        run(qtbot, page, folder)
        assert [r["status"] for r in page.results] == expected
        assert page.table.rowCount() == 3
        assert [page.table.item(1, c).text() for c in range(4)] == ["b.wav", expected[1], "0.1", ""]
        assert page.start_button.isEnabled() and page.export_button.isEnabled()
    page.export_csv(tmp_path / "export.csv")
    rows = list(csv.DictReader((tmp_path / "export.csv").open()))
    assert "too little speech" in rows[1]["warning"]


def test_results_go_where_the_user_chooses(qtbot, page, folder, tmp_path):
    chosen = tmp_path / "my results"
    page.folder_edit.setText(str(folder))
    page.results_edit.setText(str(chosen))
    qtbot.mouseClick(page.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.job is not None and not page.job.is_running() and page.start_button.isEnabled(),
                    timeout=60_000)
    assert [r["status"] for r in page.results] == ["ok", "error", "ok"]
    assert (chosen / "summary.csv").is_file() and not (tmp_path / "clinic day-results").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["a.wav", "b.wav", "c.wav"]


def test_a_results_folder_chosen_inside_the_recordings_is_not_read_as_input(qtbot, page, folder):
    page.results_edit.setText(str(folder / "results"))
    run(qtbot, page, folder)
    run(qtbot, page, folder)
    assert [r["status"] for r in page.results] == ["cached", "error", "cached"]


def test_a_folder_assessed_before_keeps_resuming_from_its_old_results(qtbot, page, folder, tmp_path):
    run(qtbot, page, folder)
    shutil.move(tmp_path / "clinic day-results", folder / LEGACY_OUT_FOLDER)
    run(qtbot, page, folder)
    assert [r["status"] for r in page.results] == ["cached", "error", "cached"]
    assert page.out_dir == folder / LEGACY_OUT_FOLDER


def test_a_folder_without_audio_gets_a_row(qtbot, page, tmp_path):
    empty = tmp_path / "nothing here"
    empty.mkdir()
    (empty / "notes.txt").write_text("no recordings")
    run(qtbot, page, empty)
    assert [r["status"] for r in page.results] == ["error"]
    assert "no audio files" in page.table.item(0, 6).text()
    assert page.start_button.isEnabled()
