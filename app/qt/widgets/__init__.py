"""The app's widgets: each receives the AnalysisState and reacts to its signals."""
