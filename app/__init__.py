"""StutterScope's front ends: the `stutterscope` command's root and the desktop app.

Only app/qt/ imports Qt (an import-linter contract); the modules beside it (review, records, exports,
reports' options, ...) are Qt-free and testable without a display.
"""
