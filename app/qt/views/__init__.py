"""Qt pages for the records: patients and sessions, progress, batch folders. They observe app.qt.views.records_state."""
