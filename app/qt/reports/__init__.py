"""PDF reports drawn with Qt: one per session, a course report per patient; no GUI needed."""
