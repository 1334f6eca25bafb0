"""Background work that runs inside the server process."""
