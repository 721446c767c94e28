"""Reviewed sessions -> training manifest: window labels, what is left out, and a tiny training run on it."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from app.records.corrections import (
    CorrectionOptions,
    collect_corrections,
    export_corrections,
    session_records,
)
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session
from model.audio.decode import SAMPLE_RATE
from model.manifest import combine_manifests, load_record_audio, read_manifest

MODEL_EVENTS = (  # what the model found, as the event dicts stored before moments were the unit
    {"label": "Block", "start": 2.0, "end": 4.0, "confidence": 0.9},
    {"label": "Interjection", "start": 8.0, "end": 9.0, "confidence": 0.7},
    {"label": "SoundRep", "start": 14.0, "end": 15.0, "confidence": 0.6},
)
REVIEWED = (  # the clinician: Block accepted, Interjection rejected, SoundRep left undecided, WordRep added
    {"label": "Block", "start": 2.0, "end": 4.0, "confidence": 0.9, "status": "accepted", "origin": 0},
    {"label": "Interjection", "start": 8.0, "end": 9.0, "confidence": 0.7, "status": "rejected", "origin": 1},
    {"label": "WordRep", "start": 5.2, "end": 5.5, "confidence": 1.0, "status": "added", "origin": None},
)


@pytest.fixture()
def recording(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(20 * SAMPLE_RATE) / SAMPLE_RATE
    audio = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.02 * rng.standard_normal(t.size)
    path = tmp_path / "session.wav"
    sf.write(str(path), audio.astype(np.float32), SAMPLE_RATE)
    return path


def store(db, code, recording, *, reviewed=REVIEWED):
    patient = add_patient(db, code=code)
    return add_session(db, SessionDraft(patient_id=patient.id, date="2024-03-15", task="reading",
                                        recording=str(recording), duration=20.0, model_id="m" * 64,
                                        model_events=MODEL_EVENTS, reviewed_events=reviewed))


def by_offset(records):
    return {r["offset"]: r for r in records}


def test_windows_are_labelled_from_kept_events(tmp_path, recording):
    with open_database(tmp_path / "r.sqlite3") as db:
        session = store(db, "P-1", recording)
        records, skipped = session_records(session, "P-1", options=CorrectionOptions())
    windows = by_offset(records)
    assert len(records) + skipped == 12  # starts 0, 1.5, ..., 16.5: the last window ends at 19.5 s
    assert windows[1.5]["labels"]["Block"] == 1 and windows[0.0]["labels"]["Block"] == 1  # overlap 1.0 s
    assert windows[4.5]["labels"] == {"Prolongation": 0, "Block": 0, "SoundRep": 0, "WordRep": 1,
                                      "Interjection": 0}  # a short added event inside the window counts
    assert windows[7.5]["labels"]["Interjection"] == 0  # rejected: a negative, the correction itself
    assert 13.5 not in windows and 12.0 not in windows and skipped == 2  # undecided SoundRep: left out
    r = windows[1.5]
    assert (r["corpus"], r["source"], r["split"], r["speaker"], r["episode"]) == (
        "clinic", "clinician", "train", "clinic/P-1", "clinic/P-1")
    assert r["votes"]["Block"] == 3 and r["soft"]["Block"] == 1.0 and r["audio"] == session.recording
    trusted, none_skipped = session_records(session, "P-1", options=CorrectionOptions(unreviewed="trust"))
    assert none_skipped == 0 and by_offset(trusted)[13.5]["labels"]["SoundRep"] == 1


def test_unreviewed_sessions_are_left_out_and_manifest_validates(tmp_path, recording):
    with open_database(tmp_path / "r.sqlite3") as db:
        used = store(db, "P-1", recording)
        unreviewed = store(db, "P-2", recording, reviewed=None)
        out = tmp_path / "clinic.jsonl"
        result = export_corrections(db, out)
        assert result.sessions_used == [used.id]
        assert result.sessions_skipped == [(unreviewed.id, "not reviewed by a clinician")]
    records = read_manifest(out)  # data_prep's own validation
    assert len(records) == len(result.records) > 0
    clip = load_record_audio(records[0], out.parent)
    assert clip.shape == (3 * SAMPLE_RATE,)


def test_nothing_reviewed_says_what_to_do(tmp_path, recording):
    with open_database(tmp_path / "r.sqlite3") as db:
        store(db, "P-1", recording, reviewed=None)
        with pytest.raises(ValueError, match="review sessions"):
            export_corrections(db, tmp_path / "x.jsonl")
        assert collect_corrections(db).records == []
    with pytest.raises(ValueError, match="unreviewed"):
        CorrectionOptions(unreviewed="maybe")


@pytest.mark.slow
def test_corrections_manifest_trains(tmp_path, recording, tiny_model, tiny_config):
    """The tiny end-to-end run: clinic records (train from one patient, dev from another) through `train`."""
    from model.training.loop import train
    from model.training.model_init import save_encoder_file
    from model.training.options import TrainOptions

    with open_database(tmp_path / "r.sqlite3") as db:
        store(db, "P-1", recording)
        store(db, "P-2", recording)
        export_corrections(db, tmp_path / "train.jsonl", patient_ids=[1])
        export_corrections(db, tmp_path / "dev.jsonl", patient_ids=[2], options=CorrectionOptions(split="dev"))
    combined = combine_manifests([tmp_path / "train.jsonl", tmp_path / "dev.jsonl"], tmp_path / "all.jsonl")
    assert {r["split"] for r in combined} == {"train", "dev"}
    encoder = tmp_path / "tiny-encoder.safetensors"
    save_encoder_file(tiny_config.dims, tiny_model.encoder.state_dict(), encoder)
    result = train(tmp_path / "all.jsonl", tmp_path / "run",
                   TrainOptions(weights=str(encoder), epochs=1, batch_size=4, device="cpu", precision="fp32",
                                head_hidden=16, cache_dir=str(tmp_path / "cache"), progress=False))
    assert result.epochs_run == 1 and (tmp_path / "run").is_dir()
