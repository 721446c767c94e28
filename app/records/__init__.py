"""Patient records: an SQLite database of patients and sessions, and the functions that read and write it.

Nothing here imports Qt, so the records can be used (and tested) by scripts and by the app's workers alike.
"""
