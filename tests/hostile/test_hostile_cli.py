"""Issue 12, items 1, 3, 6, 7, 8 and 12 through the real command line (`app.cli.main`, in this process).

Each test makes its own bad inputs. The CLI's promise: every path gets a row, finished results are
never lost or shrunk, every failure is one clear line, exit 2 means "could not run", 1 "some failed".
"""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import run_cli, tone_speechlike, wav_bytes, write_wav

from model.audio.decode import SAMPLE_RATE


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _error_lines(err: str) -> list[str]:
    lines = [line for line in err.splitlines() if line.strip()]
    assert not any(line.startswith("Traceback") for line in lines), err
    return [line for line in lines if line.startswith("stutterscope: error:")]


@pytest.fixture()
def clips(tmp_path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        write_wav(folder / f"clip{i}.wav", tone_speechlike(3.0 + i, seed=i))
    return folder


@pytest.fixture()
def model_args(frame_bundle_path) -> list:
    return ["--model", frame_bundle_path, "--precision", "fp32"]


# ---- item 1: no output path may be an input ------------------------------------------------------------
def test_predict_out_onto_its_own_input_is_refused_and_the_recording_kept(clips, model_args, capsys):
    clip = clips / "clip0.wav"
    before = clip.read_bytes()
    assert run_cli("predict", clip, "--out", clip, *model_args) == 2
    assert clip.read_bytes() == before
    (line,) = _error_lines(capsys.readouterr().err)
    assert "must end in .csv" in line or "is one of the inputs" in line


def test_predict_out_must_be_a_csv_and_never_an_input_even_as_a_csv(clips, model_args, capsys, tmp_path):
    assert run_cli("predict", clips / "clip0.wav", "--out", tmp_path / "results.txt", *model_args) == 2
    assert "must end in .csv" in _error_lines(capsys.readouterr().err)[0]
    table = tmp_path / "given.csv"
    table.write_text("keep me")
    assert run_cli("predict", table, "--out", table, *model_args) == 2
    assert table.read_text() == "keep me" and "is one of the inputs" in _error_lines(capsys.readouterr().err)[0]


def test_assess_outputs_may_not_be_inputs(clips, model_args, capsys, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.csv").write_text("a table the user made")
    assert run_cli("assess", out / "summary.csv", "--out", out, *model_args) == 2
    assert (out / "summary.csv").read_text() == "a table the user made"
    assert "is one of the inputs" in _error_lines(capsys.readouterr().err)[0]


# ---- item 3: damaged resume entries; outputs never shrink; fsync ---------------------------------------
def test_damaged_resume_entries_are_redone_and_said(clips, model_args, capsys, tmp_path):
    out = tmp_path / "out"
    assert run_cli("assess", clips, "--out", out, *model_args) == 0
    entries = sorted((out / ".done").glob("*.json"))
    assert len(entries) == 3
    entries[0].write_bytes(b"")  # what a power cut can leave
    entries[1].write_text(entries[1].read_text()[:40])  # cut short
    capsys.readouterr()
    assert run_cli("assess", clips, "--out", out, *model_args) == 0
    err = capsys.readouterr().err
    rows = _csv(out / "summary.csv")
    assert len(rows) == 3 and {r["status"] for r in rows} == {"ok", "cached"}
    redone = [r for r in rows if "resume entry" in r["warning"]]
    assert len(redone) == 2 and all("was analysed again" in r["warning"] for r in redone)
    assert err.count("was damaged") == 2
    assert all(json.loads(e.read_text())["result"] for e in entries)  # rewritten whole


def test_finished_outputs_never_hold_fewer_rows(clips, frame_bundle_path, tmp_path):
    from model.encoder.bundle import load_bundle
    from model.pipeline.assess import assess_paths
    from model.pipeline.inference import InferenceOptions, Predictor

    predictor = Predictor(load_bundle(frame_bundle_path), options=InferenceOptions(precision="fp32"))
    out = tmp_path / "out"
    assess_paths([clips], out, predictor=predictor)
    (sorted((out / ".done").glob("*.json"))[2]).write_text("{")
    seen = []
    assess_paths([clips], out, predictor=predictor,
                 progress=lambda *a: seen.append(len(_csv(out / "summary.csv"))))
    assert seen == [3, 3, 3]
    # And a second run on other recordings keeps the first run's rows (item 7: results accumulate).
    other = tmp_path / "other"
    other.mkdir()
    write_wav(other / "later.wav", tone_speechlike(3.0, seed=9))
    assess_paths([other], out, predictor=predictor)
    assert sorted(Path(r["path"]).name for r in _csv(out / "summary.csv")) == ["clip0.wav", "clip1.wav",
                                                                              "clip2.wav", "later.wav"]
    assert len(json.loads((out / "results.json").read_text())) == 4


def test_a_damaged_results_json_is_refused_not_overwritten(clips, model_args, capsys, tmp_path):
    out = tmp_path / "out"
    assert run_cli("assess", clips, "--out", out, *model_args) == 0
    (out / "results.json").write_text('[{"path": "x", "sta')
    assert run_cli("assess", clips, "--out", out, *model_args) == 2
    (line,) = _error_lines(capsys.readouterr().err)
    assert "results.json is damaged" in line and "not overwritten" in line
    assert (out / "results.json").read_text() == '[{"path": "x", "sta'


def test_atomic_writes_fsync_the_file_and_its_folder(tmp_path, monkeypatch):
    from model.fileio import atomic_write_text

    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(stat.S_ISDIR(os.fstat(fd).st_mode)), real(fd)))
    atomic_write_text(tmp_path / "a.txt", "x")
    assert synced == [False, True]  # the file's data, then the folder's entry for the rename


