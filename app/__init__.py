"""StutterScope desktop app (PySide6)."""
