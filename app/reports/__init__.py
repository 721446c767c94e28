"""PDF reports: one per session, and a course report per patient (sessions over time) (Qt's PDF writer, no GUI needed)."""
