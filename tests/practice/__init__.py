"""Practice sessions with the AI interviewer."""
