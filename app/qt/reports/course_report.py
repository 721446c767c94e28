"""The course report of one patient: events per minute across sessions, a table, the clinician's fields."""

from __future__ import annotations

from pathlib import Path

from app.records.course import comparability_warning, counted_from, damaged_note, session_measures
from app.records.deidentify import deidentify
from app.records.patients import Patient
from app.records.sessions import Session
from model.labels import LABELS

from ...reports.bidi import isolate
from ...reports.html import document, esc, fmt, image, key_values, paragraph, table
from ...reports.options import ReportOptions, identity_pairs
from ...reports.style import SSI_NOTE
from .pdf import ensure_gui_app, write_pdf
from .pictures import course_chart_image
from .session_report import session_stretches_note

CHART = "course.png"
_IMAGE_WIDTH_PT = 510


def _measures_table(measures) -> str:
    # Eight columns fit an A4 page at 8.5 pt (the age goes with the per-type table below); html.table keeps
    # all but the last column on one line, so the last is a short number.
    headers = ["Date", "Task", "Counted from, reviewed", "SLD per min", "Interj. per min", "Top-3 SLD mean (s)",
               "Sever- ity", "Natural- ness"]
    rows = [(m.date, m.task, counted_from(m, short=True), fmt(m.sld_per_minute),
             fmt(m.interjection_per_minute), fmt(m.longest3_mean, 1), "-" if m.severity is None else m.severity,
             "-" if m.naturalness is None else m.naturalness) for m in measures]
    # %SS, speech rate and the three longest moments (issue 14) in a table of their own: the A4 width is full.
    clinical = [(m.date, fmt(m.pct_ss, 1), fmt(m.spm, 0), "-" if m.syllables is None else m.syllables,
                 fmt(m.longest3_moments_s, 1), f"{m.excluded_s:.1f}") for m in measures]
    per_type = [(m.date, m.age or "-", *(fmt(m.per_minute[label]) for label in LABELS)) for m in measures]
    return (table(headers, rows, wrap_headers=True)
            + "<h2>Syllables</h2>" + table(["Date", "%SS", "Syllables per min", "Syllables", "Top-3 moments mean (s)",
                                            "Not the client (s)"], clinical, wrap_headers=True)
            + "<h2>Per type (events per minute)</h2>" + table(["Date", "Age", *LABELS], per_type))


def _stretches_notes(sessions) -> str:
    """Per session with not-the-client stretches, where they came from: found by telling the voices apart and
    kept as proposed, or marked by hand (what the "Not the client (s)" column leaves unsaid)."""
    lines = [f"Session of {s.date} ({s.task}): {note}" for s in sessions if (note := session_stretches_note(s))]
    return "".join(paragraph(line, css_class="note") for line in lines)


def _clinician_fields(measures) -> str:
    parts = []
    for m in measures:
        if m.physical_concomitants or m.notes:
            parts.append(f"<p><b>{esc(m.date)}, {esc(m.task)}</b></p>"
                         + key_values([("Physical concomitants", m.physical_concomitants or "-"),
                                       ("Notes", m.notes or "-")]))
    return "".join(parts) or paragraph("None entered.")


def course_report_html(patient: Patient, sessions: list[Session], *, options: ReportOptions | None = None) -> str:
    options = options or ReportOptions()
    if options.deidentified:
        patient, sessions = deidentify(patient, sessions)
    measures = [session_measures(s, birth_date=patient.birth_date) for s in sessions]
    span = f"{measures[0].date} to {measures[-1].date}" if measures else "no sessions"
    warning = comparability_warning(measures)
    body = (key_values([*identity_pairs(patient, None, options), ("Sessions", f"{len(measures)} ({span})"),
                        ("Models", ", ".join(sorted({s.model_id[:12] for s in sessions})) or "-")])
            + ("<h2>%SS across sessions</h2>" if any(m.pct_ss is not None for m in measures)
               else "<h2>Events per minute across sessions</h2>")
            + (paragraph(warning, css_class="disclaimer") if warning else "")
            + image(CHART, width_pt=_IMAGE_WIDTH_PT)
            + paragraph(SSI_NOTE, css_class="note")
            + "<h2>Sessions</h2>" + _measures_table(measures)
            + "".join(paragraph(line, css_class="disclaimer") for line in damaged_note(measures).splitlines())
            + _stretches_notes(sessions)
            + "<h2>Clinician's observations</h2>" + _clinician_fields(measures))
    return document(f"Course report: {isolate(patient.code)}", options.clinic_name, body,
                    deidentified=options.deidentified)


def write_course_report(patient: Patient, sessions: list[Session], path: str | Path, *,
                          options: ReportOptions | None = None) -> Path:
    """Write the patient's course PDF to path (atomically). Safe to call from a worker thread."""
    ensure_gui_app()
    html = course_report_html(patient, sessions, options=options)
    if options is not None and options.deidentified:  # the chart's date labels too (issue 23: it had the days)
        sessions = deidentify(patient, sessions)[1]
    chart = course_chart_image([session_measures(s) for s in sessions])
    who = options.clinician if options else ""
    return write_pdf(html, path, images={CHART: chart}, title="StutterScope course report",
                     footer=f"StutterScope course report{f' - {who}' if who else ''}",
                     month_only=options is not None and options.deidentified)
