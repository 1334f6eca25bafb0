"""First run in the browser (docs/api.md §3.5): the login page points to setup while no admin
exists, the setup code from the server's log makes the first admin, and then setup is closed."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.conftest import Served
from tests.browser.support import open_tab
from tests.setup.support import issue_code


async def test_the_first_admin_is_made_in_the_browser_with_the_setup_code(
    browser: Browser, served: Served
) -> None:
    code = await issue_code(served.app)
    tab = await open_tab(browser, served.url)
    page = tab.page
    await page.goto("/")
    await page.get_by_role("link", name="set up Peerview").click()
    await expect(page.get_by_role("heading", name="Set up Peerview")).to_be_visible()
    await page.get_by_label("Setup code").fill("AAAA-BBBB-CCCC")
    await page.get_by_label("Name").fill("Ada Admin")
    await page.get_by_label("E-mail").fill("ada@example.com")
    await page.get_by_label("Password").fill("first admin password")
    await page.get_by_role("button", name="Create the administrator").click()
    # The API's refusal is shown by the code's field.
    await expect(page.locator("[data-field=code] .field-error")).to_be_visible()
    await expect(page.get_by_label("Setup code")).to_have_attribute("aria-invalid", "true")
    # Typed as the log shows it or not: case, spaces and dashes do not matter.
    await page.get_by_label("Setup code").fill(code.lower().replace("-", " "))
    await page.get_by_role("button", name="Create the administrator").click()
    await expect(page.get_by_role("heading", name="Question bank")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Users")).to_be_visible()
    # Setup is closed now: the page says so, and the login page no longer points to it.
    await page.goto("/#/setup")
    await expect(page.get_by_role("heading", name="Peerview is set up")).to_be_visible()
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.locator("#main").get_by_role("link", name="Sign up")).to_be_visible()
    await expect(page.get_by_role("link", name="set up Peerview")).to_be_hidden()
    # The only console error is the browser's report of the refused code (403).
    assert tab.unexpected_errors("status of 403") == []
    await tab.context.close()
