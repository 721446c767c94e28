"""The JSON columns of a stored session, checked where they are read: a damaged value is refused with what is
wrong, never half-used.

No Qt. `clinical` (a session's and a draft's) is app.clinical.ClinicalData.to_dict(): {"words": [{start, end,
text, probability[, origin]}], "excluded": [[start, end]], "transcriber": str[, "proposed": [[start, end]],
"proposed_by": str], ...}: "proposed" holds the stretches the speakers' proposal made that stand as it made
them (a session or draft from before issue 26 has neither key: none automatic); other keys (e.g. derived
measures) pass through. `model_settings` is {"thresholds": {label: number}, "window_seconds", "hop_seconds", ...}
and `summary` the model's RecordingSummary.to_dict(): JSON objects, read with `parse_stored`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

from ..transcript_edits import ORIGINS

_WORD_NUMBERS = ("start", "end", "probability")
_SETTINGS_NUMBERS = ("window_seconds", "hop_seconds")  # the session report prints them


def _number(value: object, what: str, unit: str = " of seconds") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} is {value!r}, not a finite number{unit}")
    return float(value)


def _check_word(word: object, i: int) -> None:
    if not isinstance(word, Mapping):
        raise ValueError(f"word {i} is a {type(word).__name__}, not an object")
    for key in _WORD_NUMBERS:
        _number(word.get(key), f"word {i}'s {key}")
    if not isinstance(word.get("text"), str):
        raise ValueError(f"word {i}'s text is {word.get('text')!r}, not a string")
    if "origin" in word and word["origin"] not in ORIGINS:  # a word the clinician corrected says so
        raise ValueError(f"word {i}'s origin is {word['origin']!r}, not one of {', '.join(ORIGINS)}")
    if not 0 <= word["start"] <= word["end"]:
        raise ValueError(f"word {i} runs from {word['start']} to {word['end']} s: need 0 <= start <= end")


def _check_stretch(stretch: object, i: int, what: str = "excluded") -> None:
    if not isinstance(stretch, list | tuple) or len(stretch) != 2:
        raise ValueError(f"{what} stretch {i} is {stretch!r}, not a [start, end] pair")
    start, end = (_number(x, f"{what} stretch {i}") for x in stretch)
    if not 0 <= start <= end:
        raise ValueError(f"{what} stretch {i} runs from {start} to {end} s: need 0 <= start <= end")


def check_clinical(data: object) -> dict:
    """The stored words-and-stretches dict, checked; ValueError saying what is wrong (the value is not used)."""
    if not isinstance(data, Mapping):
        raise ValueError(f"it is a {type(data).__name__}, not an object with words and excluded stretches")
    words = data.get("words", [])
    if not isinstance(words, list):
        raise ValueError(f"its words are a {type(words).__name__}, not a list")
    for i, word in enumerate(words):
        _check_word(word, i)
    for what in ("excluded", "proposed"):
        stretches = data.get(what, [])
        if not isinstance(stretches, list):
            raise ValueError(f"its {what} stretches are a {type(stretches).__name__}, not a list")
        for i, stretch in enumerate(stretches):
            _check_stretch(stretch, i, what)
    for key in ("transcriber", "proposed_by"):
        if not isinstance(data.get(key, ""), str):
            raise ValueError(f"its {key} is {data[key]!r}, not a text")
    return dict(data)


def check_object(data: object) -> dict:
    """A stored JSON object (e.g. the `summary` column) whose fields nothing reads as numbers."""
    if not isinstance(data, Mapping):
        raise ValueError(f"it is a {type(data).__name__}, not an object")
    return dict(data)


def check_model_settings(data: object) -> dict:
    """The stored `model_settings`: the thresholds a review is restored with and the numbers a report prints."""
    settings = check_object(data)
    thresholds = settings.get("thresholds", {})
    if not isinstance(thresholds, Mapping):
        raise ValueError(f"its thresholds are a {type(thresholds).__name__}, not an object of label: number")
    for label, value in thresholds.items():
        _number(value, f"the {label} threshold", "")
    for key in _SETTINGS_NUMBERS:
        if key in settings:
            _number(settings[key], f"its {key}")
    return settings


CHECKS = {"clinical": check_clinical, "model_settings": check_model_settings, "summary": check_object}


def parse_stored(column: str, text: str | None) -> dict:
    """A stored JSON column of CHECKS (NULL or '' is empty), checked; ValueError saying what is damaged."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValueError(f"it is not JSON ({e})") from e
    return CHECKS[column](data)


def parse_clinical(text: str | None) -> dict:
    """A stored `clinical` column (JSON text; NULL or '' is no words), checked; ValueError when damaged."""
    return parse_stored("clinical", text)
