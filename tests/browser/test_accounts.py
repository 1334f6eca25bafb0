"""Accounts in the browser: sign up as either role with the API's field errors shown, the
profile's name change, and a password change that signs the user out everywhere."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect

from tests.browser.conftest import Served
from tests.browser.pages_support import signed_in
from tests.browser.support import open_tab, screenshot
from tests.factories import DEFAULT_PASSWORD, Factory


async def test_sign_up_shows_the_field_errors_then_signs_in_as_either_role(
    browser: Browser, served: Served, factory: Factory
) -> None:
    taken = await factory.interviewee()
    tab = await open_tab(browser, served.url)
    page = tab.page
    await page.goto("/#/signup")
    await expect(page.get_by_role("heading", name="Sign up")).to_be_visible()
    await page.get_by_label("Name").fill("Ada Lovelace")
    await page.get_by_label("E-mail").fill(taken.email)
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Sign up").click()
    # The API's 422 is shown by the password, then its 409 by the e-mail.
    password_error = page.locator("[data-field=password] .field-error")
    await expect(password_error).to_contain_text("8 characters")
    await expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    await page.get_by_label("Password").fill("correct horse")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.locator("[data-field=email] .field-error")).to_be_visible()
    await expect(password_error).to_be_hidden()
    await screenshot(page, "signup")
    await page.get_by_label("E-mail").fill("ada@example.com")
    await page.get_by_role("button", name="Sign up").click()
    # Signed in, at the interviewee's start page.
    await expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    await expect(page.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    assert tab.unexpected_errors("status of 422", "status of 409") == []
    await tab.context.close()

    tab = await open_tab(browser, served.url)
    page = tab.page
    await page.goto("/#/signup")
    await page.get_by_label("Name").fill("Grace Hopper")
    await page.get_by_label("E-mail").fill("grace@example.com")
    await page.get_by_label("Password").fill("correct horse")
    await page.get_by_label("Interviewer", exact=True).check()
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("heading", name="Open requests")).to_be_visible()
    async with httpx.AsyncClient(base_url=served.url) as http:
        login = await http.post(
            "/api/auth/login", json={"email": "grace@example.com", "password": "correct horse"}
        )
    assert login.json()["user"]["role"] == "INTERVIEWER"
    assert tab.unexpected_errors() == []
    await tab.context.close()


async def test_profile_changes_the_name_and_a_password_change_signs_out(
    browser: Browser, served: Served, factory: Factory
) -> None:
    user = await factory.interviewer()
    tab = await signed_in(browser, served, user, "/profile")
    page = tab.page
    await expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    await page.get_by_label("Name").fill("Grace B. Hopper")
    await page.get_by_label("E-mail me my notifications").uncheck()
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status").filter(has_text="Saved.")).to_be_visible()
    await expect(page.get_by_role("link", name="Grace B. Hopper")).to_be_visible()
    me = await factory.client.get("/api/auth/me", headers=user.headers)
    assert me.json()["name"] == "Grace B. Hopper"
    assert me.json()["email_notifications"] is False
    await screenshot(page, "profile")

    # A wrong current password is shown by its field; the right one signs out.
    await page.get_by_label("Current password").fill("not my password")
    await page.get_by_label("New password").fill("a brand new secret")
    await page.get_by_role("button", name="Change password").click()
    await expect(page.locator("[data-field=current_password] .field-error")).to_be_visible()
    await page.get_by_label("Current password").fill(DEFAULT_PASSWORD)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await expect(page.get_by_text("Please log in again").first).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    await page.get_by_label("E-mail").fill(user.email)
    await page.get_by_label("Password").fill("a brand new secret")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Open requests")).to_be_visible()
    assert tab.unexpected_errors("status of 422") == []
    await tab.context.close()
