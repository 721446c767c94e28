"""What the reports share without Qt: their options, HTML builders, style and bidirectional isolation.

The PDFs themselves are drawn in app/qt/reports/ (Qt's PDF writer).
"""
