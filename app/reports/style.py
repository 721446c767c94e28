"""Colours and wording shared by the reports and the progress chart."""

from __future__ import annotations

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies, and in greyscale print.
LABEL_COLORS = {
    "Prolongation": "#E69F00",
    "Block": "#D55E00",
    "SoundRep": "#009E73",
    "WordRep": "#0072B2",
    "Interjection": "#CC79A7",
}
SLD_COLOR = "#000000"  # the SLD total line

DISCLAIMER = ("StutterScope is an aid to clinical judgement, not a diagnosis: its events and counts must be "
              "reviewed by a qualified clinician.")
SSI_NOTE = ("Frequency (events per minute) and the mean duration of the three longest stuttering-like events are "
            "measurable components used by the SSI-4; this is not an SSI-4 score.")
