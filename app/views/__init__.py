"""Qt pages for the records: patients and sessions, progress, batch folders. They observe app.views.records_state."""
