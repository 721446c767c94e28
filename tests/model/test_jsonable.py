"""model.jsonable, the one boundary to JSON, and the sources that fed it numpy scalars (issue 23)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.audio.decode import SAMPLE_RATE
from model.jsonable import dumps, jsonable
from model.measures.clinical import compute_measures
from model.measures.words import Word, snap_words
from model.moments.decoding import INTERJECTION, STUTTERING, Moment

FINITE32 = st.floats(allow_nan=False, allow_infinity=False, width=32)
FINITE = st.floats(allow_nan=False, allow_infinity=False)

# What analyses hold: Python values and the numpy scalars that numpy arithmetic hands back in their place.
SCALARS = st.one_of(
    st.none(), st.text(max_size=8), st.booleans(), st.booleans().map(np.bool_),
    st.integers(-2**62, 2**62), st.integers(-2**62, 2**62).map(np.int64), st.integers(0, 255).map(np.uint8),
    FINITE, FINITE.map(np.float64), FINITE32.map(np.float32))
NESTED = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(NESTED)
def test_any_nesting_of_numpy_scalars_round_trips_equal(value):
    text = dumps(value)
    assert json.loads(text) == value  # np.float32(x) == float(np.float32(x)): exact, nothing rounded
    assert dumps(json.loads(text)) == text  # plain Python out: writing it again changes nothing


@given(st.booleans())
def test_numpy_bool_becomes_a_json_boolean(flag):
    assert dumps({"enough_speech": np.bool_(flag)}) == json.dumps({"enough_speech": flag})


@pytest.mark.parametrize("bad", [float("nan"), np.float32("inf"), -np.inf])
def test_a_non_finite_number_is_refused_with_where_it_is(bad):
    with pytest.raises(ValueError, match=r"moments\[1\]\.start is"):
        dumps({"moments": [{"start": 1.0}, {"start": bad}]})


def test_arrays_tuples_and_paths_become_lists_and_text(tmp_path):
    out = jsonable({"probs": np.arange(3, dtype=np.float32), "span": (np.int64(1), 2), "file": tmp_path})
    assert out == {"probs": [0.0, 1.0, 2.0], "span": [1, 2], "file": str(tmp_path)}
    assert all(type(v) is float for v in out["probs"])


# -- the sources: measures and snapped word times come out as Python types --------------------------------


def _numpy_words(n: int) -> list[Word]:
    """Words whose times are numpy scalars, as numpy arithmetic on frame indices makes them."""
    # Five different words in turn: one word said 60 times would count once (model/measures/intended_syllables.py).
    texts = ("hello", "there", "my", "good", "friend")
    return [Word(np.float64(0.4 * i), np.float64(0.4 * i + 0.3), texts[i % 5], np.float32(0.9)) for i in range(n)]


def test_measures_of_numpy_typed_words_and_moments_are_python_types():
    moments = [Moment(np.float32(1.2), np.float32(1.9), np.float32(0.8), ("Block",), STUTTERING),
               Moment(np.float64(5.0), np.float64(5.3), 0.7, ("Interjection",), INTERJECTION)]
    m = compute_measures(_numpy_words(60), moments, excluded=[(np.float64(20.0), np.float64(21.0))])
    assert m.enough_speech is True  # was np.bool_: `assess --words` crashed on it
    for key, value in m.to_dict().items():
        assert not isinstance(value, np.generic), f"{key} is {type(value).__name__}"
    assert all(type(w.start) is float and type(w.end) is float for w in m.word_counts)
    json.dumps(m.to_dict())  # the plain encoder takes it: nothing numpy is left


def test_snapped_word_times_are_python_floats():
    """Tone bursts with silence around them: snap_words moves the edges onto the bursts."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    audio = np.zeros(3 * SAMPLE_RATE, np.float32)
    for begin in (0.5, 1.8):
        i = int(begin * SAMPLE_RATE)
        audio[i:i + SAMPLE_RATE // 2] = 0.3 * np.sin(2 * np.pi * 220 * t[:SAMPLE_RATE // 2])
    words = [Word(0.3, 1.2, "one", 0.9), Word(1.4, 2.6, "two", 0.8)]
    snapped = snap_words(words, audio)
    assert snapped != words  # the edges did move, through the numpy frame indices
    for w in snapped:
        assert type(w.start) is float and type(w.end) is float, w
        assert math.isclose(w.start, round(w.start, 3))
