"""Colours and wording shared by the reports and the course chart."""

from __future__ import annotations

from app.palette import LABEL_COLORS  # the app's colours, so a report looks like the screen
from model.intended_use import DISCLAIMER

__all__ = ["DISCLAIMER", "LABEL_COLORS", "SLD_COLOR", "SSI_NOTE"]

SLD_COLOR = "#000000"  # the SLD total line

SSI_NOTE = ("Frequency (events per minute) and the mean duration of the three longest stuttering-like events are "
            "measurable components used by the SSI-4; this is not an SSI-4 score.")
