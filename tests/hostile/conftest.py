"""Fixtures of the hostile suite (the helpers themselves are in hostile_helpers.py)."""

from hostile_helpers import no_network, no_pickle  # noqa: F401 - fixtures, found by name
