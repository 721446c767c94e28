"""The batch page: a folder with a bad file in the middle, per-file errors, cancel, resume and CSV export."""

from __future__ import annotations

import csv
import shutil

import pytest

from app.views.batch_page import OUT_FOLDER, BatchPage


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
    from model.inference import InferenceOptions, Predictor

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

    run(qtbot, page, folder)  # again: resumed from the first run, the output folder not read as input
    assert [r["status"] for r in page.results] == ["cached", "error", "cached"]
    assert (folder / OUT_FOLDER / "summary.csv").is_file()


def test_cancel_keeps_finished_recordings(qtbot, page, folder):
    page._relay.file_done.connect(lambda done, total, path: page.cancel() if done == 1 else None)
    job = page.start(folder)
    qtbot.waitUntil(lambda: not job.is_running() and page.start_button.isEnabled(), timeout=60_000)
    assert "Cancelled" in page.status.text()
    assert 1 <= len(page.results) < 3


def test_not_a_folder_says_so(page, tmp_path):
    assert page.start(tmp_path / "missing") is None
    assert "not a folder" in page.dialogs.messages[0][1]
