"""The one typed boundary between results and JSON: every JSON file or column the project writes passes here.

Results are computed with numpy, so a value may be `np.bool_`, `np.float32` or `np.int64` where a Python
bool, float or int was meant; `json.dumps` refuses the first two (the `assess --words` and session-save
crash of issue 23) and a float32 would write as a different number on another run. `jsonable` turns a
nested value into plain Python: numpy scalars into bool/int/float, arrays and tuples into lists, paths into
text, dataclasses into dicts. A non-finite number is refused with the path to it (`"moments[3].start"`):
NaN or infinity is never a measure, and `json.dumps` would write it as invalid JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np

__all__ = ["dumps", "jsonable"]


def jsonable(value: Any, *, where: str = "value") -> Any:
    """`value` as plain JSON types (dict with str keys, list, str, int, float, bool, None).

    Raises ValueError naming where in `value` a non-finite number or a type JSON cannot hold was found.
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} is {number}: only finite numbers can be written")
        return number
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, np.ndarray):
        return [jsonable(v, where=f"{where}[{i}]") for i, v in enumerate(value.tolist())]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, np.integer)):
                raise ValueError(f"{where} has a key {key!r} of type {type(key).__name__}: keys must be text")
            out[str(key)] = jsonable(item, where=f"{where}.{key}")
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v, where=f"{where}[{i}]") for i, v in enumerate(items)]
    raise ValueError(f"{where} is a {type(value).__name__}, which JSON cannot hold")


def dumps(value: Any, **kwargs: Any) -> str:
    """`json.dumps` of `jsonable(value)`; keyword arguments as json.dumps's (indent, sort_keys, ...)."""
    return json.dumps(jsonable(value), allow_nan=False, **kwargs)
