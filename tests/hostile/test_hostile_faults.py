"""Injected faults against real `assess` processes: kill -9 mid-batch and mid-save, a crash between two
renames, a full disk (a small tmpfs, where this machine lets root mount one), two runs at once, a damaged
model file. After each: nothing finished is lost, what is on disk is whole, the next run completes.

The child processes run the real CLI; a few lines before it slow each recording down (or kill the
process at a chosen write), so that the fault lands where the test says rather than by luck.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest
from hostile_helpers import (
    PY,
    mounted_tmpfs,
    python_env,
    rewrite_bundle,
    run_cli,
    tone_speechlike,
    write_wav,
)

N_RECORDINGS = 6


@pytest.fixture()
def batch(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(N_RECORDINGS):
        write_wav(folder / f"rec{i}.wav", tone_speechlike(4.0 + i, seed=i))
    return folder


def _child(argv: list, *, delay: float = 0.0, kill_on_replace: str | None = None,
           gate: Path | None = None) -> list[str]:
    """The command line of a child running the real CLI; delay: seconds added per recording;
    kill_on_replace: SIGKILL itself just before the rename onto this file name (the second rename of a save);
    gate: after its first recording, wait (at most 120 s) until this file exists."""
    script = textwrap.dedent(f"""
        import os, signal, sys, time
        import model.pipeline.inference as inference
        real_predict = inference.Predictor.predict_frames
        gate = {str(gate) if gate else None!r}
        def slow(self, *a, **kw):
            time.sleep({delay})
            result = real_predict(self, *a, **kw)
            deadline = time.monotonic() + 120
            while gate and not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.05)
            return result
        inference.Predictor.predict_frames = slow
        target = {kill_on_replace!r}
        if target:
            real_replace = os.replace
            def replace(src, dst, *a, **kw):
                if os.path.basename(os.fsdecode(dst)) == target and len(os.listdir(os.path.dirname(dst) + "/.done")) >= 2:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real_replace(src, dst, *a, **kw)
            os.replace = replace
        from app.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    return [PY, "-c", script, *map(str, argv)]


def _assess_args(batch: Path, out: Path, model: Path) -> list:
    return ["assess", batch, "--out", out, "--model", model, "--precision", "fp32"]


def _check_whole(out: Path) -> list[dict]:
    """What a reader finds in out at any moment: parseable, consistent files. Returns the summary rows."""
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    results = json.loads((out / "results.json").read_text())
    assert all(set(r) >= {"path", "status", "model_id"} for r in rows)
    assert {r["path"] for r in results} >= {r["path"] for r in rows} or len(results) >= len(rows) - 1
    for entry in (out / ".done").glob("*.json"):
        assert json.loads(entry.read_text())["result"]["path"]  # every resume entry whole
    return rows


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out waiting for the child"
        time.sleep(0.05)


def _done(out: Path) -> int:
    return len(list((out / ".done").glob("*.json"))) if (out / ".done").is_dir() else 0


