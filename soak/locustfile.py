"""Peerview's whole interview flow as locust users, for the load soak (`soak/load.py`).

Interviewees post requests and follow their notifications: an accepted request or a started
session makes them open and join the session, an ended one makes them write feedback.
Interviewers browse the open requests, accept one (racing each other for it), open, join,
start and end its session, then write feedback; one interviewer holds one session at a time,
so a schedule conflict is never the right answer. One admin reads the platform analytics.
Everyone also reads their notifications, sessions, requests and analytics now and then.

Each user registers and logs in once, when it starts, and keeps its token: login throttling
counts per client address, and every simulated user comes from 127.0.0.1.

Answers that are right under contention are not failures: a 409 `REQUEST_NOT_OPEN` on accept
(another interviewer won) or `REQUEST_EXPIRED` (the request closed meanwhile), and a 409
`INVALID_SESSION_STATE` on an interviewee's join (the interviewer ended the session between
the interviewee's read and join). They are counted apart, as outcomes. Everything else that
is not the documented success is a failure.

Environment: `SOAK_ADMIN_EMAIL` / `SOAK_ADMIN_PASSWORD` (an existing admin; without them no
admin user runs), `SOAK_RESULTS` (where to write the figures as JSON when locust quits),
`SOAK_WAIT_MIN` / `SOAK_WAIT_MAX` (seconds between a user's tasks, default 5 and 15),
`SOAK_SCHEDULE_MIN_MINUTES` (how far ahead requests are scheduled at least, default 20).
"""

# Load generation: random choices shape the traffic, they protect nothing.
# ruff: noqa: S311

from __future__ import annotations

import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

PASSWORD = "soak-password-1"  # noqa: S105 (every simulated user's)
RUN = uuid.uuid4().hex[:8]
CATEGORIES = ["arrays", "graphs", "strings", "system-design", "dynamic-programming"]
DIFFICULTIES = ["EASY", "MEDIUM", "HARD"]
TYPES = ["CODING", "SYSTEM_DESIGN", "BEHAVIORAL", "CONCEPTUAL"]
WAIT_MIN = float(os.environ.get("SOAK_WAIT_MIN", "5"))
WAIT_MAX = float(os.environ.get("SOAK_WAIT_MAX", "15"))
SCHEDULE_MIN = float(os.environ.get("SOAK_SCHEDULE_MIN_MINUTES", "20"))
# Latest schedule: a session may be started this long before it (SESSION_EARLY_START_MINUTES).
SCHEDULE_MAX = float(os.environ.get("SOAK_SCHEDULE_MAX_MINUTES", str(47 * 60)))
# Requests an interviewee keeps open at once (Peerview allows 5).
OPEN_PER_INTERVIEWEE = 2
ADMIN_EMAIL = os.environ.get("SOAK_ADMIN_EMAIL", "")
ADMIN_PASSWORD = os.environ.get("SOAK_ADMIN_PASSWORD", "")

# Endpoint groups of the report, by the request names used below.
GROUPS = {
    "auth": ("/api/auth/",),
    "accept": ("/api/interview-requests/{id}/accept",),
    "requests": ("/api/interview-requests",),
    "sessions": ("/api/interview-sessions",),
    "feedback": ("/api/feedback",),
    "notifications": ("/api/notifications",),
    "analytics": ("/api/analytics/",),
    "users": ("/api/users",),
}

# Business outcomes: what happened, including the right answers that are not 2xx.
OUTCOMES: Counter[str] = Counter()
_outcomes_lock = threading.Lock()


def count(outcome: str) -> None:
    with _outcomes_lock:
        OUTCOMES[outcome] += 1


