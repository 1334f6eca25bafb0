"""The dashboards in Chromium: my analytics and the platform's, drawn as SVG charts whose bars
and points match what the API answers (docs/api.md §10), with a period picker."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from playwright.async_api import Browser, Locator, expect

from tests.browser.conftest import Served
from tests.browser.support import Tab, open_tab, screenshot
from tests.factories import Factory, TestUser
from tests.flow import Flow, completed

DESKTOP = {"width": 1280, "height": 800}
RATINGS = {"communication": 4, "problem_solving": 3, "technical": 5, "overall": 4}


async def signed_in(browser: Browser, served: Served, user: TestUser, **options: Any) -> Tab:
    """A tab signed in as `user` (the token kept as the app keeps it), not yet on a page."""
    tab = await open_tab(browser, served.url, **options)
    await tab.context.add_init_script(
        f"window.localStorage.setItem('peerview.token', {user.token!r});"
    )
    return tab


async def feedback(factory: Factory, flow: Flow, author: TestUser, **ratings: int) -> None:
    answer = await factory.client.post(
        "/api/feedback",
        json={"session_id": flow.id, "ratings": {**RATINGS, **ratings}, "comments": "Clear."},
        headers=author.headers,
    )
    assert answer.status_code == 201, answer.text


async def practice(factory: Factory) -> tuple[TestUser, TestUser, TestUser]:
    """An admin, and an interviewer and interviewee with two completed sessions in two
    categories, weeks apart, each rated both ways, and a third session without feedback."""
    admin = await factory.admin()
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    people = {"interviewer": interviewer, "interviewee": interviewee}
    first = await completed(factory, category="arrays", **people)
    await feedback(factory, first, interviewer, overall=3)
    await feedback(factory, first, interviewee, overall=5)
    second = await completed(
        factory, category="graphs", scheduled_in=timedelta(days=15), minutes=30, **people
    )
    await feedback(factory, second, interviewer, overall=5, communication=5)
    await feedback(factory, second, interviewee)
    await completed(factory, category="graphs", **people)
    return admin, interviewer, interviewee


def weeks_between(weekly: list[dict[str, Any]]) -> int:
    """How many weeks a chart over time draws: every week from the first listed to the last."""
    if not weekly:
        return 0
    first = date.fromisoformat(weekly[0]["week_start"])
    last = date.fromisoformat(weekly[-1]["week_start"])
    return (last - first).days // 7 + 1


def every_week(weekly: list[dict[str, Any]], figure: str) -> list[str]:
    """What a chart over time draws, week by week: `figure` of each week listed, 0 for the
    weeks between them that are not."""
    listed = {week["week_start"]: str(week[figure]) for week in weekly}
    if not weekly:
        return []
    first = date.fromisoformat(weekly[0]["week_start"])
    return [
        listed.get((first + timedelta(weeks=n)).isoformat(), "0")
        for n in range(weeks_between(weekly))
    ]


def shown(value: float | None) -> str:
    """A figure as JavaScript prints it (4.0 is "4")."""
    return "" if value is None else f"{value:g}"


def chart(scope: Locator, title: str) -> Locator:
    return scope.get_by_role("figure", name=title)


async def values(figure: Locator, shape: str) -> list[str]:
    marks = figure.locator(f"svg [data-value].{shape}")
    return [str(await m.get_attribute("data-value")) for m in await marks.all()]


async def test_my_analytics_draws_my_sessions_and_ratings_as_the_api_counts_them(
    browser: Browser, served: Served, factory: Factory
) -> None:
    _, _, interviewee = await practice(factory)
    answer = await factory.client.get("/api/analytics/me", headers=interviewee.headers)
    mine = answer.json()
    assert mine["sessions"]["completed"] == 3
    assert len(mine["by_category"]) == 2
    tab = await signed_in(browser, served, interviewee, viewport=DESKTOP)
    page = tab.page
    await page.goto("/#/analytics")
    await expect(page.get_by_role("heading", name="My analytics", level=1)).to_be_visible()
    main = page.locator("main")
    await expect(
        main.locator(".stat", has_text="Completed sessions").locator(".value")
    ).to_have_text("3")
    await expect(
        main.locator(".stat", has_text="Minutes practised").locator(".value")
    ).to_have_text(shown(mine["minutes_practised"]))
    weekly = chart(main, "Sessions per week")
    await expect(weekly.locator("svg[role=img]")).to_be_visible()
    assert await weekly.locator("circle.point").count() == weeks_between(mine["weekly"])
    listed = {w["week_start"]: str(w["sessions"]) for w in mine["weekly"]}
    drawn = [v for v in await values(weekly, "point") if v != "0"]
    assert drawn == list(listed.values())
    by_category = chart(main, "Sessions by category")
    assert await values(by_category, "bar") == [str(c["sessions"]) for c in mine["by_category"]]
    ratings = chart(main, "Ratings received")
    received = mine["ratings_received"]
    expected = [shown(received[k]) for k in ("communication", "problem_solving", "technical")]
    assert (await values(ratings, "bar"))[:3] == expected
    await screenshot(page, "analytics")
    # The figures are there for screen readers too: the SVG's label and the data table.
    label = await by_category.locator("svg").get_attribute("aria-label")
    assert label is not None
    assert "arrays: 1" in label
    assert "graphs: 2" in label
    await by_category.get_by_text("Show the data").click()
    await expect(by_category.get_by_role("row", name="graphs 2")).to_be_visible()
    # A period in the far future has nothing in it; a period that ends before it starts is
    # refused by the API, and its message is shown by the field.
    picker = page.get_by_role("form", name="Period")
    await picker.get_by_label("From").fill("2999-01-01")
    await picker.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("status").filter(has_text="Showing from")).to_be_visible()
    await expect(chart(main, "Sessions per week").get_by_text("No data yet")).to_be_visible()
    await expect(
        main.locator(".stat", has_text="Completed sessions").locator(".value")
    ).to_have_text("0")
    await picker.get_by_label("To").fill("2998-01-01")
    await picker.get_by_role("button", name="Show").click()
    await expect(picker.locator("[data-field=until] .field-error")).to_be_visible()
    await picker.get_by_role("button", name="All time").click()
    await expect(
        main.locator(".stat", has_text="Completed sessions").locator(".value")
    ).to_have_text("3")
    assert tab.unexpected_errors("status of 422") == []
    await tab.context.close()


async def test_platform_analytics_draws_the_funnel_outcomes_and_ratings_for_admins(
    browser: Browser, served: Served, factory: Factory
) -> None:
    admin, _, _ = await practice(factory)
    platform = (await factory.client.get("/api/analytics/platform", headers=admin.headers)).json()
    tab = await signed_in(browser, served, admin, viewport=DESKTOP)
    page = tab.page
    await page.goto("/#/admin/analytics")
    await expect(page.get_by_role("heading", name="Platform analytics", level=1)).to_be_visible()
    main = page.locator("main")
    sessions = platform["sessions"]
    outcomes = chart(main, "Sessions by outcome")
    await expect(outcomes.locator("svg")).to_be_visible()
    order = ["completed", "auto_timeout", "no_show", "cancelled", "live", "scheduled"]
    assert await values(outcomes, "bar") == [str(sessions[k]) for k in order]
    funnel = chart(main, "Requests by outcome")
    order = ["accepted", "expired", "cancelled", "open"]
    assert await values(funnel, "bar") == [str(platform["funnel"][k]) for k in order]
    by_category = platform["ratings_by_category"]
    ratings = chart(main, "Overall rating by category")
    assert await values(ratings, "bar") == [shown(c["average_overall"]) for c in by_category]
    active = chart(main, "Active people per week")
    assert await active.locator("circle.point").count() == weeks_between(
        platform["active_users_weekly"]
    )
    # Sessions by the week they were created in (the server's clock is the wall clock's).
    weekly = platform["sessions_weekly"]
    assert sum(week["sessions"] for week in weekly) == sum(sessions.values())
    per_week = chart(main, "Sessions per week")
    await expect(per_week.locator("svg[role=img]")).to_be_visible()
    drawn = await values(per_week, "bar")
    assert drawn == every_week(weekly, "sessions")
    # The third session is created 15 days after the second: a whole week without any
    # between them, drawn as a zero column.
    assert "0" in drawn
    label = await per_week.locator("svg").get_attribute("aria-label")
    assert label is not None
    assert label.startswith("Sessions per week. ")
    rates = chart(main, "Completion and no-show rates")
    assert await values(rates, "bar") == ["100", "0", "0"]
    await expect(main.locator(".stat", has_text="Requests posted").locator(".value")).to_have_text(
        str(platform["funnel"]["created"])
    )
    await screenshot(page, "platform-analytics")
    assert tab.unexpected_errors() == []
    await tab.context.close()
