"""Exceptions shared by the model package and the app, in a module that imports nothing heavy.

The app imports these at start-up; keeping torch out of this import lets the window show sooner.
"""


class Cancelled(Exception):
    """Raised when a cancel callback asks an analysis to stop."""


class BrokenModelError(RuntimeError):
    """A model file whose weights or outputs are not finite: every recording would be wrongly reported clean.

    A RuntimeError, not a ValueError, so that a batch stops at once instead of writing an error row per
    recording; the message names the model file.
    """
