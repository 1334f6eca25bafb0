"""Shapes of notifications."""

from __future__ import annotations

from datetime import datetime

from peerview.models.enums import NotificationKind
from peerview.schemas import Output


class NotificationRead(Output):
    id: str
    kind: NotificationKind
    session_id: str | None
    request_id: str | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


class ReadAllResult(Output):
    updated: int
