"""Every export format, parsed back field by field."""

from __future__ import annotations

import csv
import json

import pytest
from review_fixtures import THRESHOLDS, fake_predictions

from app.exports import export_rows, read_audacity_labels, read_textgrid
from app.review import ReviewSession
from model.labels import LABELS


@pytest.fixture()
def reviewed():
    session = ReviewSession(fake_predictions(), THRESHOLDS)
    block, inter1, inter2 = session.rows()
    session.accept(block.key)  # every model event decided: the export counts the review
    session.reject(inter1.key)
    session.retype(inter2.key, "SoundRep")
    session.add("Interjection", 15.25, 16.0)
    return session


def _export(session, fmt, path):
    preds = session.preds
    return export_rows(fmt, path, session.counted_rows(), recording="fake.wav", duration=preds.duration,
                       model_id=preds.model_id, thresholds=session.thresholds, labels=LABELS,
                       summary=session.summary().to_dict(), counted_from=session.counted_from())


def _kept(session):
    return [r for r in session.rows() if r.kept]


def _csv_rows(path):
    with path.open() as f:
        header = f.readline()
        return header, list(csv.DictReader(f))


def test_csv_and_json(reviewed, tmp_path):
    header, rows = _csv_rows(_export(reviewed, "csv", tmp_path / "e.csv"))
    assert header == "# counted from: the clinician's review (reviewed: 3 of 3)\n"
    assert [(r["type"], float(r["start"]), float(r["end"]), r["status"]) for r in rows] == [
        (k.label, k.start, k.end, k.status) for k in _kept(reviewed)]
    assert rows[1]["model_type"] == "Interjection"
    doc = json.loads(_export(reviewed, "json", tmp_path / "e.json").read_text())
    assert doc["model_id"] == "f" * 64 and len(doc["events"]) == 3
    assert doc["counted_from"] == "the clinician's review (reviewed: 3 of 3)"
    assert doc["events"][2] == {"type": "Interjection", "start": 15.25, "end": 16.0, "duration": 0.75,
                                "confidence": 1.0, "status": "added", "model_type": None}
    assert doc["summary"]["interjection_count"] == 1


def test_audacity_labels_field_by_field(reviewed, tmp_path):
    text = _export(reviewed, "audacity", tmp_path / "labels.txt").read_text()
    labels = read_audacity_labels(text)
    assert [(iv.start, iv.end) for iv in labels] == [(k.start, k.end) for k in _kept(reviewed)]
    assert [iv.text for iv in labels] == ["Block (accepted)", "SoundRep (retyped)", "Interjection (added)"]
    assert text.splitlines()[0] == "2.000000\t6.000000\tBlock (accepted)"


def test_textgrid_field_by_field(reviewed, tmp_path):
    tiers = read_textgrid(_export(reviewed, "textgrid", tmp_path / "e.TextGrid").read_text())
    assert list(tiers) == list(LABELS)
    duration = reviewed.preds.duration
    for name, intervals in tiers.items():
        assert intervals[0].start == 0 and intervals[-1].end == pytest.approx(duration)
        for a, b in zip(intervals, intervals[1:], strict=False):
            assert a.end == pytest.approx(b.start)  # a tier covers the recording without gaps
        labelled = [(iv.start, iv.end, iv.text) for iv in intervals if iv.text]
        expected = [(k.start, k.end) for k in _kept(reviewed) if k.label == name]
        assert [(s, e) for s, e, _ in labelled] == expected
    assert [iv.text for iv in tiers["SoundRep"] if iv.text] == ["SoundRep (retyped)"]


def test_unknown_format_and_bad_files(tmp_path, reviewed):
    with pytest.raises(ValueError, match="use one of"):
        _export(reviewed, "xlsx", tmp_path / "x")
    with pytest.raises(ValueError, match="TextGrid"):
        read_textgrid("hello")
    with pytest.raises(ValueError, match="line 1"):
        read_audacity_labels("1.0 2.0 Block")


def test_a_partial_review_exports_the_model_events_and_says_so(tmp_path):
    session = ReviewSession(fake_predictions(), THRESHOLDS)
    _block, inter1, _inter2 = session.rows()
    session.reject(inter1.key)  # 1 of 3 decided: the export is the model's 3 events, not a mix
    header, rows = _csv_rows(_export(session, "csv", tmp_path / "p.csv"))
    assert "the model's events (reviewed: 1 of 3" in header
    assert [(r["type"], r["status"]) for r in rows] == [("Block", "unreviewed"), ("Interjection", "unreviewed"),
                                                         ("Interjection", "unreviewed")]
    doc = json.loads(_export(session, "json", tmp_path / "p.json").read_text())
    assert doc["summary"]["interjection_count"] == 2 and doc["counted_from"].startswith("the model's events")
