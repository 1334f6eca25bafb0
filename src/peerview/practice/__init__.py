"""Practice sessions with the AI interviewer (docs/api.md §13)."""
