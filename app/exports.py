"""Reviewed events out to the tools clinicians already use: CSV, JSON, a Praat TextGrid, an Audacity label track.

No Qt. Every writer is atomic (temp file + os.replace) and takes the rows the review counts
(`ReviewSession.counted_rows()`: the clinician's decision where one is made, the model's event elsewhere;
rejected events and those not the client's are left out here); each row carries its decision, and CSV
and JSON say what they count and how far the review got in their header. The two readers exist so that an
export can be checked field by field, and so that labels made in Praat or Audacity can come back.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from model.fileio import atomic_write_text
from model.jsonable import dumps

from .review import EventRow

EXPORT_FORMATS = {  # format -> (file suffix, dialog filter)
    "csv": (".csv", "CSV table (*.csv)"),
    "json": (".json", "JSON (*.json)"),
    "textgrid": (".TextGrid", "Praat TextGrid (*.TextGrid)"),
    "audacity": (".txt", "Audacity labels (*.txt)"),
}
CSV_FIELDS = ("type", "types", "start", "end", "duration", "confidence", "decision", "model_type")
COUNTED = ("each row is counted: the clinician's decision where one was made (accepted, retyped, adjusted, "
           "added), the model's event elsewhere (unreviewed); rejected events and events in stretches that are "
           "not the client are left out")


@dataclass(frozen=True)
class Interval:
    """One labelled stretch read back from a TextGrid tier or an Audacity label track."""

    start: float
    end: float
    text: str


def kept(rows: Iterable[EventRow]) -> list[EventRow]:
    """The counted rows (EventRow.kept), by time: whatever a caller hands in, an export lists what is counted."""
    return sorted((r for r in rows if r.kept), key=lambda r: (r.start, r.end, r.label))


# ---- CSV and JSON ------------------------------------------------------------------------------
def events_csv(rows: Iterable[EventRow], *, counted_from: str = "") -> str:
    out = io.StringIO()
    # Comment lines: pandas (comment="#") and spreadsheets show them, readers can skip them.
    out.write(f"# counted: {COUNTED}\n")
    if counted_from:
        out.write(f"# counted from: {counted_from}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in kept(rows):
        writer.writerow([r.label, "+".join(r.types), f"{r.start:.3f}", f"{r.end:.3f}", f"{r.duration:.3f}",
                         f"{r.confidence:.4f}", r.decision, r.model_label or ""])
    return out.getvalue()


def events_json(rows: Iterable[EventRow], *, recording: str, duration: float, model_id: str,
                thresholds: dict[str, float], summary: dict | None = None, counted_from: str = "") -> str:
    doc = {
        "counted": COUNTED,
        "counted_from": counted_from,
        "recording": recording,
        "duration": round(float(duration), 3),
        "model_id": model_id,
        "thresholds": thresholds,
        # float() before round(): numpy rounds a float32 in float32 (524.35547 to 524.356, written 524.3560180664)
        "events": [{"type": r.label, "types": list(r.types), "start": round(float(r.start), 3),
                    "end": round(float(r.end), 3), "duration": round(float(r.duration), 3),
                    "confidence": round(float(r.confidence), 4),
                    "decision": r.decision, "model_type": r.model_label} for r in kept(rows)],
        "summary": summary,
    }
    return dumps(doc, indent=2) + "\n"


# ---- Audacity ----------------------------------------------------------------------------------
def audacity_labels(rows: Iterable[EventRow]) -> str:
    """Audacity's label track: start<TAB>end<TAB>text, seconds with six decimals, one label a line."""
    return "".join(f"{r.start:.6f}\t{r.end:.6f}\t{_label_text(r)}\n" for r in kept(rows))


def _label_text(row: EventRow) -> str:
    # The status travels with the type so that Audacity shows which events a clinician checked.
    return row.label if row.status == "unreviewed" else f"{row.label} ({row.status})"


def read_audacity_labels(text: str) -> list[Interval]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("\\"):  # "\" lines carry Audacity's spectral selection
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise ValueError(f"Audacity labels line {n}: expected start<TAB>end<TAB>text, got {line!r}")
        out.append(Interval(float(parts[0]), float(parts[1]), parts[2]))
    return out


