"""The accessibility smoke over every route of the app, for a role that may open it, with data
present: every form control has an accessible name, buttons and links have names, images have
alt text, no console error or uncaught exception, and no horizontal scroll on a phone
(375 by 740 pixels). Also the README's screenshots of the main pages at desktop size."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Served
from tests.browser.room_support import seed_bank
from tests.browser.support import ROOT, Tab, open_tab, screenshot
from tests.browser.test_dashboards import DESKTOP, feedback, signed_in
from tests.factories import Factory, TestUser
from tests.flow import accepted, completed, live, post_request
from tests.practice.support import interviewer_of

MAIN_JS = ROOT / "src" / "peerview" / "web" / "static" / "assets" / "js" / "main.js"
PHONE = {"width": 375, "height": 740}

# What a page must satisfy, judged in the page itself: a list of problems, each a sentence.
AUDIT = """() => {
  const problems = [];
  const text = (el) => (el ? (el.innerText || el.textContent || "").trim() : "");
  const describe = (el) => {
    const bits = [el.tagName.toLowerCase()];
    if (el.id) bits.push(`#${el.id}`);
    if (el.name) bits.push(`[name=${el.name}]`);
    if (el.type && el.tagName !== "BUTTON") bits.push(`[type=${el.type}]`);
    const classes = typeof el.className === "string" ? el.className.trim() : "";
    if (classes) bits.push(`.${classes.split(/\\s+/).join(".")}`);
    return bits.join("");
  };
  const labelledBy = (el) => (el.getAttribute("aria-labelledby") || "").split(/\\s+/)
    .filter(Boolean).map((id) => text(document.getElementById(id))).join(" ").trim();
  const named = (el) => Boolean(
    (el.getAttribute("aria-label") || "").trim() || labelledBy(el)
    || [...(el.labels || [])].some((label) => text(label) || label.textContent.trim()));
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    if (!named(el)) problems.push(`form control without a label: ${describe(el)}`);
  }
  for (const el of document.querySelectorAll("button, [role=button]")) {
    const name = (el.getAttribute("aria-label") || "").trim() || labelledBy(el)
      || el.textContent.trim() || (el.getAttribute("title") || "").trim();
    if (!name) problems.push(`button without a name: ${describe(el)}`);
  }
  for (const el of document.querySelectorAll("a[href]")) {
    const name = (el.getAttribute("aria-label") || "").trim() || labelledBy(el)
      || el.textContent.trim() || [...el.querySelectorAll("img[alt]")].map((i) => i.alt).join("");
    if (!name) problems.push(`link without a name: ${describe(el)}`);
  }
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push(`image without alt: ${describe(el)}`);
  }
  for (const el of document.querySelectorAll("svg[role=img]")) {
    if (!(el.getAttribute("aria-label") || "").trim() && !labelledBy(el)) {
      problems.push(`svg image without a label: ${describe(el)}`);
    }
  }
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, count] of ids) if (count > 1) problems.push(`id used ${count} times: ${id}`);
  const titles = document.querySelectorAll("main h1").length;
  if (titles !== 1) problems.push(`${titles} h1 in main, not one`);
  const wide = document.documentElement.scrollWidth;
  if (wide > window.innerWidth) {
    const culprits = [...document.querySelectorAll("main *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((el) => !el.closest(".table-wrap, pre"))
      .slice(0, 3).map(describe);
    problems.push(`scrolls sideways on a phone: ${wide} px wide (${culprits.join(", ")})`);
  }
  return problems;
}"""


@dataclass
class World:
    """Somebody of each role, and data for each page to show."""

    admin: TestUser
    interviewer: TestUser
    interviewee: TestUser
    past_id: str
    unrated_id: str
    live_id: str
    upcoming_id: str
    practice_done_id: str
    practice_live_id: str


async def world(factory: Factory, served: Served) -> World:
    admin = await factory.admin()
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    people = {"interviewer": interviewer, "interviewee": interviewee}
    await seed_bank(served.app)
    past = await completed(factory, category="arrays", **people)
    await feedback(factory, past, interviewer)
    await feedback(factory, past, interviewee, overall=5)
    unrated = await completed(factory, category="graphs", scheduled_in=timedelta(days=9), **people)
    now_live = await live(factory, category="heaps", **people)
    upcoming = await accepted(factory, category="dynamic programming", **people)
    # Open requests for the board, by another interviewee too.
    other = await factory.interviewee()
    await post_request(factory, interviewee, category="strings", note="Tries, please.")
    await post_request(factory, other, category="system design", type="SYSTEM_DESIGN")
    # Practice with the AI interviewer: one ended (its feedback written), one going on.
    practice_done = await practice(factory, interviewee)
    ended = await factory.client.post(
        f"/api/interview-sessions/{practice_done}/end", headers=interviewee.headers
    )
    assert ended.status_code == 200, ended.text
    await interviewer_of(served.app).idle()
    practice_live = await practice(factory, interviewee)
    return World(
        admin,
        interviewer,
        interviewee,
        past.id,
        unrated.id,
        now_live.id,
        upcoming.id,
        practice_done,
        practice_live,
    )


async def practice(factory: Factory, interviewee: TestUser) -> str:
    """A practice session of the starter bank's easy string questions (it has two)."""
    body = {"category": "strings", "difficulty": "EASY", "type": "CODING"}
    answer = await factory.client.post(
        "/api/practice-sessions", json=body, headers=interviewee.headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["session"]["id"])


def routes_of_the_app() -> set[str]:
    """Every route main.js declares (`/sessions/:id` and so on)."""
    return set(re.findall(r'\{ path: "([^"]+)"', MAIN_JS.read_text()))


def pages_for(w: World) -> dict[str, list[tuple[str, str]]]:
    """(route, address) pairs to visit, by who visits them ("" for nobody signed in)."""
    return {
        "": [("/login", "/login"), ("/signup", "/signup"), ("/setup", "/setup")],
        "INTERVIEWEE": [
            ("/requests", "/requests"),
            ("/sessions", "/sessions"),
            ("/sessions/:id", f"/sessions/{w.past_id}"),
            ("/sessions/:id", f"/sessions/{w.unrated_id}"),
            ("/sessions/:id", f"/sessions/{w.upcoming_id}"),
            ("/feedback", "/feedback"),
            ("/notifications", "/notifications"),
            ("/analytics", "/analytics"),
            ("/profile", "/profile"),
            ("/room/:id", f"/room/{w.upcoming_id}"),
            ("/room/:id", f"/room/{w.live_id}"),
            ("/practice", "/practice"),
            ("/practice/:id", f"/practice/{w.practice_done_id}"),
            ("/practice/:id", f"/practice/{w.practice_live_id}"),
            ("/sessions/:id", f"/sessions/{w.practice_done_id}"),
        ],
        "INTERVIEWER": [
            ("/board", "/board"),
            ("/sessions", "/sessions"),
            ("/sessions/:id", f"/sessions/{w.past_id}"),
            ("/sessions/:id", f"/sessions/{w.unrated_id}"),
            ("/sessions/:id", f"/sessions/{w.upcoming_id}"),
            ("/feedback", "/feedback"),
            ("/notifications", "/notifications"),
            ("/analytics", "/analytics"),
            ("/profile", "/profile"),
            ("/room/:id", f"/room/{w.upcoming_id}"),
            ("/room/:id", f"/room/{w.live_id}"),
        ],
        "ADMIN": [
            ("/board", "/board"),
            ("/sessions", "/sessions"),
            ("/admin/questions", "/admin/questions"),
            ("/admin/users", "/admin/users"),
            ("/admin/analytics", "/admin/analytics"),
            ("/analytics", "/analytics"),
            ("/notifications", "/notifications"),
            ("/feedback", "/feedback"),
            ("/profile", "/profile"),
            ("/practice/:id", f"/practice/{w.practice_done_id}"),
            ("/practice/:id", f"/practice/{w.practice_live_id}"),
            ("/no/such/page", "/no/such/page"),
        ],
    }


async def settled(page: Page) -> None:
    """The page rendered and its data arrived: an h1, the router done, the network quiet."""
    await expect(page.locator("main h1")).to_have_count(1)
    await expect(page.locator("main[aria-busy]")).to_have_count(0)
    await page.wait_for_load_state("networkidle")


async def audit(tab: Tab, address: str) -> list[str]:
    """Open `address` in the tab's app and list what is wrong on it."""
    before = len(tab.errors)
    if tab.page.url.endswith("about:blank") or "#" not in tab.page.url:
        await tab.page.goto(f"/#{address}")
    else:
        await tab.page.evaluate("(hash) => { window.location.hash = hash; }", f"#{address}")
    await expect(tab.page).to_have_url(re.compile(re.escape(f"#{address}") + "$"))
    await settled(tab.page)
    problems: list[str] = await tab.page.evaluate(AUDIT)
    problems += tab.errors[before:]
    return [f"{address}: {problem}" for problem in problems]


async def visit_all(
    browser: Browser, served: Served, user: TestUser | None, pages: Any
) -> list[str]:
    if user is None:
        tab = await open_tab(browser, served.url, viewport=PHONE)
    else:
        tab = await signed_in(browser, served, user, viewport=PHONE)
    problems: list[str] = []
    for _, address in pages:
        problems += await audit(tab, address)
    await tab.context.close()
    return problems


async def test_the_smoke_covers_every_route_of_the_app(
    browser: Browser, served: Served, factory: Factory
) -> None:
    w = await world(factory, served)
    covered = {route for visits in pages_for(w).values() for route, _ in visits}
    assert routes_of_the_app() - covered == set()


async def test_every_page_of_the_signed_out_and_the_interviewee_is_labelled_and_fits_a_phone(
    browser: Browser, served: Served, factory: Factory
) -> None:
    w = await world(factory, served)
    pages = pages_for(w)
    problems = await visit_all(browser, served, None, pages[""])
    problems += await visit_all(browser, served, w.interviewee, pages["INTERVIEWEE"])
    assert problems == [], "\n".join(problems)


async def test_every_page_of_the_interviewer_is_labelled_and_fits_a_phone(
    browser: Browser, served: Served, factory: Factory
) -> None:
    w = await world(factory, served)
    problems = await visit_all(browser, served, w.interviewer, pages_for(w)["INTERVIEWER"])
    assert problems == [], "\n".join(problems)


async def test_every_page_of_the_admin_is_labelled_and_fits_a_phone(
    browser: Browser, served: Served, factory: Factory
) -> None:
    w = await world(factory, served)
    problems = await visit_all(browser, served, w.admin, pages_for(w)["ADMIN"])
    assert problems == [], "\n".join(problems)


async def test_screenshots_of_the_main_pages_at_desktop_size(
    browser: Browser, served: Served, factory: Factory
) -> None:
    """The sessions list and the question bank for the README (the board, requests, analytics
    and room pictures are written by those pages' own tests)."""
    w = await world(factory, served)
    tab = await signed_in(browser, served, w.interviewee, viewport=DESKTOP)
    # The data was made by moving the server's clock ahead: the browser's follows it, so the
    # countdowns read as they would on the day.
    await tab.context.clock.install(time=served.clock.now())
    await tab.page.goto("/#/sessions")
    await settled(tab.page)
    await screenshot(tab.page, "sessions")
    await tab.context.close()
    tab = await signed_in(browser, served, w.admin, viewport=DESKTOP)
    await tab.page.goto("/#/admin/questions")
    await settled(tab.page)
    await expect(tab.page.locator("li.question")).to_have_count(20)
    await screenshot(tab.page, "admin-questions")
    assert tab.unexpected_errors() == []
    await tab.context.close()
