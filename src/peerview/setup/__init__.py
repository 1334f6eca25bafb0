"""First run: the starter bank loaded once, and the first admin made with a one-time code."""
