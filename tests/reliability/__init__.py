"""Reliability: races repeated, timing, abuse limits, faults."""
