"""Prometheus metrics of the process; exposed at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "peerview_http_requests_total",
    "HTTP requests served, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "peerview_http_request_duration_seconds",
    "HTTP request latency, by method and route template.",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SWEEPER_RUNS = Counter("peerview_sweeper_runs_total", "Sweeper runs.")
SWEEPER_ERRORS = Counter("peerview_sweeper_errors_total", "Sweeper runs that failed.")
SWEEPER_TRANSITIONS = Counter(
    "peerview_sweeper_transitions_total",
    "Transitions persisted by the sweeper, by kind.",
    ["kind"],
)
CONNECTED_SOCKETS = Gauge(
    "peerview_connected_sockets", "Socket.IO connections open on this process."
)
SESSIONS_BY_STATE = Gauge(
    "peerview_sessions",
    "Sessions by state as they are at scrape time (read-time truth); a database-wide figure.",
    ["state"],
)
