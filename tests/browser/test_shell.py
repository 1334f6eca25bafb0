"""The app's shell in Chromium: served at `/` under its CSP, login, navigation by role, logout."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from tests.browser.conftest import Served
from tests.browser.support import open_tab


async def register(
    url: str, email: str, role: str, name: str = "Ada Lovelace"
) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post(
            "/api/auth/register",
            json={"name": name, "email": email, "password": "correct horse", "role": role},
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())


async def test_the_app_is_served_at_the_root_under_a_strict_csp(
    browser: Browser, served: Served
) -> None:
    tab = await open_tab(browser, served.url)
    response = await tab.page.goto("/")
    assert response is not None
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    # Not signed in: the login page.
    await expect(tab.page.get_by_role("heading", name="Log in")).to_be_visible()
    assert tab.page.url.endswith("#/login")
    assert tab.unexpected_errors() == []
    await tab.context.close()


async def test_logging_in_shows_the_navigation_of_the_role_and_survives_a_reload(
    browser: Browser, served: Served
) -> None:
    await register(served.url, "grace@example.com", "INTERVIEWER", name="Grace Hopper")
    tab = await open_tab(browser, served.url)
    page = tab.page
    await page.goto("/#/login")
    await page.get_by_label("E-mail").fill("grace@example.com")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Log in").click()
    # The API's 401 is shown next to the password.
    await expect(page.locator("[data-field=password] .field-error")).to_have_text(
        "The e-mail or password is not correct"
    )
    await page.get_by_label("Password").fill("correct horse")
    await page.get_by_role("button", name="Log in").click()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Open requests")).to_be_visible()
    await expect(page.get_by_role("link", name="Grace Hopper")).to_be_visible()
    await page.reload()
    await expect(nav.get_by_role("link", name="Open requests")).to_be_visible()
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    # The only console error is the browser's report of the refused login (401).
    assert tab.unexpected_errors("status of 401") == []
    await tab.context.close()
