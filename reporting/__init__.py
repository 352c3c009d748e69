"""Everything downstream of the event log: tables, validation, continuity, files,
databases and the report."""
