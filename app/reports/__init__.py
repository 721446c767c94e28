"""PDF reports: one per session, and a progress report per patient (Qt's PDF writer, no GUI needed)."""
