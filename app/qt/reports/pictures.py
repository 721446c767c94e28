"""Pictures drawn with QPainter on QImage (no widgets): a session's event timeline, a patient's course chart."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from app.records.course import SessionMeasures, course_series
from model.labels import LABELS
from model.moments.decoding import Moment

from ...reports.style import LABEL_COLORS, SLD_COLOR

_LEFT = 230  # px for row labels / the y axis
_RIGHT = 30
_TOP = 20
_BOTTOM = 70  # px for the time axis / dates


def _canvas(width: int, height: int) -> tuple[QImage, QPainter]:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setFont(QFont("DejaVu Sans", 24))
    return image, painter


def nice_step(span: float, target_ticks: int = 8) -> float:
    """A 1-2-5 step giving about target_ticks ticks over span."""
    raw = max(span, 1e-9) / target_ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def timeline_image(events: Sequence[Moment], duration: float, *, width: int = 1500, row_height: int = 56) -> QImage:
    """One row per type, a box per event (hatched when the clinician rejected it), a time axis in m:ss."""
    height = _TOP + row_height * len(LABELS) + _BOTTOM
    image, p = _canvas(width, height)
    plot_w = width - _LEFT - _RIGHT
    scale = plot_w / max(duration, 1e-9)  # px per second
    for row, label in enumerate(LABELS):
        y = _TOP + row * row_height
        p.setPen(QColor("#444444"))
        p.drawText(QRectF(0, y, _LEFT - 15, row_height), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   label)
        p.fillRect(QRectF(_LEFT, y + 4, plot_w, row_height - 8), QColor("#f2f2f2"))
        for e in (e for e in events if e.label == label):
            box = QRectF(_LEFT + e.start * scale, y + 8, max(3.0, e.duration * scale), row_height - 16)
            color = QColor(LABEL_COLORS[label])
            if e.counted:
                p.fillRect(box, color)
            else:
                p.fillRect(box, QColor(color.red(), color.green(), color.blue(), 60))
                p.fillRect(box, Qt.BrushStyle.BDiagPattern)
    _time_axis(p, duration, y=_TOP + row_height * len(LABELS), scale=scale)
    p.end()
    return image


def _time_axis(p: QPainter, duration: float, *, y: float, scale: float) -> None:
    p.setPen(QPen(QColor("#444444"), 2))
    p.drawLine(QPointF(_LEFT, y), QPointF(_LEFT + duration * scale, y))
    step = nice_step(duration)
    t = 0.0
    while t <= duration + 1e-6:
        x = _LEFT + t * scale
        p.drawLine(QPointF(x, y), QPointF(x, y + 10))
        p.drawText(QRectF(x - 60, y + 12, 120, 40), Qt.AlignmentFlag.AlignHCenter, _clock(t))
        t += step


def course_chart_image(measures: Sequence[SessionMeasures], *, width: int = 2000, height: int = 900) -> QImage:
    """%SS across sessions when any session has words (issue 14: clinicians chart %SS); otherwise events per
    minute, one line per type and the SLD total in black. A session without words has no %SS point."""
    image, p = _canvas(width, height)
    # Room on the left for the value axis, on the right for half a date label, at the top for the legend.
    plot = QRectF(_LEFT - 100, _TOP + 50, width - (_LEFT - 100) - 120, height - _TOP - 50 - _BOTTOM - 40)  # two lines under each point
    course = course_series(list(measures))  # the same series as the Patients page's chart
    series = course.series
    top = max([1.0, *(v for values in series.values() for v in values if v is not None),
               *(m.severity or 0 for m in measures)])
    step = nice_step(top, 5)
    top = math.ceil(top / step) * step
    n = len(measures)

    def point(i: int, v: float) -> QPointF:
        x = plot.left() + (plot.width() * (i + 0.5) / n if n else 0)
        return QPointF(x, plot.bottom() - plot.height() * v / top)

    _value_axis(p, plot, top, step, course.unit)
    every = max(1, math.ceil(n * 240 / plot.width()))  # a date label needs ~240 px: skip some when crowded
    for i, m in enumerate(measures):
        if i % every:
            continue
        p.setPen(QColor("#444444"))
        p.drawText(QRectF(point(i, 0).x() - 150, plot.bottom() + 10, 300, 80), Qt.AlignmentFlag.AlignHCenter,
                   f"{m.date}\n{m.reviewed}/{m.events} reviewed")
    for name, values in series.items():
        color = QColor(LABEL_COLORS.get(name, SLD_COLOR))
        p.setPen(QPen(color, 6 if name in ("SLD total", "%SS") else 4))
        p.setBrush(color)
        points = [point(i, v) for i, v in enumerate(values) if v is not None]
        for a, b in zip(points, points[1:], strict=False):
            p.drawLine(a, b)
        for q in points:
            p.drawEllipse(q, 7, 7)
    rated = [(i, m.severity) for i, m in enumerate(measures) if m.severity is not None]
    if rated:  # the clinician's 0-9 severity rating on the same axis, dashed grey
        grey = QColor("#777777")
        p.setPen(QPen(grey, 4, Qt.PenStyle.DashLine))
        p.setBrush(grey)
        points = [point(i, v) for i, v in rated]
        for a, b in zip(points, points[1:], strict=False):
            p.drawLine(a, b)
        for q in points:
            p.drawRect(QRectF(q.x() - 7, q.y() - 7, 14, 14))
    _legend(p, list(series) + (["Severity rating (0-9)"] if rated else []), x=plot.left(), y=_TOP)
    p.end()
    return image


def _value_axis(p: QPainter, plot: QRectF, top: float, step: float, unit: str) -> None:
    p.setPen(QPen(QColor("#dddddd"), 2))
    v = 0.0
    while v <= top + 1e-9:
        y = plot.bottom() - plot.height() * v / top
        p.setPen(QPen(QColor("#dddddd"), 2))
        p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        p.setPen(QColor("#444444"))
        p.drawText(QRectF(0, y - 20, plot.left() - 12, 40), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                   f"{v:g}")
        v += step
    p.save()
    p.translate(25, plot.center().y())
    p.rotate(-90)
    p.drawText(QRectF(-300, -20, 600, 40), Qt.AlignmentFlag.AlignCenter, unit)
    p.restore()


def _legend(p: QPainter, names: list[str], *, x: float, y: float) -> None:
    for name in names:
        color = QColor(LABEL_COLORS.get(name, "#777777" if name.startswith("Severity") else SLD_COLOR))
        p.fillRect(QRectF(x, y + 10, 30, 18), color)
        p.setPen(QColor("#222222"))
        width = p.fontMetrics().horizontalAdvance(name)
        p.drawText(QPointF(x + 38, y + 28), name)
        x += 38 + width + 40