# ---- Praat TextGrid ----------------------------------------------------------------------------
def textgrid(rows: Iterable[EventRow], *, duration: float, labels: Sequence[str]) -> str:
    """A long-format TextGrid: one interval tier per type, events as labelled intervals, gaps empty.

    A tier's intervals may not overlap, so overlapping events of one type (possible after the
    clinician moves bounds) are joined into one interval.
    """
    rows = kept(rows)
    tiers = [(label, _tier_intervals([r for r in rows if r.label == label], duration)) for label in labels]
    lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "",
             "xmin = 0", f"xmax = {duration:.6f}", "tiers? <exists>", f"size = {len(tiers)}", "item []:"]
    for i, (label, intervals) in enumerate(tiers, 1):
        lines += [f"    item [{i}]:", '        class = "IntervalTier"', f'        name = "{label}"',
                  "        xmin = 0", f"        xmax = {duration:.6f}", f"        intervals: size = {len(intervals)}"]
        for j, iv in enumerate(intervals, 1):
            lines += [f"        intervals [{j}]:", f"            xmin = {iv.start:.6f}",
                      f"            xmax = {iv.end:.6f}", f'            text = "{_praat_quote(iv.text)}"']
    return "\n".join(lines) + "\n"


def _tier_intervals(rows: list[EventRow], duration: float) -> list[Interval]:
    merged: list[Interval] = []
    for r in rows:
        start, end = max(0.0, r.start), min(duration, r.end)
        if merged and start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Interval(last.start, max(last.end, end), last.text)
        else:
            merged.append(Interval(start, end, r.label if r.status == "unreviewed" else f"{r.label} ({r.status})"))
    out: list[Interval] = []
    cursor = 0.0
    for iv in merged:
        if iv.start > cursor:
            out.append(Interval(cursor, iv.start, ""))
        out.append(iv)
        cursor = iv.end
    if cursor < duration or not out:
        out.append(Interval(cursor, duration, ""))
    return out


def _praat_quote(text: str) -> str:
    return text.replace('"', '""')  # Praat doubles quotes inside strings


_FIELD = re.compile(r'^\s*(xmin|xmax|text|name)\s*=\s*(.*?)\s*$')


def read_textgrid(text: str) -> dict[str, list[Interval]]:
    """Interval tiers of a long-format TextGrid -> {tier name: intervals, empty ones included}."""
    if 'Object class = "TextGrid"' not in text:
        raise ValueError("not a Praat TextGrid (no 'Object class = \"TextGrid\"' line); save it as a text file")
    tiers: dict[str, list[Interval]] = {}
    current: list[Interval] | None = None
    pending: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("intervals ["):
            pending = {}
            continue
        match = _FIELD.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "name":
            current = tiers.setdefault(_unquote(value), [])
        elif current is not None:
            pending[key] = value
            if key == "text":
                current.append(Interval(float(pending["xmin"]), float(pending["xmax"]), _unquote(value)))
    return tiers


def _unquote(value: str) -> str:
    return value[1:-1].replace('""', '"') if value.startswith('"') and value.endswith('"') else value


# ---- one entry point for the window ------------------------------------------------------------
def export_rows(fmt: str, path: str | Path, rows: Sequence[EventRow], *, recording: str, duration: float,
                model_id: str, thresholds: dict[str, float], labels: Sequence[str],
                summary: dict | None = None, counted_from: str = "") -> Path:
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {list(EXPORT_FORMATS)}")
    if fmt == "csv":
        text = events_csv(rows, counted_from=counted_from)
    elif fmt == "json":
        text = events_json(rows, recording=recording, duration=duration, model_id=model_id,
                           thresholds=thresholds, summary=summary, counted_from=counted_from)
    elif fmt == "textgrid":
        text = textgrid(rows, duration=duration, labels=labels)
    else:
        text = audacity_labels(rows)
    atomic_write_text(Path(path), text, private=True)  # events of a recording: patient data, owner-only
    return Path(path)
