"""Every export format, parsed back field by field."""

from __future__ import annotations

import csv
import json

import pytest
from review_fixtures import THRESHOLDS, fake_predictions

from app.exports import COUNTED, export_rows, read_audacity_labels, read_textgrid
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
        header = f.readline() + f.readline()  # what is counted, then how far the review got
        return header, list(csv.DictReader(f))


def test_csv_and_json(reviewed, tmp_path):
    header, rows = _csv_rows(_export(reviewed, "csv", tmp_path / "e.csv"))
    assert header == f"# counted: {COUNTED}\n# counted from: the clinician's review (reviewed 3 of 3)\n"
    assert [(r["type"], float(r["start"]), float(r["end"]), r["decision"]) for r in rows] == [
        (k.label, k.start, k.end, k.status) for k in _kept(reviewed)]
    assert rows[1]["model_type"] == "Interjection"
    doc = json.loads(_export(reviewed, "json", tmp_path / "e.json").read_text())
    assert doc["model_id"] == "f" * 64 and len(doc["events"]) == 3
    assert doc["counted_from"] == "the clinician's review (reviewed 3 of 3)" and doc["counted"] == COUNTED
    assert doc["events"][2] == {"type": "Interjection", "types": ["Interjection"], "start": 15.25, "end": 16.0,
                                "duration": 0.75, "confidence": 1.0, "decision": "added", "model_type": None}
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


def test_a_partial_review_exports_each_decision_and_says_so(tmp_path):
    """Mid-review (issue 23): the rejected event is left out, the retyped, adjusted and added ones are in with
    their decision, the undecided one as the model said; the header says how far the review got."""
    session = ReviewSession(fake_predictions(), THRESHOLDS)
    block, inter1, inter2 = session.rows()
    session.reject(inter1.key)
    session.adjust(block.key, 2.5, 6.0)
    session.add("Prolongation", 18.0, 19.0)
    header, rows = _csv_rows(_export(session, "csv", tmp_path / "p.csv"))
    assert header.endswith("# counted from: the clinician's decisions where made, the model's events elsewhere "
                           "(reviewed 2 of 3)\n")
    assert [(r["type"], r["start"], r["decision"]) for r in rows] == [
        ("Block", "2.500", "adjusted"), ("Interjection", "12.000", "unreviewed"), ("Prolongation", "18.000", "added")]
    session.retype(inter2.key, "SoundRep")
    doc = json.loads(_export(session, "json", tmp_path / "p.json").read_text())
    assert [(e["type"], e["decision"]) for e in doc["events"]] == [("Block", "adjusted"), ("SoundRep", "retyped"),
                                                                   ("Prolongation", "added")]
    assert doc["summary"]["interjection_count"] == 0 and doc["summary"]["sld_count"] == 3
    assert doc["counted_from"] == "the clinician's review (reviewed 3 of 3)"


def test_not_the_client_is_left_out_of_exports(tmp_path):
    session = ReviewSession(fake_predictions(), THRESHOLDS)
    session.set_excluded([(5.5, 10.0)])  # the first Interjection (6-9 s) is the interviewer's
    header, rows = _csv_rows(_export(session, "csv", tmp_path / "x.csv"))
    assert [(r["type"], r["start"]) for r in rows] == [("Block", "2.000"), ("Interjection", "12.000")]
    assert "1 not the client, left out" in header
