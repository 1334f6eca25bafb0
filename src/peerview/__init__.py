"""Peerview: the backend of a peer-to-peer mock interview platform."""

__version__ = "0.1.0"
