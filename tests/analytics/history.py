"""Rows of every state, written straight into the tables (as a bulk load or a restore would),
with timestamps to the microsecond: the raw material of the rebuild and migration tests."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from peerview.models.base import new_id

CATEGORIES = ("arrays", "graphs", "dp", "system-design", "zz-top")


def _moment(rng: random.Random, base: datetime, days: float) -> datetime:
    return base + timedelta(
        seconds=rng.uniform(-days, days) * 86_400, microseconds=rng.randint(0, 999_999)
    )


def users(count: int, role: str, now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "id": new_id(),
            "name": f"{role.title()} {n}",
            "email": f"{role.lower()}{n}-{new_id()[:8]}@example.com",
            "password_hash": "not-a-hash",
            "role": role,
            "is_active": True,
            "email_notifications": True,
            "tokens_valid_after": None,
            "created_at": now - timedelta(days=100),
            "updated_at": now - timedelta(days=100),
        }
        for n in range(count)
    ]


def rows(
    seed: int,
    count: int,
    *,
    now: datetime,
    interviewers: list[str],
    interviewees: list[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """`count` requests around `now` (± 20 days) in every status; a session for each accepted
    one in every stored state (LIVE past its hard end and SCHEDULED past the no-show deadline
    included); feedback on the finished ones."""
    rng = random.Random(seed)
    requests, sessions, feedback = [], [], []
    for _ in range(count):
        created = _moment(rng, now, 20)
        scheduled = (created + timedelta(hours=rng.uniform(6, 24 * 20))).replace(microsecond=0)
        status = rng.choice(["OPEN", "CANCELLED", "EXPIRED", "ACCEPTED", "ACCEPTED", "ACCEPTED"])
        category = rng.choice(CATEGORIES)
        interviewee = rng.choice(interviewees)
        accepted = None
        if status == "ACCEPTED":
            accepted = created + timedelta(
                seconds=rng.uniform(0, 3 * 86_400), microseconds=rng.randint(0, 999_999)
            )
        request = {
            "id": new_id(),
            "interviewee_id": interviewee,
            "category": category,
            "difficulty": "MEDIUM",
            "type": "CODING",
            "scheduled_at": scheduled,
            "duration_minutes": 60,
            "note": "",
            "status": status,
            "expires_at": scheduled - timedelta(hours=5),
            "accepted_at": accepted,
            "created_at": created,
            "updated_at": accepted or created,
        }
        requests.append(request)
        if accepted is None:
            continue
        kind = rng.choice(
            ["COMPLETED", "AUTO_TIMEOUT", "NO_SHOW", "CANCELLED", "LIVE", "SCHEDULED"]
        )
        started = hard_end = ended = end_reason = None
        if kind in ("COMPLETED", "AUTO_TIMEOUT", "LIVE"):
            started = scheduled + timedelta(
                seconds=rng.uniform(-300, 600), microseconds=rng.randint(0, 999_999)
            )
            hard_end = started + timedelta(minutes=90)
        if kind == "COMPLETED":
            ended, end_reason = (
                started + timedelta(seconds=rng.uniform(60, 5000)),
                "ENDED_BY_INTERVIEWER",
            )  # type: ignore[operator]
        elif kind == "AUTO_TIMEOUT":
            ended, end_reason = hard_end, "AUTO_TIMEOUT"
        elif kind == "NO_SHOW":
            ended, end_reason = scheduled + timedelta(minutes=30), "NO_SHOW"
        elif kind == "CANCELLED":
            ended = scheduled - timedelta(hours=rng.uniform(1, 5))
            end_reason = rng.choice(["CANCELLED_BY_INTERVIEWER", "CANCELLED_BY_INTERVIEWEE"])
        stored = {"AUTO_TIMEOUT": "COMPLETED", "NO_SHOW": "CANCELLED"}.get(kind, kind)
        session_id, interviewer = new_id(), rng.choice(interviewers)
        sessions.append(
            {
                "id": session_id,
                "request_id": request["id"],
                "interviewer_id": interviewer,
                "interviewee_id": interviewee,
                "category": category,
                "difficulty": "MEDIUM",
                "type": "CODING",
                "status": stored,
                "scheduled_at": scheduled,
                "duration_minutes": 60,
                "scheduled_end_at": scheduled + timedelta(minutes=60),
                "started_at": started,
                "planned_end_at": None if started is None else started + timedelta(minutes=60),
                "hard_end_at": hard_end,
                "ended_at": ended,
                "end_reason": end_reason,
                "extended_minutes": 0,
                "version": 1,
                "created_at": accepted,
                "updated_at": ended or accepted,
            }
        )
        if kind in ("COMPLETED", "AUTO_TIMEOUT", "LIVE"):
            pairs = [
                (interviewer, interviewee, "INTERVIEWER"),
                (interviewee, interviewer, "INTERVIEWEE"),
            ]
            for author, subject, role in rng.sample(pairs, rng.randint(0, 2)):
                feedback.append(
                    {
                        "id": new_id(),
                        "session_id": session_id,
                        "author_id": author,
                        "subject_id": subject,
                        "author_role": role,
                        "communication": rng.randint(1, 5),
                        "problem_solving": rng.randint(1, 5),
                        "technical": rng.randint(1, 5),
                        "overall": rng.randint(1, 5),
                        "comments": "",
                        "created_at": (ended or started) + timedelta(hours=1),  # type: ignore[operator]
                    }
                )
    return requests, sessions, feedback
