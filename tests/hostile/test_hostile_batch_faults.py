"""Issue 23: faults injected into real batch runs: the run lock (filelock) held or left by a killed process,
and the recordings or the outputs changed under a running batch by another program. After each: every
recording has a row, nothing finished is lost, and the next run completes."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from hostile_helpers import PY, python_env, tone_speechlike, write_wav

from model.encoder.bundle import load_bundle
from model.pipeline.assess import DONE_DIR, RESULTS_JSON, SUMMARY_CSV, assess_paths
from model.pipeline.inference import InferenceOptions, Predictor
from model.pipeline.run_lock import FolderBusyError, folder_lock


@pytest.fixture(scope="module")
def predictor(frame_bundle_path) -> Predictor:
    return Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(device="cpu", precision="fp32"))


@pytest.fixture()
def batch(tmp_path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    return [write_wav(folder / f"rec{i}.wav", tone_speechlike(2.0 + i, seed=i)) for i in range(3)]


def _holder(out: Path, ready: Path) -> subprocess.Popen:
    """Another process that takes the folder's lock, says so, and sleeps holding it."""
    script = textwrap.dedent(f"""
        import pathlib, time
        from model.pipeline.run_lock import folder_lock
        with folder_lock({str(out)!r}):
            pathlib.Path({str(ready)!r}).touch()
            time.sleep(120)
    """)
    child = subprocess.Popen([PY, "-c", script], env=python_env())
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the lock holder did not start"
        time.sleep(0.05)
    return child


def test_a_lock_held_by_another_process_is_a_clear_refusal_naming_it(tmp_path):
    out = tmp_path / "out"
    child = _holder(out, tmp_path / "ready")
    try:
        busy = rf"another assess run is writing into this folder \(pid {child.pid}"
        with pytest.raises(FolderBusyError, match=busy), folder_lock(out):
            pass
    finally:
        child.kill()
        child.wait()


def test_the_lock_of_a_process_killed_9_is_recovered_at_once(tmp_path, predictor, batch):
    out = tmp_path / "out"
    child = _holder(out, tmp_path / "ready")
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert (out / ".lock").exists()  # left behind, and harmless: the OS released the lock with the process
    report = assess_paths(batch, out, predictor=predictor)
    assert [r.status for r in report.results] == ["ok"] * 3


def _rows(out: Path) -> dict[str, dict]:
    with open(out / SUMMARY_CSV, newline="") as f:
        return {Path(r["path"]).name: r for r in csv.DictReader(f)}


def _after_first(action):
    """A progress callback that does `action` once, after the first recording is finished."""
    def progress(done, total, path):
        if done == 1:
            action()
    return progress


@pytest.mark.parametrize("change", ["deleted", "made-a-folder", "cut-to-its-header", "replaced-by-text"])
def test_a_recording_changed_under_a_running_batch_is_its_own_error_row(tmp_path, predictor, batch, change):
    victim = batch[1]

    def act():
        if change == "deleted":
            victim.unlink()
        elif change == "made-a-folder":
            victim.unlink()
            victim.mkdir()
        elif change == "cut-to-its-header":
            victim.write_bytes(victim.read_bytes()[:44])
        else:
            victim.write_text("not audio any more")

    report = assess_paths(batch, tmp_path / "out", predictor=predictor, progress=_after_first(act))
    statuses = [r.status for r in report.results]
    assert statuses[0] == statuses[2] == "ok" and statuses[1] == "error" and "rec1.wav" in report.results[1].error
    assert set(_rows(tmp_path / "out")) == {"rec0.wav", "rec1.wav", "rec2.wav"}


def test_results_json_deleted_under_a_running_batch_is_written_whole_again(tmp_path, predictor, batch):
    out = tmp_path / "out"
    assess_paths(batch, out, predictor=predictor, progress=_after_first(lambda: (out / RESULTS_JSON).unlink()))
    assert set(_rows(out)) == {"rec0.wav", "rec1.wav", "rec2.wav"}
    assert (out / RESULTS_JSON).is_file()


def test_a_summary_made_a_folder_under_a_running_batch_stops_it_and_loses_nothing(tmp_path, predictor, batch):
    out = tmp_path / "out"

    def block():
        (out / SUMMARY_CSV).unlink()
        (out / SUMMARY_CSV).mkdir()

    with pytest.raises(OSError):
        assess_paths(batch, out, predictor=predictor, progress=_after_first(block))
    assert len(list((out / DONE_DIR).glob("*.json"))) >= 1  # the finished recording's entry is kept
    shutil.rmtree(out / SUMMARY_CSV)
    report = assess_paths(batch, out, predictor=predictor)
    assert report.results[0].status == "cached" and {r.status for r in report.results[1:]} <= {"ok", "cached"}
    assert set(_rows(out)) == {"rec0.wav", "rec1.wav", "rec2.wav"}


def test_a_resume_entry_deleted_under_a_running_batch_costs_only_a_redo(tmp_path, predictor, batch):
    out = tmp_path / "out"

    def forget():
        for entry in (out / DONE_DIR).glob("*.json"):
            entry.unlink()

    assess_paths(batch, out, predictor=predictor, progress=_after_first(forget))
    report = assess_paths(batch, out, predictor=predictor)
    assert [r.status for r in report.results] == ["ok", "cached", "cached"]
    assert set(_rows(out)) == {"rec0.wav", "rec1.wav", "rec2.wav"}
