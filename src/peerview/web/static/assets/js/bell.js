// The notifications bell in the header: the unread count, kept live over Socket.IO
// (docs/api.md §9), and a panel of the latest notifications with mark read / mark all read.

import { get, post } from "./api.js";
import * as live from "./live.js";
import { failed, h, relative, replace } from "./ui.js";

let stop = null;

/** Where a notification leads. */
export function notificationHref(note) {
  if (note.session_id) return `#/sessions/${encodeURIComponent(note.session_id)}`;
  if (note.request_id) return "#/requests";
  return "#/notifications";
}

const SVG = "http://www.w3.org/2000/svg";

/** The bell drawn in SVG (no icon font: the app loads nothing from elsewhere). */
function bellIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  svg.setAttribute("class", "bell-icon");
  for (const d of [
    "M12 3a6 6 0 0 0-6 6v3.6L4.3 15.4A1 1 0 0 0 5.2 17h13.6a1 1 0 0 0 .9-1.6L18 12.6V9a6 6 0 0 0-6-6z",
    "M9.5 19a2.5 2.5 0 0 0 5 0",
  ]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "1.8");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
  }
  return svg;
}

export function mountBell(container) {
  if (stop) stop();
  let unread = [];
  let open = false;
  const count = h("span", { class: "bell-count", "aria-hidden": "true" });
  const button = h("button", {
    type: "button",
    class: "bell",
    "aria-expanded": "false",
    "aria-controls": "bell-panel",
    onclick: () => toggle(!open),
  });
  const panel = h("div", { id: "bell-panel", class: "bell-panel", hidden: true });
  replace(container, button, panel);

  function paint() {
    const n = unread.length;
    replace(button, bellIcon(), count);
    button.setAttribute("aria-label", n ? `Notifications, ${n} unread` : "Notifications, none unread");
    count.textContent = n ? String(n > 99 ? "99+" : n) : "";
    count.hidden = n === 0;
    if (open) paintPanel();
  }

  function paintPanel() {
    const items = unread.slice(0, 8);
    replace(
      panel,
      h("div", { class: "bell-head" },
        h("h2", {}, "Notifications"),
        h("button", { type: "button", class: "link", disabled: unread.length === 0, onclick: readAll },
          "Mark all read")),
      items.length
        ? h("ul", { class: "bell-list" }, items.map((note) =>
            h("li", { class: "bell-item" },
              h("a", { href: notificationHref(note), onclick: () => toggle(false) }, h("strong", {}, note.title)),
              h("p", {}, note.body),
              h("p", { class: "muted" }, relative(note.created_at)),
              h("button", { type: "button", class: "link", onclick: () => readOne(note) }, "Mark read"))))
        : h("p", { class: "empty" }, "No unread notifications."),
      h("a", { href: "#/notifications", onclick: () => toggle(false) }, "All notifications"),
    );
  }

  function toggle(next) {
    open = next;
    button.setAttribute("aria-expanded", String(open));
    panel.hidden = !open;
    if (open) paintPanel();
  }

  async function load() {
    try {
      const page = await get("/api/notifications", { unread: "true", limit: 100 });
      unread = page.items;
      paint();
    } catch (error) {
      if (error.status !== 401) console.warn(error);
    }
  }

  async function readOne(note) {
    try {
      await post(`/api/notifications/${encodeURIComponent(note.id)}/read`);
      unread = unread.filter((other) => other.id !== note.id);
      paint();
      window.dispatchEvent(new CustomEvent("peerview:notifications-read"));
    } catch (error) {
      failed(error);
    }
  }

  async function readAll() {
    try {
      await post("/api/notifications/read-all");
      unread = [];
      paint();
      window.dispatchEvent(new CustomEvent("peerview:notifications-read"));
    } catch (error) {
      failed(error);
    }
  }

  const onKey = (event) => {
    if (event.key === "Escape" && open) {
      toggle(false);
      button.focus();
    }
  };
  const onOutside = (event) => {
    if (open && !container.contains(event.target)) toggle(false);
  };
  const unsubscribe = [
    live.on("notification", (note) => {
      if (!note.read_at && !unread.some((other) => other.id === note.id)) unread = [note, ...unread];
      paint();
    }),
    live.on("connect", load),
  ];
  const onRead = () => load();
  window.addEventListener("peerview:notifications-changed", onRead);
  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onOutside);
  stop = () => {
    unsubscribe.forEach((fn) => fn());
    window.removeEventListener("peerview:notifications-changed", onRead);
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("click", onOutside);
  };
  paint();
  load();
}