@pytest.mark.slow
def test_kill_9_mid_batch_and_mid_save_loses_nothing(batch, frame_bundle_path, tmp_path):
    out = tmp_path / "out"
    finished = []
    for kill_after in (1, 3):
        proc = subprocess.Popen(_child(_assess_args(batch, out, frame_bundle_path), delay=0.4), env=python_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_for(lambda n=kill_after: _done(out) >= n)
        time.sleep(0.2 if kill_after == 1 else 0.41)  # mid-recording, then (about) mid-save
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stderr.close()
        rows = _check_whole(out)
        assert len(rows) >= len(finished)  # never fewer rows than before the kill
        finished = rows
    assert run_cli(*_assess_args(batch, out, frame_bundle_path)) == 0
    rows = _check_whole(out)
    assert sorted(Path(r["path"]).name for r in rows) == [f"rec{i}.wav" for i in range(N_RECORDINGS)]
    assert sum(r["status"] == "cached" for r in rows) >= 3  # what was done before the kills was kept
    assert not list(out.rglob("*.tmp"))  # the killed runs' temporaries were removed


@pytest.mark.slow
def test_a_crash_between_two_renames_is_healed_by_the_next_run(batch, frame_bundle_path, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(_child(_assess_args(batch, out, frame_bundle_path), kill_on_replace="events.csv"),
                          env=python_env(), capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert list(out.glob(".events.csv.*.tmp"))  # the crash left the second rename undone
    _check_whole(out)
    assert run_cli(*_assess_args(batch, out, frame_bundle_path)) == 0
    rows = _check_whole(out)
    results = json.loads((out / "results.json").read_text())
    with open(out / "events.csv", newline="") as f:
        events = list(csv.DictReader(f))
    assert len(rows) == len(results) == N_RECORDINGS
    assert len(events) == sum(len(r["events"]) for r in results)
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_two_runs_at_once_one_waits_its_turn_with_a_clear_message(batch, frame_bundle_path, tmp_path):
    out = tmp_path / "out"
    gate = tmp_path / "let-the-first-finish"
    first = subprocess.Popen(_child(_assess_args(batch, out, frame_bundle_path), gate=gate), env=python_env(),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = out / ".lock"
        _wait_for(lambda: lock.exists() and lock.read_text().startswith("pid"))  # the first run holds the folder
        second = subprocess.run(_child(_assess_args(batch, out, frame_bundle_path)), env=python_env(),
                                capture_output=True, text=True, timeout=120)
    finally:
        gate.touch()
    assert first.wait(timeout=120) == 0
    assert second.returncode == 2
    lines = [line for line in second.stderr.splitlines() if line.startswith("stutterscope: error:")]
    assert len(lines) == 1 and "another assess run is writing into this folder" in lines[0]
    assert "Traceback" not in second.stderr
    assert len(_check_whole(out)) == N_RECORDINGS


@pytest.fixture()
def small_disk(tmp_path):
    """A 2 MiB tmpfs (skipped where root may not mount one); yields (mount, filler file)."""
    yield from mounted_tmpfs(tmp_path / "disk", "2m")


def _fill(mount: Path, leave: int) -> Path:
    filler = mount / "filler"
    st = os.statvfs(mount)
    filler.write_bytes(b"\0" * max(0, st.f_bavail * st.f_frsize - leave))
    return filler


def test_a_full_disk_is_one_line_exit_2_and_loses_nothing(batch, frame_bundle_path, small_disk, capsys):
    out = small_disk / "out"
    filler = _fill(small_disk, leave=24 * 1024)  # room for a recording or two, not for six
    assert run_cli(*_assess_args(batch, out, frame_bundle_path)) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("stutterscope: error:")]
    assert len(lines) == 1 and "no space left on the disk holding" in lines[0] and "Traceback" not in err
    assert not list(out.rglob("*.tmp"))  # a failed write leaves no temporary behind
    before = len(_check_whole(out)) if (out / "summary.csv").exists() else 0
    filler.unlink()  # the user frees space and runs again
    assert run_cli(*_assess_args(batch, out, frame_bundle_path)) == 0
    rows = _check_whole(out)
    assert len(rows) == N_RECORDINGS >= before
    # Every recording finished before the disk filled is resumed, not redone (its resume entry may even
    # have been written when the summary no longer fitted).
    assert sum(r["status"] == "cached" for r in rows) >= before


def test_predict_on_a_full_disk_hands_its_rows_to_stdout(batch, frame_bundle_path, small_disk, capsys):
    _fill(small_disk, leave=0)
    assert run_cli("predict", batch, "--out", small_disk / "p.csv", "--model", frame_bundle_path,
                   "--precision", "fp32") == 2
    captured = capsys.readouterr()
    assert "no space left" in captured.err and "written to standard output instead" in captured.err
    assert len(list(csv.DictReader(captured.out.splitlines()))) == N_RECORDINGS


@pytest.mark.parametrize("damage", ["truncated", "nan", "huge-dims", "not-safetensors"])
def test_a_damaged_model_file_stops_the_batch_with_one_line_naming_it(batch, frame_bundle_path, tmp_path,
                                                                       capsys, damage):
    bad = tmp_path / f"{damage}.safetensors"
    if damage == "truncated":
        bad.write_bytes(frame_bundle_path.read_bytes()[:5000])
    elif damage == "nan":
        def nan_head(tensors):
            tensors["head.out.weight"].fill_(float("nan"))

        rewrite_bundle(frame_bundle_path, bad, tensor_edit=nan_head)
    elif damage == "huge-dims":
        rewrite_bundle(frame_bundle_path, bad, meta_edit=lambda m: m["config"]["dims"].update(n_audio_layer=32))
    else:
        bad.write_bytes(b"\x80\x04K\x01." * 100)  # a pickle: never loaded
    out = tmp_path / "out"
    assert run_cli("assess", batch, "--out", out, "--model", bad, "--precision", "fp32") == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("stutterscope: error:")]
    assert len(lines) == 1 and bad.name in lines[0] and "Traceback" not in err
    assert not (out / "summary.csv").exists()  # nothing was reported clean
