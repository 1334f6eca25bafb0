"""GET /metrics: Prometheus text with HTTP, session and sweeper figures (docs/api.md §10)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.interview_requests import repository as requests_repository
from peerview.jobs.sweeper import SweepResult
from peerview.jobs.sweeper import record as record_sweep
from peerview.jobs.sweeper import record_error as record_sweep_error
from tests.factories import Factory
from tests.flow import accepted, live, post_request
from tests.observability.support import label_values, sample, scrape
from tests.platform.apps import assert_problem, client_for, extra_app

REQUESTS = "peerview_http_requests_total"
LATENCY_COUNT = "peerview_http_request_duration_seconds_count"
SESSION_ROUTE = "/api/interview-sessions/{session_id}"
METRICS_TOKEN = "metrics-token-0123456789abcdef"


async def test_metrics_parse_as_prometheus_text(client: httpx.AsyncClient) -> None:
    text = await scrape(client)
    names = {family.name for family in text_string_to_metric_families(text)}
    assert {
        "peerview_http_requests",
        "peerview_http_request_duration_seconds",
        "peerview_sessions",
        "peerview_sweeper_runs",
        "peerview_sweeper_errors",
        "peerview_connected_sockets",
    } <= names


async def test_request_counts_and_latency_are_labelled_by_route_template(
    factory: Factory,
) -> None:
    user = await factory.interviewee()
    missing = str(uuid.uuid4())
    before = await scrape(factory.client)
    for _ in range(2):
        response = await factory.client.get(
            f"/api/interview-sessions/{missing}", headers=user.headers
        )
        assert response.status_code == 404
    after = await scrape(factory.client)
    labels = {"method": "GET", "route": SESSION_ROUTE, "status": "404"}
    assert sample(after, REQUESTS, **labels) - sample(before, REQUESTS, **labels) == 2
    timing = {"method": "GET", "route": SESSION_ROUTE}
    assert sample(after, LATENCY_COUNT, **timing) - sample(before, LATENCY_COUNT, **timing) == 2
    assert not any(missing in route for route in label_values(after, "route"))


async def test_unknown_paths_are_counted_as_unmatched(client: httpx.AsyncClient) -> None:
    labels = {"method": "GET", "route": "unmatched", "status": "404"}
    before = sample(await scrape(client), REQUESTS, **labels)
    await client.get(f"/no/such/{uuid.uuid4()}")
    after = await scrape(client)
    assert sample(after, REQUESTS, **labels) - before == 1
    assert not any(route.startswith("/no/") for route in label_values(after, "route"))


async def test_unusual_methods_share_one_label(client: httpx.AsyncClient) -> None:
    await client.request("BREW", "/api/health")
    assert "BREW" not in label_values(await scrape(client), "method")


async def test_sessions_by_state_follow_read_time_truth(factory: Factory) -> None:
    flow = await accepted(factory)
    text = await scrape(factory.client)
    assert sample(text, "peerview_sessions", state="SCHEDULED") == 1
    assert sample(text, "peerview_sessions", state="CANCELLED") == 0
    factory.clock.set(flow.scheduled_at + timedelta(minutes=31))  # past NO_SHOW_MINUTES
    text = await scrape(factory.client)
    assert sample(text, "peerview_sessions", state="SCHEDULED") == 0
    assert sample(text, "peerview_sessions", state="CANCELLED") == 1
    await live(factory)
    text = await scrape(factory.client)
    assert sample(text, "peerview_sessions", state="LIVE") == 1
    assert sample(text, "peerview_sessions", state="COMPLETED") == 0


async def test_sweeper_results_and_failures_are_counted(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    record_sweep(SweepResult(expired_requests=[{}, {}], no_shows=[{}]))  # type: ignore[list-item]
    record_sweep_error(RuntimeError("database away"))
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("peerview_sweeper_runs_total") == 2
    assert delta("peerview_sweeper_errors_total") == 1
    assert delta("peerview_sweeper_transitions_total", kind="request_expired") == 2
    assert delta("peerview_sweeper_transitions_total", kind="no_show") == 1
    assert delta("peerview_sweeper_transitions_total", kind="auto_timeout") == 0


def _sweeper_runs() -> float:
    return REGISTRY.get_sample_value("peerview_sweeper_runs_total") or 0.0


async def test_the_running_sweeper_reports_its_runs(
    settings: Settings, clock: FakeClock, factory: Factory
) -> None:
    interviewee = await factory.interviewee()
    request = await post_request(factory, interviewee, scheduled_in=timedelta(hours=6))
    clock.advance(hours=2)  # past expires_at (scheduled_at - 5 h)
    runs = _sweeper_runs()
    swept = settings.model_copy(update={"sweeper_enabled": True})
    async with extra_app(swept, clock) as other, other.router.lifespan_context(other):
        for _ in range(200):
            if _sweeper_runs() > runs:
                break
            await asyncio.sleep(0.01)
    assert _sweeper_runs() > runs
    async with factory.app.services.database.transaction(write=False) as db:
        row = await requests_repository.get(db, request["id"])
    assert row is not None
    assert row.status == "EXPIRED"


def _production(settings: Settings, token: str | None) -> Settings:
    return settings.model_copy(update={"peerview_env": "production", "metrics_token": token})


async def test_metrics_in_production_without_a_token_configured_are_404(
    settings: Settings, clock: FakeClock
) -> None:
    async with extra_app(_production(settings, None), clock) as app, client_for(app) as c:
        response = await c.get("/metrics", headers={"Authorization": "Bearer anything"})
        assert_problem(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "NOT_AUTHENTICATED"),
        ("Bearer wrong-token", "INVALID_TOKEN"),
        (f"Basic {METRICS_TOKEN}", "NOT_AUTHENTICATED"),
        (f"Bearer {METRICS_TOKEN}x", "INVALID_TOKEN"),
    ],
)
async def test_metrics_in_production_need_the_bearer_token(
    settings: Settings, clock: FakeClock, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with extra_app(_production(settings, METRICS_TOKEN), clock) as app, client_for(app) as c:
        response = await c.get("/metrics", headers=headers)
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_metrics_in_production_with_the_token_are_200(
    settings: Settings, clock: FakeClock
) -> None:
    async with extra_app(_production(settings, METRICS_TOKEN), clock) as app, client_for(app) as c:
        text = await scrape(c, Authorization=f"Bearer {METRICS_TOKEN}")
    assert "peerview_http_requests_total" in text


async def test_metrics_are_open_outside_production(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert app.services.settings.peerview_env != "production"
    assert (await client.get("/metrics")).status_code == 200
