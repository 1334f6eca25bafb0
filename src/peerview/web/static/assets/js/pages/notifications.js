// All notifications (docs/api.md §9): newest first, page by page, unread marked; mark one
// read or all. The bell is told of every change; live pushes are added at the top.

import { get, post } from "../api.js";
import { notificationHref } from "../bell.js";
import * as live from "../live.js";
import { empty, failed, h, heading, formatTime, relative, replace, uid } from "../ui.js";

function changed() {
  window.dispatchEvent(new CustomEvent("peerview:notifications-changed"));
}

export async function render(main) {
  let cursor = null;
  let unreadOnly = false;
  const notes = new Map(); // id → notification, in list order
  const list = h("ul", { class: "list" });
  const holder = h("div", {});
  const status = h("p", { class: "muted", role: "status" });
  const more = h("button", { type: "button", hidden: true, onclick: () => load() }, "Show more");
  const readAllButton = h("button", { type: "button", onclick: readAll }, "Mark all read");
  const unreadId = uid("unread-only");
  const unreadToggle = h("input", { type: "checkbox", id: unreadId });
  unreadToggle.addEventListener("change", () => {
    unreadOnly = unreadToggle.checked;
    reload();
  });

  function item(note) {
    const titleId = uid("note");
    const unread = !note.read_at;
    return h(
      "li",
      { class: unread ? "unread" : null, dataset: { notificationId: note.id }, "aria-labelledby": titleId },
      h("div", { class: "row" },
        h("h3", { id: titleId }, h("a", { href: notificationHref(note) }, note.title)),
        unread ? h("span", { class: "badge badge-open" }, "Unread") : null),
      h("p", {}, note.body),
      h("p", { class: "muted" }, h("time", { datetime: note.created_at, title: formatTime(note.created_at) }, relative(note.created_at))),
      unread
        ? h("div", { class: "actions" },
            h("button", { type: "button", class: "link", "aria-describedby": titleId, onclick: () => readOne(note) }, "Mark read"))
        : null,
    );
  }

  function paint() {
    const shown = [...notes.values()].filter((note) => !unreadOnly || !note.read_at);
    replace(list, shown.map(item));
    replace(holder, shown.length ? list : empty(unreadOnly ? "No unread notifications." : "No notifications yet."));
    readAllButton.disabled = ![...notes.values()].some((note) => !note.read_at);
  }

  async function load() {
    more.disabled = true;
    try {
      const page = await get("/api/notifications", { limit: 20, cursor, unread: unreadOnly ? "true" : undefined });
      for (const note of page.items) notes.set(note.id, note);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      paint();
    } catch (error) {
      failed(error);
    } finally {
      more.disabled = false;
    }
  }

  function reload() {
    cursor = null;
    notes.clear();
    return load();
  }

  async function readOne(note) {
    try {
      const updated = await post(`/api/notifications/${encodeURIComponent(note.id)}/read`);
      notes.set(note.id, updated);
      paint();
      status.textContent = "Marked read.";
      changed();
    } catch (error) {
      failed(error);
    }
  }

  async function readAll() {
    readAllButton.disabled = true;
    try {
      const answer = await post("/api/notifications/read-all");
      const now = new Date().toISOString();
      for (const [id, note] of notes) if (!note.read_at) notes.set(id, { ...note, read_at: now });
      paint();
      status.textContent = answer.updated === 1 ? "1 notification marked read." : `${answer.updated} notifications marked read.`;
      changed();
    } catch (error) {
      failed(error);
      paint();
    }
  }

  main.append(
    heading("Notifications"),
    h("div", { class: "row" },
      h("div", { class: "field field-check" }, unreadToggle, h("label", { for: unreadId }, "Unread only")),
      h("div", { class: "actions" }, readAllButton)),
    status,
    holder,
    h("div", { class: "pager" }, more),
  );
  await load();

  const onBellRead = () => reload();
  window.addEventListener("peerview:notifications-read", onBellRead);
  const stop = live.on("notification", (note) => {
    if (notes.has(note.id)) return;
    // Newest first: a push goes on top.
    const rest = [...notes.entries()];
    notes.clear();
    notes.set(note.id, note);
    for (const [id, other] of rest) notes.set(id, other);
    paint();
  });
  return () => {
    stop();
    window.removeEventListener("peerview:notifications-read", onBellRead);
  };
}
