"""PDF reports: one per session, and a course report per patient (its sessions over time); Qt's PDF writer, no GUI needed."""
