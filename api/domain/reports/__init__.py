"""The reports resource: group summaries of a survey (JSON, CSV, HTML)."""
