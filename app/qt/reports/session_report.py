"""The PDF report of one session: who, when, what, the model, the numbers, the timeline, the events, the notes.

Where stretches were left out as not the client, the summary says where they came from (app.clinical.stretches_note):
found automatically by telling the voices apart and left as proposed, or marked (or changed) by hand.
"""

from __future__ import annotations

from pathlib import Path

from app.records.course import event_rows, not_client, session_measures
from app.records.deidentify import deidentify
from app.records.patients import Patient
from app.records.sessions import SSI4_CONCOMITANTS, Session
from model.labels import NON_SLD_LABELS, SLD_LABELS

from ...clinical import ClinicalData, stretches_note
from ...reports.bidi import isolate
from ...reports.html import clock, document, fmt, image, key_values, paragraph, table
from ...reports.options import ReportOptions, identity_pairs
from ...reports.style import SSI_NOTE
from .pdf import ensure_gui_app, write_pdf
from .pictures import timeline_image

TIMELINE = "timeline.png"
_IMAGE_WIDTH_PT = 510  # an A4 page's width inside 15 mm margins, in points


def _summary(session: Session) -> str:
    m = session_measures(session)
    # Types as columns: two rows instead of seven leaves the timeline room on the first page.
    columns = [*SLD_LABELS, "SLD total", *NON_SLD_LABELS]
    counts = {**m.counts, "SLD total": m.sld_count}
    rates = {**m.per_minute, "SLD total": m.sld_per_minute}
    rows = [["Events", *(counts[c] for c in columns)], ["Per minute", *(fmt(rates[c]) for c in columns)]]
    source = {"reviewed": "the clinician's review", "mixed": "the clinician's decisions where made, the "
              "model's events elsewhere", "model": "the model's events"}[m.source]
    left_out = f", {m.excluded_s:.1f} s not the client left out (rates per minute of the rest)" if m.excluded_s else ""
    return (table(["", *columns], rows)
            + paragraph(f"Mean duration of the three longest SLD events: {fmt(m.longest3_mean, 1)} s. "
                        f"Counted from {source} (reviewed {m.reviewed} of {m.events} model events{left_out}).")
            + _clinical(m) + _stretches(session)
            + paragraph(SSI_NOTE, css_class="note"))


def session_stretches_note(session: Session) -> str:
    """Where the session's not-the-client stretches came from, in words (app.clinical.stretches_note; "" without
    any, or when they are unreadable: the damage is reported on its own)."""
    try:
        return stretches_note(ClinicalData.from_dict(session.clinical))
    except ValueError:
        return ""


def _stretches(session: Session) -> str:
    note = session_stretches_note(session)
    return paragraph(note + " Counts, rates and %SS leave these stretches out.") if note else ""


def _clinical(m) -> str:
    """%SS, SPM and the three longest moments (issue 14), or why there are none."""
    if m.syllables is None:
        return paragraph("%SS, syllables per minute: the recording was not transcribed (no words).")
    by_type = ", ".join(f"{label} {fmt(v, 1)}" for label, v in m.pct_ss_by_type.items())
    pairs = [("%SS", fmt(m.pct_ss, 1)), ("%SS by type", by_type or "-"), ("Syllables per minute", fmt(m.spm, 0)),
             ("Syllables counted", m.syllables),
             ("Three longest, mean", f"{fmt(m.longest3_moments_s, 1)} s"),
             ("Not the client", f"{m.excluded_s:.1f} s"), ("Words by", m.transcriber or "-")]
    note = "" if m.pct_ss is not None else paragraph("Too little speech for rates: counts only.", css_class="note")
    return key_values(pairs) + note


def _events(session: Session) -> str:
    rows = [(i + 1, "+".join(e.types), clock(e.start), clock(e.end), f"{e.duration:.1f}",
             fmt(e.confidence), _decision(session, e)) for i, e in enumerate(event_rows(session))]
    if not rows:
        return paragraph("No events.")
    return table(["#", "Type", "Start", "End", "Length (s)", "Confidence", "Review"], rows)


def _decision(session: Session, e) -> str:
    if not_client(session, e):
        return "not the client, not counted"
    return e.status + ("" if e.counted else ", not counted")


def _model(session: Session) -> list[tuple[str, object]]:
    settings = session.model_settings
    thresholds = settings.get("thresholds", {})
    pairs: list[tuple[str, object]] = [
        ("Model id", session.model_id),
        ("Window / hop", f"{settings.get('window_seconds', 3.0):g} s / {settings.get('hop_seconds', 1.0):g} s")]
    if thresholds:
        pairs.append(("Thresholds", ", ".join(f"{k} {v:.2f}" for k, v in thresholds.items())))
    return pairs


def _clinician(session: Session) -> str:
    naturalness = "-" if session.naturalness is None else f"{session.naturalness} (1 = highly natural, 9 = highly unnatural)"
    severity = "-" if session.severity is None else f"{session.severity} (0 = no stuttering, 9 = extremely severe)"
    ssi4 = [(f"SSI-4: {title}", session.ssi4.get(key, "-")) for key, title in SSI4_CONCOMITANTS.items()]
    total = "-" if session.ssi4_total is None else f"{session.ssi4_total} of 20"
    return (key_values([("Naturalness", naturalness), ("Severity rating", severity), *ssi4,
                        ("SSI-4 physical concomitants", total)])
            + f"<p><b>Physical concomitants</b></p>{paragraph(session.physical_concomitants)}"
            + f"<p><b>Notes</b></p>{paragraph(session.notes)}")


def session_report_html(patient: Patient, session: Session, *, options: ReportOptions | None = None) -> str:
    options = options or ReportOptions()
    if options.deidentified:
        patient, (session,) = deidentify(patient, [session])
    damaged = paragraph(session.problem + ".", css_class="disclaimer") if session.problem else ""
    body = (key_values(identity_pairs(patient, session, options) + _model(session)) + damaged
            + "<h2>Summary</h2>" + _summary(session)
            + "<h2>Timeline</h2>" + image(TIMELINE, width_pt=_IMAGE_WIDTH_PT)
            + paragraph("Filled boxes are counted; hatched boxes were rejected by the clinician.", css_class="note")
            + "<h2>Events</h2>" + _events(session)
            + "<h2>Clinician</h2>" + _clinician(session))
    return document(f"Session report: {isolate(patient.code)}, {isolate(session.date)}", options.clinic_name, body,
                    deidentified=options.deidentified)


def write_session_report(patient: Patient, session: Session, path: str | Path, *,
                         options: ReportOptions | None = None) -> Path:
    """Write the session's PDF report to path (atomically). Safe to call from a worker thread."""
    ensure_gui_app()
    html = session_report_html(patient, session, options=options)
    # The timeline draws the client's events (filled: counted); the interviewer's are in the events table.
    client = [e for e in event_rows(session) if not not_client(session, e)]
    images = {TIMELINE: timeline_image(client, session.duration)}
    title = "StutterScope session report"
    return write_pdf(html, path, images=images, title=title, footer=_footer(options),
                     month_only=options is not None and options.deidentified)


def _footer(options: ReportOptions | None) -> str:
    who = (options.clinician if options else "") or ""
    return f"StutterScope session report{f' - {who}' if who else ''}"
