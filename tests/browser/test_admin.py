"""The admin pages in Chromium: the question bank (create, edit, soft delete, restore, the
permanent delete and its refusal for a question a session used; docs/api.md §6) and the
users (role change, deactivation, the last active admin kept; §3.2)."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser.conftest import Served
from tests.browser.test_dashboards import signed_in
from tests.factories import Factory
from tests.flow import accepted

QUESTION = {
    "title": "Rotate a matrix",
    "prompt": "Rotate an n by n matrix by 90 degrees in place.",
    "category": "arrays",
    "difficulty": "MEDIUM",
    "type": "CODING",
}


async def test_admins_create_edit_delete_and_restore_questions_and_a_used_one_stays(
    browser: Browser, served: Served, factory: Factory
) -> None:
    admin = await factory.admin()
    # A question a session used, then soft-deleted: it can never be deleted for good.
    made = await factory.client.post("/api/questions", json=QUESTION, headers=admin.headers)
    used = made.json()
    flow = await accepted(factory)
    added = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/questions",
        json={"question_id": used["id"]},
        headers=flow.interviewer.headers,
    )
    assert added.status_code == 201, added.text
    gone = await factory.client.delete(f"/api/questions/{used['id']}", headers=admin.headers)
    assert gone.status_code == 204

    tab = await signed_in(browser, served, admin)
    page = tab.page
    await page.goto("/#/admin/questions")
    await expect(page.get_by_role("heading", name="Question bank", level=1)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="Page 1")).to_have_text(
        "Page 1: 0 questions."
    )

    # Create: the API's field errors are shown by the fields they name (a list item's too).
    await page.get_by_role("button", name="New question").click()
    form = page.get_by_role("form", name="New question")
    await form.get_by_label("Category").fill("Intervals")
    await form.get_by_label("Prompt").fill("Merge every overlapping interval of a list.")
    await form.get_by_label("Tags").fill("sorting, " + "x" * 41)
    await form.get_by_label("Hints").fill("Sort by start\n\nThen sweep once")
    await form.get_by_label("Difficulty").select_option("EASY")
    await form.get_by_role("button", name="Create question").click()
    await expect(form.locator("[data-field=title] .field-error")).to_be_visible()
    await expect(form.locator("[data-field=tags] .field-error")).to_contain_text("Tag 2")
    await form.get_by_label("Title").fill("Merge intervals")
    await form.get_by_label("Tags").fill("sorting, sweep")
    await form.get_by_role("button", name="Create question").click()
    row = page.locator("li.question", has_text="Merge intervals")
    await expect(row).to_contain_text("Category: intervals")
    await expect(row.get_by_role("list", name="Tags").get_by_role("listitem")).to_have_text(
        ["sorting", "sweep"]
    )
    listed = await factory.client.get("/api/questions", headers=admin.headers)
    created = next(q for q in listed.json()["items"] if q["title"] == "Merge intervals")
    assert created["hints"] == ["Sort by start", "Then sweep once"]
    assert created["difficulty"] == "EASY"
    assert created["type"] == "CODING"

    # Edit.
    await row.get_by_role("button", name="Edit").click()
    form = page.get_by_role("form", name="Edit “Merge intervals”")
    await expect(form.get_by_label("Hints")).to_have_value("Sort by start\nThen sweep once")
    await form.get_by_label("Title").fill("Merge overlapping intervals")
    await form.get_by_label("Type").select_option("CONCEPTUAL")
    await form.get_by_role("button", name="Save changes").click()
    row = page.locator("li.question", has_text="Merge overlapping intervals")
    await expect(row).to_contain_text("Conceptual")

    # Search and filters.
    filters = page.get_by_role("search", name="Filter questions")
    await filters.get_by_label("Search").fill("overlapping")
    await filters.get_by_role("button", name="Search").click()
    await expect(page.locator("li.question")).to_have_count(1)
    await filters.get_by_label("Search").fill("")
    await filters.get_by_label("Type").select_option("CODING")
    await filters.get_by_role("button", name="Search").click()
    await expect(page.locator("li.question")).to_have_count(0)
    await expect(page.get_by_role("list", name="Questions")).to_have_text("No questions match.")
    await filters.get_by_label("Type").select_option("")

    # Soft delete: it leaves the bank; "show deleted" lists it, and it can be restored.
    await filters.get_by_role("button", name="Search").click()
    await row.get_by_role("button", name="Delete").click()
    await expect(row).to_have_count(0)
    await filters.get_by_label("Show deleted questions too").check()
    await filters.get_by_role("button", name="Search").click()
    await expect(row.locator(".badge-deleted")).to_be_visible()
    await row.get_by_role("button", name="Restore").click()
    await expect(row.locator(".badge-deleted")).to_have_count(0)
    await expect(row.get_by_role("button", name="Edit")).to_be_visible()

    # The used question cannot be deleted for good: the API's reason is shown on its row.
    used_row = page.locator("li.question", has_text=QUESTION["title"])
    await used_row.get_by_role("button", name="Delete permanently").click()
    await used_row.get_by_role("button", name="Yes, delete for good").click()
    refusal = used_row.get_by_role("alert")
    await expect(refusal).to_be_visible()
    answer = await factory.client.delete(
        f"/api/questions/{used['id']}", params={"hard": "true"}, headers=admin.headers
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "HARD_DELETE_GUARDED"
    await expect(refusal).to_have_text(answer.json()["detail"])

    # An unused one, soft-deleted first, goes for good (by keyboard: the toast of the restore
    # may still cover the button for the mouse).
    await row.get_by_role("button", name="Delete").press("Enter")
    await expect(row.get_by_role("button", name="Delete permanently")).to_be_visible()
    await row.get_by_role("button", name="Delete permanently").press("Enter")
    await row.get_by_role("button", name="Yes, delete for good").press("Enter")
    await expect(row).to_have_count(0)
    await expect(used_row).to_have_count(1)
    found = await factory.client.get(f"/api/questions/{created['id']}", headers=admin.headers)
    assert found.status_code == 404
    assert tab.unexpected_errors("status of 422", "status of 409") == []
    await tab.context.close()


async def test_admins_change_roles_and_deactivate_but_never_remove_the_last_admin(
    browser: Browser, served: Served, factory: Factory
) -> None:
    admin = await factory.admin()
    person = await factory.interviewee()
    tab = await signed_in(browser, served, admin)
    page = tab.page
    await page.goto("/#/admin/users")
    await expect(page.get_by_role("heading", name="Users", level=1)).to_be_visible()
    row = page.locator("li.user-row", has_text=person.email)
    await row.get_by_label("Role").select_option("INTERVIEWER")
    await row.get_by_role("button", name="Change role").click()
    await expect(row.locator(".badge-interviewer")).to_have_text("Interviewer")
    await row.get_by_role("button", name="Deactivate").click()
    await expect(row.locator(".badge-inactive")).to_have_text("Deactivated")
    await expect(row.get_by_role("button", name="Reactivate")).to_be_focused()
    answer = await factory.client.get("/api/users", headers=admin.headers)
    account = next(u for u in answer.json()["items"] if u["id"] == person.id)
    assert account["role"] == "INTERVIEWER"
    assert account["is_active"] is False
    await row.get_by_role("button", name="Reactivate").click()
    await expect(row.locator(".badge-inactive")).to_have_count(0)

    # The only active admin can neither demote nor deactivate themself: 409 LAST_ADMIN,
    # said by their row, and the role shown stays what it is.
    mine = page.locator("li.user-row", has_text=admin.email)
    await expect(mine).to_contain_text("(you)")
    await mine.get_by_label("Role").select_option("INTERVIEWEE")
    await mine.get_by_role("button", name="Change role").click()
    refusal = mine.get_by_role("alert")
    await expect(refusal).to_be_visible()
    await expect(mine.get_by_label("Role")).to_have_value("ADMIN")
    await mine.get_by_role("button", name="Deactivate").click()
    await expect(refusal).to_be_visible()
    answer = await factory.client.patch(
        f"/api/users/{admin.id}", json={"is_active": False}, headers=admin.headers
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == "LAST_ADMIN"
    await expect(refusal).to_have_text(answer.json()["detail"])
    await expect(mine.locator(".badge-admin")).to_have_text("Admin")

    # Filter by role.
    filters = page.get_by_role("search", name="Filter users")
    await filters.get_by_label("Role").select_option("ADMIN")
    await filters.get_by_role("button", name="Show").click()
    await expect(page.locator("li.user-row")).to_have_count(1)
    assert tab.unexpected_errors("status of 409") == []
    await tab.context.close()
