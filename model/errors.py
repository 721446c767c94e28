"""Exceptions shared by the model package and the app, in a module that imports nothing heavy.

The app imports these at start-up; keeping torch out of this import lets the window show sooner.
"""


class Cancelled(Exception):
    """Raised when a cancel callback asks an analysis to stop."""
