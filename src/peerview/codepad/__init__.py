"""The shared code pad of a session: one Yjs document, its language, its final text (§5.7)."""
