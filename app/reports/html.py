"""Small HTML builders for QTextDocument (which renders a subset of HTML 4 and CSS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from html import escape

from model import __version__

from .bidi import isolate
from .style import DISCLAIMER

_CSS = """
body { font-family: 'DejaVu Sans'; font-size: 9.5pt; color: #111; }
h1 { font-size: 16pt; margin: 0; }
h2 { font-size: 11.5pt; margin-top: 14px; margin-bottom: 4px; }
.clinic { font-size: 10pt; color: #555; }
.note { font-size: 8.5pt; color: #444; }
.disclaimer { font-size: 9pt; font-weight: bold; color: #8a1c1c; }
td, th { padding: 2px 4px; font-size: 8.5pt; }
th { background-color: #e8e8e8; text-align: left; }
"""


def esc(value) -> str:
    """value as HTML text, its bidirectional text isolated (app.reports.bidi): every value goes through here."""
    return escape(isolate("" if value is None else str(value)))


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def clock(seconds: float) -> str:
    """m:ss.s, the way clinicians read a recording's time."""
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def table(headers: Sequence[str], rows: Iterable[Sequence], *, width: str = "100%", wrap_headers: bool = False) -> str:
    nowrap = "" if wrap_headers else ' style="white-space: nowrap;"'
    head = "".join(f"<th{nowrap}>{esc(h)}</th>" for h in headers)
    # Short values (types, times) must not break mid-word; the last column takes what room is left.
    body = "".join("<tr>" + "".join(f'<td style="white-space: nowrap;">{esc(c)}</td>' for c in row[:-1])
                   + f"<td>{esc(row[-1])}</td></tr>" for row in map(list, rows))
    return (f'<table border="1" cellspacing="0" cellpadding="2" width="{width}" style="border-collapse: collapse;'
            f' border-color: #999;"><tr>{head}</tr>{body}</table>')


def key_values(pairs: Iterable[tuple[str, object]]) -> str:
    rows = "".join(f'<tr><td width="30%"><b>{esc(k)}</b></td><td>{esc(v)}</td></tr>' for k, v in pairs)
    return f'<table cellspacing="0" cellpadding="2" width="100%">{rows}</table>'


def paragraph(text: str, *, css_class: str = "") -> str:
    klass = f' class="{css_class}"' if css_class else ""
    lines = "<br/>".join(esc(line) for line in (text or "").splitlines()) or "-"
    return f"<p{klass}>{lines}</p>"


def image(name: str, *, width_pt: int) -> str:
    return f'<p><img src="{esc(name)}" width="{width_pt}"/></p>'


def document(title: str, clinic: str, body: str, *, deidentified: bool = False) -> str:
    """A whole report: clinic, title, body, then the disclaimer and when and with what it was made.

    deidentified: the making date to the month only, like every date in the report (the day a report
    was made is often the day of the session)."""
    made = dt.datetime.now().strftime("%Y-%m" if deidentified else "%Y-%m-%d %H:%M")
    return (f"<html><head><style>{_CSS}</style></head><body>"
            f'<p class="clinic">{esc(clinic) or "&nbsp;"}</p><h1>{esc(title)}</h1>'
            f'<p class="disclaimer">{esc(DISCLAIMER)}</p>{body}'
            f'<p class="note">Made {esc(made)} by StutterScope {esc(__version__)}.</p></body></html>')
