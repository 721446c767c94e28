"""PDF reports: rendered to images (not blank) and to text (the expected fields, the disclaimer, no identity
when de-identified)."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

import numpy as np
import pytest
from test_records import MODEL_EVENTS, REVIEWED  # tests/app is on sys.path (pytest prepend mode)

from app.qt.reports.course_report import write_course_report
from app.qt.reports.session_report import write_session_report
from app.records.db import open_database
from app.records.patients import add_patient
from app.records.sessions import SessionDraft, add_session, list_sessions, set_reviewed_events
from app.reports.options import ReportOptions
from app.reports.style import DISCLAIMER

pytestmark = pytest.mark.skipif(not shutil.which("pdftoppm"), reason="needs poppler-utils (pdftoppm, pdftotext)")

MODEL_ID = "0123456789abcdef" * 4
# A date to the day in the forms a report could print one: 2024-03-15, 15.03.2024, 3/15/24.
DAY_PRECISE = re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b")
CLINIC = "Riverside Speech Clinic"


@pytest.fixture()
def records(tmp_path, qapp):
    with open_database(tmp_path / "records.sqlite3") as db:
        patient = add_patient(db, code="P-014", name="Jane Doe", birth_date="2015-06-01")
        for i, date in enumerate(["2024-03-15", "2024-04-19", "2024-06-02"]):
            events = tuple(dict(e, start=e["start"] + 20 * k, end=e["end"] + 20 * k)
                           for k in range(3 - i) for e in MODEL_EVENTS)
            s = add_session(db, SessionDraft(
                patient_id=patient.id, date=date, task="reading", recording=str(tmp_path / "x.wav"), duration=90.0,
                model_id=MODEL_ID, model_settings={"thresholds": {"Block": 0.45}, "hop_seconds": 1.0},
                model_events=events, recording_mode="link", notes=f"Visit {i + 1}: Jane read aloud.",
                physical_concomitants="eye blinking", naturalness=6 - i), stored=True)
        set_reviewed_events(db, s.id, REVIEWED)
        yield patient, list_sessions(db, patient.id)


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def first_page_ink(path, tmp_path) -> float:
    """Share of non-white pixels on page 1, rendered at 30 dpi."""
    from PySide6.QtGui import QImage

    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    (png,) = tmp_path.glob("page*.png")
    image = QImage(str(png)).convertToFormat(QImage.Format.Format_Grayscale8)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return float((pixels[:, :image.width()] < 200).mean())


def flat(text: str) -> str:
    # NFKC: the PDF's font sets "fi" as one ligature glyph, which pdftotext gives back as U+FB01.
    return " ".join(unicodedata.normalize("NFKC", text).split())


def test_session_report_has_fields_and_picture(records, tmp_path):
    patient, sessions = records
    path = write_session_report(patient, sessions[-1], tmp_path / "session.pdf",
                                options=ReportOptions(clinic_name=CLINIC))
    text = flat(pdf_text(path))
    for expected in (CLINIC, "P-014", "Jane Doe", "2024-06-02", "reading", DISCLAIMER, "not an SSI-4 score",
                     "Visit 3: Jane read aloud.", "eye blinking", "adjusted", "rejected, not counted"):
        assert expected in text, expected
    assert MODEL_ID in text.replace(" ", "")  # the full id, maybe wrapped over two lines
    assert first_page_ink(path, tmp_path) > 0.02
    assert not list(tmp_path.glob(".session.pdf.*"))  # the temporary file was renamed, not left behind


def test_reports_carry_clinician_age_ratings_name_and_page_numbers(records, tmp_path):
    patient, sessions = records
    with open_database(tmp_path / "records.sqlite3") as db:
        from app.records.sessions import update_session

        session = update_session(db, sessions[0].id, severity=3,
                                 ssi4={"ssi4_sounds": 1, "ssi4_face": 2, "ssi4_head": 0, "ssi4_limbs": 1})
    options = ReportOptions(clinic_name=CLINIC, clinician="Dr Ada Lovelace")
    text = flat(pdf_text(write_session_report(patient, session, tmp_path / "s.pdf", options=options)))
    squeezed = text.replace(" ", "")  # pdftotext drops some narrow spaces ("8y9m")
    for expected in ("Clinician Dr Ada Lovelace", "Age at session 8 y 9 m", "Recording x.wav",
                     "Severity rating 3", "4 of 20", "SSI-4: Facial grimaces 2", "page 1 of 2", "page 2 of 2",
                     "StutterScope session report - Dr Ada Lovelace"):
        assert expected.replace(" ", "") in squeezed, expected
    text = flat(pdf_text(write_course_report(patient, sessions, tmp_path / "c.pdf", options=options)))
    assert "page 1 of" in text and "Dr Ada Lovelace" in text and "not like for like" not in text


def test_course_report_has_every_session(records, tmp_path):
    patient, sessions = records
    path = write_course_report(patient, sessions, tmp_path / "course.pdf", options=ReportOptions(clinic_name=CLINIC))
    text = flat(pdf_text(path))
    for expected in ("Course report: P-014", "2024-03-15", "2024-04-19", "2024-06-02", DISCLAIMER,
                     "not an SSI-4 score", MODEL_ID[:12], "Visit 2: Jane read aloud."):
        assert expected in text, expected
    assert first_page_ink(path, tmp_path) > 0.02


def test_deidentified_reports_hold_no_identity(records, tmp_path):
    patient, sessions = records
    options = ReportOptions(clinic_name=CLINIC, deidentified=True)
    texts = [flat(pdf_text(write_session_report(patient, sessions[0], tmp_path / "s.pdf", options=options))),
             flat(pdf_text(write_course_report(patient, sessions, tmp_path / "p.pdf", options=options)))]
    for text in texts:
        assert "anon-" in text and DISCLAIMER in text
        for secret in ("P-014", "Jane", "2015", "2024-03-15", "eye blinking"):
            assert secret not in text, secret
        assert "2024-03" in text


def test_deidentified_pdfs_print_no_date_finer_than_the_month(records, tmp_path, monkeypatch):
    """Issue 23: the course chart's labels had the sessions' days, and every report the day it was made."""
    from app.qt.reports import course_report

    charted = []  # the chart is a picture: what its date labels are drawn from
    draw = course_report.course_chart_image
    monkeypatch.setattr(course_report, "course_chart_image",
                        lambda measures: charted.extend(m.date for m in measures) or draw(measures))
    patient, sessions = records
    options = ReportOptions(deidentified=True)
    paths = [write_session_report(patient, sessions[-1], tmp_path / "s.pdf", options=options),
             write_course_report(patient, sessions, tmp_path / "c.pdf", options=options)]
    for path in paths:
        text = pdf_text(path)
        day = DAY_PRECISE.search(text)
        assert day is None, f"a day-precise date in a de-identified report: {day.group()!r}"
        assert "2024-06" in text
        # The file's own metadata too (Qt writes the second it was made), and the PDF still reads cleanly.
        raw = path.read_bytes()
        assert not re.search(rb"D:\d{8}|\d{4}-\d{2}-\d{2}T", raw), re.search(rb"D:\d{8}|\d{4}-\d{2}-\d{2}T", raw)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        assert info.stderr == "" and "CreationDate:" in info.stdout
    assert charted == ["2024-03", "2024-04", "2024-06"]
    plain = pdf_text(write_course_report(patient, sessions, tmp_path / "p.pdf"))  # the clinic's own: days kept
    assert DAY_PRECISE.search(plain) and charted[3:] == ["2024-03-15", "2024-04-19", "2024-06-02"]


def test_report_needs_pdf_name(records, tmp_path):
    patient, sessions = records
    with pytest.raises(ValueError, match=r"\.pdf"):
        write_session_report(patient, sessions[0], tmp_path / "report.docx")


def test_headings_stay_with_what_they_introduce(qapp):
    """Whatever text comes before it, a heading never ends a page apart from its picture."""
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QImage

    from app.qt.reports.pdf import block_page, keep_headings_with_next, layout_document

    picture = QImage(400, 200, QImage.Format.Format_RGB32)
    picture.fill(0x3366AA)
    page = QSizeF(500, 700)
    split_before = 0
    for n in range(20, 60):
        html = "".join(f"<p>Line {i} of the notes.</p>" for i in range(n)) + '<h2>Timeline</h2><p><img src="pic"/></p>'
        doc = layout_document(html, {"pic": picture}, page)
        heading = next(b for b in _blocks(doc) if b.blockFormat().headingLevel() == 2)
        split_before += block_page(doc, heading.next()) > block_page(doc, heading)
        keep_headings_with_next(doc)
        heading = next(b for b in _blocks(doc) if b.blockFormat().headingLevel() == 2)
        assert block_page(doc, heading.next()) == block_page(doc, heading), n
    assert split_before, "no filler length put the heading at a page's foot: the check above proved nothing"


def _blocks(doc):
    block = doc.begin()
    while block.isValid():
        yield block
        block = block.next()
