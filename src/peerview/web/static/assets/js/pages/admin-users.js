// Users for admins (docs/api.md §3.2): every account, filtered by role and paginated; role
// changes, deactivation and reactivation, and the refusal to remove the last active admin
// (409 LAST_ADMIN) shown by the account it was about.

import { get, patch, setUser } from "../api.js";
import { choices, empty, failed, field, formatDay, h, heading, label, onSubmit, replace, toast } from "../ui.js";

const PAGE_SIZE = 20;
const ROLES = ["ADMIN", "INTERVIEWER", "INTERVIEWEE"];

export async function render(main, { user: me, navigate }) {
  const state = { query: {}, cursors: [null], page: 0 };
  const status = h("p", { class: "muted", role: "status", tabindex: "-1" });
  const list = h("ul", { class: "list users", "aria-label": "Users" });
  const previous = h("button", { type: "button", onclick: () => go(state.page - 1) }, "Previous page");
  const next = h("button", { type: "button", onclick: () => go(state.page + 1) }, "Next page");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of users" }, previous, next);

  async function load() {
    const answer = await get("/api/users", {
      ...state.query, limit: PAGE_SIZE, cursor: state.cursors[state.page] || undefined,
    });
    state.cursors[state.page + 1] = answer.next_cursor;
    state.cursors.length = state.page + 2;
    replace(list, answer.items.map(row));
    if (!answer.items.length) list.append(h("li", {}, empty("No users match.")));
    previous.disabled = state.page === 0;
    next.disabled = !answer.next_cursor;
    const count = answer.items.length;
    status.textContent = `Page ${state.page + 1}: ${count} user${count === 1 ? "" : "s"}${answer.next_cursor ? ", more on the next page" : ""}.`;
  }

  async function go(page) {
    state.page = Math.max(0, page);
    try {
      await load();
      status.focus();
    } catch (error) {
      failed(error);
    }
  }

  /** PATCH the account; on success redraw its row, on 409 LAST_ADMIN say so by the row. */
  async function change(item, account, changes, done, focusSelector) {
    const alert = item.querySelector(".inline-alert");
    alert.hidden = true;
    try {
      const updated = await patch(`/api/users/${encodeURIComponent(account.id)}`, changes);
      const fresh = row(updated);
      item.replaceWith(fresh);
      toast(done(updated), "ok");
      fresh.querySelector(focusSelector)?.focus();
      if (updated.id === me.id) {
        setUser(updated);
        if (updated.role !== "ADMIN") navigate("#/");
      }
    } catch (error) {
      if (error.status === 409 || error.status === 404) {
        alert.textContent = error.message;
        alert.hidden = false;
        alert.focus();
        const select = item.querySelector("select");
        if (select) select.value = account.role;
      } else if (error.status !== 401) failed(error);
    }
  }

  function row(account) {
    const you = account.id === me.id;
    const hidden = (text) => h("span", { class: "visually-hidden" }, text);
    const item = h("li", { class: "user-row", dataset: { id: account.id } });
    const roleForm = h(
      "form",
      { class: "role-change" },
      field({
        label: ["Role", hidden(` of ${account.name}`)],
        name: "role",
        options: choices(ROLES),
        value: account.role,
      }),
      h("button", { type: "submit" }, "Change role", hidden(` of ${account.name}`)),
    );
    onSubmit(roleForm, async ({ role }) => {
      if (role === account.role) return;
      await change(item, account, { role }, (u) => `${u.name} is now ${label(u.role).toLowerCase()}.`, "form.role-change button");
    });
    const toggle = h(
      "button",
      {
        type: "button",
        class: "toggle-active",
        onclick: () => change(
          item,
          account,
          { is_active: !account.is_active },
          (u) => (u.is_active ? `${u.name} is active again.` : `${u.name} is deactivated and signed out.`),
          "button.toggle-active",
        ),
      },
      account.is_active ? "Deactivate" : "Reactivate",
      hidden(` ${account.name}`),
    );
    replace(
      item,
      h("div", { class: "row" },
        h("h3", { class: "item-title" }, account.name, you ? " (you)" : null),
        h("span", {},
          h("span", { class: `badge badge-${account.role.toLowerCase()}` }, label(account.role)),
          " ",
          account.is_active ? null : h("span", { class: "badge badge-inactive" }, "Deactivated"))),
      h("ul", { class: "meta" },
        h("li", { class: "email" }, account.email),
        h("li", {}, `Joined ${formatDay(account.created_at)}`),
        h("li", {}, account.email_notifications ? "E-mails on" : "E-mails off")),
      h("div", { class: "actions" }, roleForm, toggle),
      h("p", { class: "inline-alert", role: "alert", tabindex: "-1", hidden: true }),
    );
    return item;
  }

  const filters = h(
    "form",
    { class: "filters card", role: "search", "aria-label": "Filter users" },
    h("div", { class: "form-grid" },
      field({ label: "Role", name: "role", options: choices(ROLES, "Any role") })),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Show")),
  );
  onSubmit(filters, async ({ role }) => {
    state.query = { role };
    state.cursors = [null];
    state.page = 0;
    await load();
  });

  main.append(
    heading("Users"),
    h("p", { class: "muted" },
      "A role change applies from the person's next request; a deactivated account is signed out at once. ",
      "Peerview keeps at least one active admin."),
    filters,
    status,
    list,
    pager,
  );
  await load();
}