def group_of(name: str) -> str:
    for group, prefixes in GROUPS.items():
        if any(name.startswith(p) for p in prefixes):
            return group
    return "other"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PeerviewUser(FastHttpUser):
    """A user with a token, and one way to call the API that judges each answer."""

    abstract = True
    wait_time = between(WAIT_MIN, WAIT_MAX)
    role = ""
    token = ""

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        expected: int = 200,
        body: Any = None,
        tolerated: dict[str, str] | None = None,
        auth: bool = True,
    ) -> Any:
        """The JSON answer when the status is `expected`, else None.

        `tolerated` maps a 409 problem `code` that is a right answer here to the outcome it
        counts as; any other status is a failure.
        """
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        with self.client.request(
            method, path, name=name, json=body, headers=headers, catch_response=True
        ) as response:
            if response.status_code == expected:
                response.success()
                return response.json() if response.text else None
            code = None
            if response.status_code == 409 and tolerated:
                try:
                    code = response.json().get("code")
                except ValueError:
                    code = None
            if code in (tolerated or {}):
                response.success()
                count(tolerated[code])  # type: ignore[index]
                return None
            if response.status_code == 0:
                # No HTTP answer at all: say what the transport said.
                response.failure(f"no answer: {getattr(response, 'error', None)!r}"[:300])
            else:
                response.failure(f"{response.status_code} {(response.text or '')[:200]}")
            return None

    def register_and_login(self) -> None:
        email = f"soak-{RUN}-{uuid.uuid4().hex[:12]}@example.com"
        body = {"name": f"Soak {self.role.title()}", "email": email, "password": PASSWORD}
        answer = self.call(
            "POST",
            "/api/auth/register",
            "/api/auth/register",
            expected=201,
            body={**body, "role": self.role},
            auth=False,
        )
        if answer is None:
            self.stop_later()
            return
        answer = self.call(
            "POST",
            "/api/auth/login",
            "/api/auth/login",
            body={"email": email, "password": PASSWORD},
            auth=False,
        )
        if answer is None:
            self.stop_later()
            return
        self.token = answer["access_token"]
        self.user_id = answer["user"]["id"]

    def stop_later(self) -> None:
        """Without a token there is nothing to do: the user idles (its failure is counted)."""
        self.token = ""

    def ready(self) -> bool:
        return bool(self.token)

    # Reads every role makes now and then.

    def read_notifications(self) -> list[dict[str, Any]]:
        page = self.call(
            "GET", "/api/notifications?unread=true&limit=50", "/api/notifications?unread=true"
        )
        return list(page["items"]) if page else []

    def mark_read(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        if len(items) == 1:
            nid = items[0]["id"]
            self.call("POST", f"/api/notifications/{nid}/read", "/api/notifications/{id}/read")
        else:
            self.call("POST", "/api/notifications/read-all", "/api/notifications/read-all")

    def view_session(self, session_id: str) -> dict[str, Any] | None:
        session = self.call(
            "GET", f"/api/interview-sessions/{session_id}", "/api/interview-sessions/{id}"
        )
        if session is not None and session["status"] in ("SCHEDULED", "LIVE"):
            joined = self.call(
                "POST",
                f"/api/interview-sessions/{session_id}/join",
                "/api/interview-sessions/{id}/join",
                tolerated={"INVALID_SESSION_STATE": "join of a session that ended meanwhile"},
            )
            if joined is not None:
                session = joined["session"]
        return session

    def write_feedback(self, session_id: str) -> None:
        ratings = {k: random.randint(1, 5) for k in ("communication", "problem_solving")}
        ratings |= {k: random.randint(1, 5) for k in ("technical", "overall")}
        body = {"session_id": session_id, "ratings": ratings, "comments": "Soak feedback."}
        if self.call("POST", "/api/feedback", "/api/feedback", expected=201, body=body):
            count(f"feedback by {self.role.lower()}")
        self.call(
            "GET", f"/api/feedback/session/{session_id}", "/api/feedback/session/{session_id}"
        )

    @task(1)
    def my_analytics(self) -> None:
        if self.ready():
            self.call("GET", "/api/analytics/me", "/api/analytics/me")

    @task(1)
    def my_sessions(self) -> None:
        if self.ready():
            self.call("GET", "/api/interview-sessions", "/api/interview-sessions")

    @task(1)
    def me(self) -> None:
        if self.ready():
            self.call("GET", "/api/auth/me", "/api/auth/me")


class Interviewee(PeerviewUser):
    weight = 1
    role = "INTERVIEWEE"

    def on_start(self) -> None:
        self.register_and_login()
        self.reviewed: set[str] = set()

    @task(3)
    def post_request(self) -> None:
        if not self.ready():
            return
        page = self.call(
            "GET",
            "/api/interview-requests/mine?status=OPEN",
            "/api/interview-requests/mine?status=OPEN",
        )
        if page is None or len(page["items"]) >= OPEN_PER_INTERVIEWEE:
            return
        ahead = random.uniform(SCHEDULE_MIN, SCHEDULE_MAX)
        body = {
            "category": random.choice(CATEGORIES),
            "difficulty": random.choice(DIFFICULTIES),
            "type": random.choice(TYPES),
            "scheduled_at": _iso(datetime.now(UTC) + timedelta(minutes=ahead)),
            "duration_minutes": random.choice([15, 30, 45, 60]),
            "note": "Soak request.",
        }
        if self.call(
            "POST", "/api/interview-requests", "/api/interview-requests", expected=201, body=body
        ):
            count("request created")

    @task(4)
    def follow_notifications(self) -> None:
        """Act on what Peerview announced: join accepted or started sessions, review ended ones."""
        if not self.ready():
            return
        items = self.read_notifications()
        for item in items[:3]:
            session_id = item.get("session_id")
            if not session_id:
                continue
            if item["kind"] in ("REQUEST_ACCEPTED", "SESSION_STARTED"):
                self.view_session(session_id)
            elif item["kind"] == "SESSION_ENDED" and session_id not in self.reviewed:
                self.reviewed.add(session_id)
                self.write_feedback(session_id)
        self.mark_read(items)

    @task(1)
    def feedback_received(self) -> None:
        if self.ready():
            self.call("GET", "/api/feedback/received", "/api/feedback/received")


class Interviewer(PeerviewUser):
    weight = 1
    role = "INTERVIEWER"

    def on_start(self) -> None:
        self.register_and_login()
        self.session: dict[str, Any] | None = None

    @task(6)
    def work(self) -> None:
        """One step of the interviewer's cycle: accept, then start, then end and review."""
        if not self.ready():
            return
        if self.session is None:
            self.accept_one()
            return
        sid = self.session["id"]
        if self.session["status"] == "SCHEDULED":
            self.view_session(sid)
            started = self.call(
                "POST",
                f"/api/interview-sessions/{sid}/start",
                "/api/interview-sessions/{id}/start",
            )
            self.session = started
            if started is not None:
                count("session started")
        elif self.session["status"] == "LIVE":
            self.view_session(sid)
            ended = self.call(
                "POST", f"/api/interview-sessions/{sid}/end", "/api/interview-sessions/{id}/end"
            )
            self.session = ended
            if ended is not None:
                count("session ended")
        else:
            if self.session["status"] == "COMPLETED":
                self.write_feedback(sid)
            self.session = None

    def accept_one(self) -> None:
        page = self.call("GET", "/api/interview-requests/open", "/api/interview-requests/open")
        if not page or not page["items"]:
            count("no open request to accept")
            return
        target = random.choice(page["items"])
        session = self.call(
            "POST",
            f"/api/interview-requests/{target['id']}/accept",
            "/api/interview-requests/{id}/accept",
            expected=201,
            tolerated={
                "REQUEST_NOT_OPEN": "accept lost to another interviewer",
                "REQUEST_EXPIRED": "accept of a request that expired meanwhile",
            },
        )
        if session is not None:
            count("accept won")
            self.session = session

    @task(2)
    def notifications(self) -> None:
        if self.ready():
            self.mark_read(self.read_notifications())

    @task(1)
    def accepted_requests(self) -> None:
        if self.ready():
            self.call("GET", "/api/interview-requests/mine", "/api/interview-requests/mine")


class Admin(PeerviewUser):
    """The one admin: platform analytics and the user list."""

    abstract = not (ADMIN_EMAIL and ADMIN_PASSWORD)
    fixed_count = 1
    role = "ADMIN"
    wait_time = between(5, 10)

    def on_start(self) -> None:
        answer = self.call(
            "POST",
            "/api/auth/login",
            "/api/auth/login",
            body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
            auth=False,
        )
        self.token = answer["access_token"] if answer else ""

    @task(3)
    def platform(self) -> None:
        if self.ready():
            self.call("GET", "/api/analytics/platform", "/api/analytics/platform")

    @task(1)
    def users(self) -> None:
        if self.ready():
            self.call("GET", "/api/users?role=INTERVIEWEE", "/api/users?role=INTERVIEWEE")


# --------------------------------------------------------------------------- figures


def percentile(times: dict[int, int], total: int, fraction: float) -> int:
    """Locust's rounded response times (ms -> count): the smallest time covering `fraction`."""
    if total == 0:
        return 0
    need = total * fraction
    seen = 0
    for ms in sorted(times):
        seen += times[ms]
        if seen >= need:
            return ms
    return max(times)


def figures(times: dict[int, int], requests: int, failures: int) -> dict[str, Any]:
    return {
        "requests": requests,
        "failures": failures,
        "p50": percentile(times, requests, 0.50),
        "p95": percentile(times, requests, 0.95),
        "p99": percentile(times, requests, 0.99),
        "max": max(times) if times else 0,
    }


# Response times per minute of the run (rounded like locust's, ms -> count), and failures.
TIMELINE: dict[int, Counter[int]] = {}
TIMELINE_FAILURES: Counter[int] = Counter()
_started = [0.0]


@events.test_start.add_listener
def mark_start(**_: Any) -> None:
    _started[0] = time.time()


@events.request.add_listener
def on_request(response_time: float, exception: BaseException | None, **_: Any) -> None:
    minute = int((time.time() - _started[0]) // 60)
    TIMELINE.setdefault(minute, Counter())[round_ms(response_time)] += 1
    if exception is not None:
        TIMELINE_FAILURES[minute] += 1


def round_ms(ms: float) -> int:
    """Locust's rounding: exact below 100 ms, then 2 significant digits."""
    value = round(ms)
    if value < 100:
        return value
    if value < 1000:
        return round(value, -1)
    if value < 10000:
        return round(value, -2)
    return round(value, -3)


@events.quitting.add_listener
def write_results(environment: Environment, **_: Any) -> None:
    path = os.environ.get("SOAK_RESULTS")
    if not path or environment.stats is None:
        return
    endpoints = []
    groups: dict[str, dict[str, Any]] = {}
    total_times: Counter[int] = Counter()
    for (name, method), entry in sorted(environment.stats.entries.items()):
        endpoints.append(
            {
                "method": method,
                "name": name,
                **figures(entry.response_times, entry.num_requests, entry.num_failures),
            }
        )
        group = groups.setdefault(
            group_of(name), {"times": Counter(), "requests": 0, "failures": 0}
        )
        group["times"].update(entry.response_times)
        group["requests"] += entry.num_requests
        group["failures"] += entry.num_failures
        total_times.update(entry.response_times)
    total = environment.stats.total
    errors = [
        {"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
        for e in environment.stats.errors.values()
    ]
    result = {
        "total": figures(dict(total_times), total.num_requests, total.num_failures),
        "groups": {
            g: figures(dict(v["times"]), v["requests"], v["failures"])
            for g, v in sorted(groups.items())
        },
        "endpoints": endpoints,
        "errors": errors,
        "outcomes": dict(sorted(OUTCOMES.items())),
        "minutes": [
            {"minute": m + 1, **figures(dict(t), sum(t.values()), TIMELINE_FAILURES[m])}
            for m, t in sorted(TIMELINE.items())
        ],
        "start_time": total.start_time,
        "last_request_timestamp": total.last_request_timestamp,
    }
    with open(path, "w") as out:
        json.dump(result, out, indent=1)
