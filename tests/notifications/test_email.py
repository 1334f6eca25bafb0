"""E-mail of notifications over SMTP: sent after commit, retried on failure, .ics on reminders."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.notifications.mailer import MAX_ATTEMPTS, parse_smtp_url, retry_delay
from tests.factories import Factory
from tests.flow import accepted
from tests.notifications.support import stored, sweep
from tests.platform.apps import client_for, extra_app


class Inbox:
    """An aiosmtpd handler that keeps what it receives, or refuses it while `failing`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.failing = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.failing:
            return "451 4.3.0 Try again later"
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture
async def mail_factory(
    settings: Settings, clock: FakeClock, inbox: tuple[Inbox, int]
) -> AsyncIterator[Factory]:
    """A factory whose app e-mails notifications to the test's SMTP server."""
    _, port = inbox
    configured = settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{port}?starttls=false", "smtp_timeout_seconds": 5}
    )
    async with extra_app(configured, clock) as application, client_for(application) as client:
        yield Factory(app=application, client=client, clock=clock)
        await application.services.mailer.stop()


async def delivered(factory: Factory) -> None:
    await factory.app.services.mailer.idle()


async def test_notification_is_emailed_to_its_recipient(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    flow = await accepted(mail_factory)
    await delivered(mail_factory)
    [message] = handler.messages
    assert message["To"] == flow.interviewee.email
    assert message["Subject"] == "Your interview request was accepted"
    assert flow.interviewer.name in message.get_content()
    [row] = await stored(mail_factory.app, kind="REQUEST_ACCEPTED")
    assert row["email_status"] == "SENT"
    assert row["email_attempts"] == 1


async def test_user_who_turned_email_off_gets_none(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    interviewee = await mail_factory.interviewee()
    response = await mail_factory.client.patch(
        "/api/users/me", json={"email_notifications": False}, headers=interviewee.headers
    )
    assert response.status_code == 200, response.text
    await accepted(mail_factory, interviewee=interviewee)
    await delivered(mail_factory)
    assert handler.messages == []
    [row] = await stored(mail_factory.app, kind="REQUEST_ACCEPTED")
    assert row["email_status"] == "NONE"


async def test_each_recipient_of_one_batch_is_mailed_by_their_own_choice(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    interviewee = await mail_factory.interviewee()
    response = await mail_factory.client.patch(
        "/api/users/me", json={"email_notifications": False}, headers=interviewee.headers
    )
    assert response.status_code == 200, response.text
    flow = await accepted(mail_factory, interviewee=interviewee)
    await delivered(mail_factory)
    handler.messages.clear()
    mail_factory.clock.set(flow.scheduled_at - timedelta(minutes=15))
    await sweep(mail_factory.app)  # one reminder each, in one statement
    await delivered(mail_factory)
    assert [m["To"] for m in handler.messages] == [flow.interviewer.email]
    statuses = {
        r["user_id"]: r["email_status"]
        for r in await stored(mail_factory.app, kind="SESSION_REMINDER")
    }
    assert statuses == {flow.interviewer.id: "SENT", interviewee.id: "NONE"}


async def test_no_email_without_smtp_url(factory: Factory, app: FastAPI) -> None:
    await accepted(factory)
    [row] = await stored(app, kind="REQUEST_ACCEPTED")
    assert row["email_status"] == "NONE"


async def test_reminder_email_carries_the_session_ics(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    flow = await accepted(mail_factory)
    await delivered(mail_factory)
    handler.messages.clear()
    mail_factory.clock.set(flow.scheduled_at - timedelta(minutes=15))
    await sweep(mail_factory.app)
    await delivered(mail_factory)
    assert sorted(m["To"] for m in handler.messages) == sorted(
        [flow.interviewer.email, flow.interviewee.email]
    )
    for message in handler.messages:
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "text/calendar"
        assert attachment.get_filename() == f"peerview-{flow.id}.ics"
        ics = attachment.get_content()
        assert "BEGIN:VEVENT" in ics
        assert f"UID:{flow.id}@" in ics
        assert "DTSTART:" + flow.scheduled_at.strftime("%Y%m%dT%H%M%SZ") in ics


async def test_other_emails_have_no_attachment(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    await accepted(mail_factory)
    await delivered(mail_factory)
    assert [list(m.iter_attachments()) for m in handler.messages] == [[]]


async def test_failing_smtp_never_fails_the_request_and_the_email_is_retried_later(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    handler.failing = True
    flow = await accepted(mail_factory)  # the accept itself answers 201
    await delivered(mail_factory)
    [row] = await stored(mail_factory.app, kind="REQUEST_ACCEPTED")
    assert row["email_status"] == "PENDING"
    assert row["email_attempts"] == 1
    assert row["email_next_at"] == mail_factory.clock.now() + retry_delay(1)

    # Not due yet: nothing is attempted.
    assert await mail_factory.app.services.mailer.deliver_due() == 0
    [row] = await stored(mail_factory.app, kind="REQUEST_ACCEPTED")
    assert row["email_attempts"] == 1

    handler.failing = False
    mail_factory.clock.advance(minutes=1)
    assert await mail_factory.app.services.mailer.deliver_due() == 1
    [message] = handler.messages
    assert message["To"] == flow.interviewee.email
    [row] = await stored(mail_factory.app, kind="REQUEST_ACCEPTED")
    assert row["email_status"] == "SENT"
    assert row["email_attempts"] == 2


async def test_unreachable_smtp_never_fails_the_request(
    settings: Settings, clock: FakeClock
) -> None:
    closed = settings.model_copy(update={"smtp_url": f"smtp://127.0.0.1:{free_port()}"})
    async with extra_app(closed, clock) as application, client_for(application) as client:
        factory = Factory(app=application, client=client, clock=clock)
        await accepted(factory)
        await application.services.mailer.idle()
        [row] = await stored(application, kind="REQUEST_ACCEPTED")
        assert row["email_status"] == "PENDING"
        assert row["email_attempts"] == 1


async def test_email_is_given_up_after_the_last_attempt(
    mail_factory: Factory, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    handler.failing = True
    await accepted(mail_factory)
    await delivered(mail_factory)
    for _ in range(MAX_ATTEMPTS):
        mail_factory.clock.advance(hours=1)
        await mail_factory.app.services.mailer.deliver_due()
    [row] = await stored(mail_factory.app, kind="REQUEST_ACCEPTED")
    assert row["email_status"] == "FAILED"
    assert row["email_attempts"] == MAX_ATTEMPTS
    handler.failing = False
    mail_factory.clock.advance(hours=1)
    assert await mail_factory.app.services.mailer.deliver_due() == 0


async def test_two_mailers_send_each_email_once(
    mail_factory: Factory, inbox: tuple[Inbox, int], settings: Settings, clock: FakeClock
) -> None:
    handler, _ = inbox
    handler.failing = True
    for _ in range(3):
        await accepted(mail_factory)
    await delivered(mail_factory)
    handler.failing = False
    clock.advance(minutes=2)
    async with extra_app(mail_factory.app.services.settings, clock) as other:
        sent = await asyncio.gather(
            mail_factory.app.services.mailer.deliver_due(), other.services.mailer.deliver_due()
        )
    assert sum(sent) == 3
    assert len(handler.messages) == 3


def test_smtp_url_forms() -> None:
    plain = parse_smtp_url("smtp://mailer:s%40cret@mail.example:2525?starttls=true")
    assert (plain.hostname, plain.port, plain.username, plain.password) == (
        "mail.example",
        2525,
        "mailer",
        "s@cret",
    )
    assert (plain.use_tls, plain.start_tls) == (False, True)
    implicit = parse_smtp_url("smtps://mail.example")
    assert (implicit.port, implicit.use_tls, implicit.start_tls) == (465, True, False)
    assert parse_smtp_url("smtp://mail.example").start_tls is None
    with pytest.raises(ValueError, match="SMTP_URL"):
        parse_smtp_url("http://mail.example")


def test_retry_delay_doubles_up_to_an_hour() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
    ]
    assert retry_delay(30) == timedelta(hours=1)
