"""Everything that imports Qt (PySide6, pyqtgraph): the window, its pages and widgets, workers, PDFs."""
