"""Fixtures of the hostile suite (the helpers themselves are in hostile_helpers.py)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt

from hostile_helpers import no_network, no_pickle  # noqa: F401 - fixtures, found by name