# ---- item 6: every path given or found gets a row -----------------------------------------------------
def test_odd_paths_each_get_a_row_and_the_batch_goes_on(clips, model_args, capsys, tmp_path, monkeypatch):
    folder = clips
    os.symlink(folder / "missing.wav", folder / "dangling.wav")
    os.symlink("looping.wav", folder / "looping.wav")
    (folder / "locked").mkdir()
    write_wav(folder / "locked" / "inside.wav", tone_speechlike(3.0))
    os.symlink(folder, folder / "back-up")  # a link to an ancestor: walked once
    bad_name = os.fsencode(folder) + b"/caf\xe9-non-utf8.wav"
    with open(bad_name, "wb") as f:
        f.write((folder / "clip0.wav").read_bytes()[:-2] + b"\x01\x00")  # its own file, not a duplicate
    loop = tmp_path / "cli-loop"
    os.symlink(loop, loop)

    real_scandir = os.scandir

    def scandir(path="."):
        if Path(os.fsdecode(path)).name == "locked":
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)  # as root, chmod 000 would not stop us: the fault is injected
    out = tmp_path / "out"
    assert run_cli("assess", folder, loop, tmp_path / "never-existed.wav", "--out", out, *model_args) == 1
    rows = {Path(r["path"]).name: r for r in _csv(out / "summary.csv")}
    assert rows["clip0.wav"]["status"] == rows["clip1.wav"]["status"] == "ok"
    assert rows["caf\\xe9-non-utf8.wav"]["status"] == "ok"
    assert "broken link" in rows["dangling.wav"]["error"]
    assert "loops back" in rows["looping.wav"]["error"] and "loops back" in rows["cli-loop"]["error"]
    assert "cannot read this folder (permission denied)" in rows["locked"]["error"]
    assert "no such file" in rows["never-existed.wav"]["error"]
    assert len(rows) == 9
    assert not any(Path(r["path"]).parent.name == "back-up" for r in _csv(out / "summary.csv"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_real_unreadable_folder_gets_a_row(clips, model_args, tmp_path):
    locked = clips / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        assert run_cli("assess", clips, "--out", tmp_path / "out", *model_args) == 1
    finally:
        locked.chmod(0o700)
    rows = {Path(r["path"]).name: r for r in _csv(tmp_path / "out" / "summary.csv")}
    assert "permission denied" in rows["locked"]["error"]


# ---- item 7: one writer per folder ----------------------------------------------------------------------
def test_a_second_run_into_a_busy_folder_refuses_clearly(clips, model_args, capsys, tmp_path):
    from model.pipeline.run_lock import folder_lock

    out = tmp_path / "out"
    with folder_lock(out):  # a first run holds the folder
        assert run_cli("assess", clips, "--out", out, *model_args) == 2
    (line,) = _error_lines(capsys.readouterr().err)
    assert "another assess run is writing into this folder" in line and f"pid {os.getpid()}" in line
    assert run_cli("assess", clips, "--out", out, *model_args) == 0  # released: the next run works


# ---- item 8: predict on clips over 30 s; truncated files ------------------------------------------------
def test_predict_on_a_long_clip_warns_and_says_so_in_a_column(model_args, capsys, tmp_path):
    long_clip = write_wav(tmp_path / "long.wav", tone_speechlike(45.0))
    out = tmp_path / "p.csv"
    assert run_cli("predict", long_clip, "--out", out, *model_args) == 0
    (row,) = _csv(out)
    assert "the clip is 45.0 s; only its first 30 s were used" in row["warning"]
    assert "warning:" in capsys.readouterr().err


def test_assess_says_a_wav_is_truncated_and_uses_its_real_length(model_args, tmp_path):
    cut = tmp_path / "cut.wav"
    pcm = (tone_speechlike(3.03) * 32767).astype("<i2").tobytes()
    cut.write_bytes(wav_bytes(data=pcm, declared_frames=int(10.1 * SAMPLE_RATE)))
    assert run_cli("assess", cut, "--out", tmp_path / "out", *model_args) == 0
    (row,) = _csv(tmp_path / "out" / "summary.csv")
    assert row["status"] == "ok-truncated" and float(row["duration_s"]) == pytest.approx(3.03, abs=0.01)
    assert "header says 10.10 s but it holds 3.03 s" in row["warning"]


# ---- item 12: one clear line and exit 2; rows kept; formula-safe cells; owner-only files ----------------
def test_out_of_the_wrong_kind_is_one_line_and_exit_2(clips, model_args, capsys, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert run_cli("predict", clips, "--out", tmp_path, *model_args) == 2  # a folder
    assert "is a folder" in _error_lines(capsys.readouterr().err)[0]
    assert run_cli("assess", clips, "--out", a_file, *model_args) == 2  # a file
    assert "is a file" in _error_lines(capsys.readouterr().err)[0]
    assert run_cli("predict", clips, "--out", a_file / "p.csv", *model_args) == 2  # below a file
    assert "is a file, not a folder" in _error_lines(capsys.readouterr().err)[0]


def test_predict_keeps_its_rows_on_stdout_when_out_fails_mid_write(clips, model_args, capsys, tmp_path,
                                                                   monkeypatch):
    import errno

    import model.fileio as fileio

    def full(*a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio, "fsync_path", full)  # the disk fills after the check, while writing
    assert run_cli("predict", clips, "--out", tmp_path / "p.csv", *model_args) == 2
    captured = capsys.readouterr()
    (line,) = _error_lines(captured.err)
    assert "no space left" in line and "written to standard output instead" in line
    assert len(list(csv.DictReader(captured.out.splitlines()))) == 3
    assert not (tmp_path / "p.csv").exists() and not list(tmp_path.glob(".p.csv*"))


def test_file_names_that_look_like_formulas_are_defused(model_args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = ["=HYPERLINK(1).wav", "+1.wav", "-2.wav", "@SUM.wav"]
    for name in names:
        write_wav(tmp_path / name, tone_speechlike(3.0))
    Path("=broken.wav").write_text("not audio")
    assert run_cli("assess", "--out", "out", *model_args, "--", *names, "=broken.wav") == 1
    assert run_cli("predict", "--out", "p.csv", *model_args, "--", *names) == 0
    for table in ("out/summary.csv", "out/events.csv", "p.csv"):
        for row in _csv(tmp_path / table):
            for value in row.values():
                assert not (value or "").startswith(("=", "+", "-", "@")), (table, row)
    summary = {r["path"]: r for r in _csv(tmp_path / "out" / "summary.csv")}
    assert "'=HYPERLINK(1).wav" in summary and summary["'=broken.wav"]["error"].startswith("'=broken.wav")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_everything_that_can_name_a_patient_is_owner_only(clips, model_args, tmp_path):
    old = os.umask(0o022)
    try:
        assert run_cli("assess", clips, "--out", tmp_path / "out", *model_args) == 0
        assert run_cli("predict", clips, "--out", tmp_path / "p.csv", *model_args) == 0
        from app.exports import export_rows

        export_rows("csv", tmp_path / "events.csv", [], recording="x", duration=1.0, model_id="m",
                    thresholds={}, labels=[])
        from model.manifest import write_manifest

        write_manifest([], tmp_path / "corrections.jsonl", private=True)
    finally:
        os.umask(old)
    assert (tmp_path / "out" / ".done").stat().st_mode & 0o777 == 0o700
    written = [*(tmp_path / "out").glob("[!.]*.*"), *(tmp_path / "out" / ".done").glob("*.json"),
               tmp_path / "p.csv", tmp_path / "events.csv", tmp_path / "corrections.jsonl"]
    assert len(written) >= 8
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {p.name: "0o600" for p in written}


def test_the_corrections_export_is_owner_only(tmp_path):
    import soundfile as sf

    from app.records.corrections import export_corrections
    from app.records.db import open_database
    from app.records.patients import add_patient
    from app.records.sessions import SessionDraft, add_session

    rec = tmp_path / "session.wav"
    sf.write(str(rec), tone_speechlike(20.0), SAMPLE_RATE)
    events = ({"label": "Block", "start": 2.0, "end": 4.0, "confidence": 0.9},)
    reviewed = ({"label": "Block", "start": 2.0, "end": 4.0, "confidence": 0.9, "status": "accepted", "origin": 0},)
    with open_database(tmp_path / "r.sqlite3") as db:
        p = add_patient(db, code="P-1")
        add_session(db, SessionDraft(patient_id=p.id, date="2024-03-15", task="reading", recording=str(rec),
                                     duration=20.0, model_id="m" * 64, model_events=events, reviewed_events=reviewed))
        old = os.umask(0o022)
        try:
            export_corrections(db, tmp_path / "c.jsonl")
        finally:
            os.umask(old)
    assert (tmp_path / "c.jsonl").stat().st_mode & 0o777 == 0o600


def test_the_batch_never_opens_a_socket_nor_unpickles(clips, model_args, no_network, no_pickle, tmp_path):
    assert run_cli("assess", clips, "--out", tmp_path / "out", *model_args) == 0
    assert run_cli("predict", clips, "--out", tmp_path / "p.csv", *model_args) == 0


def test_silence_in_a_batch_is_flagged_not_scored(model_args, tmp_path):
    write_wav(tmp_path / "silence.wav", np.zeros(5 * SAMPLE_RATE, np.float32))
    assert run_cli("assess", tmp_path / "silence.wav", "--out", tmp_path / "out", *model_args) == 0
    (row,) = _csv(tmp_path / "out" / "summary.csv")
    assert row["status"] == "too-little-speech" and row["sld_count"] == "" and "not scored" in row["warning"]
    assert _csv(tmp_path / "out" / "events.csv") == []
