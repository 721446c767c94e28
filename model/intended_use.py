"""What StutterScope is for, in the one wording the About box, the reports, the CLI and the model card use."""

from __future__ import annotations

from .folders import APP_NAME

INTENDED_USE = "an aid to clinical judgement, not a diagnosis"  # stored as `intended_use` in every model file
DISCLAIMER = (f"{APP_NAME} is {INTENDED_USE}: its events and counts must be listened to and reviewed by a "
              "qualified clinician.")
INTENDED_USE_SENTENCE = f"{INTENDED_USE[0].upper()}{INTENDED_USE[1:]}."  # where it stands as a sentence
