// The open-requests board (docs/api.md §4): filters, cursor pages, accept. Nobody pushes
// other interviewers' accepts, so the board reloads on a timer while the tab is visible,
// when it becomes visible again, and on the user's own `session` pushes. A lost race (409)
// is shown on the request's own row, which stays until dismissed.

import { get, post } from "../api.js";
import * as live from "../live.js";
import {
  DIFFICULTIES, TYPES, choices, clearErrors, empty, field, formAlert, formValues, h, heading, label,
  relative, replace, formatTime, showErrors, timeZone, uid,
} from "../ui.js";

const REFRESH_MS = 12_000;
const PAGE_SIZE = 20;

const LOST = {
  REQUEST_NOT_OPEN: "Too late: another interviewer accepted this request, or its owner cancelled it.",
  REQUEST_EXPIRED: "Too late: this request has expired.",
  SCHEDULE_CONFLICT: "You already have a session at that time, so you cannot accept this one.",
  SELF_ACCEPT: "This is your own request.",
  REQUEST_NOT_FOUND: "This request no longer exists.",
};

/** The start of a `date` input's day (or the end, with `end`), in the user's time zone, as ISO. */
function dayBound(value, end = false) {
  if (!value) return undefined;
  const [year, month, day] = value.split("-").map(Number);
  const date = end ? new Date(year, month - 1, day, 23, 59, 59, 999) : new Date(year, month - 1, day);
  return date.toISOString();
}

export async function render(main, { user, navigate }) {
  const canAccept = user.role === "INTERVIEWER";
  let filters = {};
  let cursor = null; // the cursor of the page shown (null: the first)
  const previous = []; // cursors of the pages before it
  let nextCursor = null;
  let items = null; // null until the first load, so an empty first page is painted too
  const pinned = new Map(); // request id → {request, message, gone}: rows with an accept error
  let loading = null;

  const filterForm = h(
    "form",
    { novalidate: true, "aria-labelledby": "board-filters", class: "card" },
    h("h2", { id: "board-filters" }, "Filters"),
    formAlert(),
    h("div", { class: "form-grid" },
      field({ label: "Category", name: "category", maxlength: 64 }),
      field({ label: "Difficulty", name: "difficulty", options: choices(DIFFICULTIES, "Any difficulty") }),
      field({ label: "Type", name: "type", options: choices(TYPES, "Any type") }),
      field({ label: "From", name: "from_day", type: "date", hint: "Starting on or after this day." }),
      field({ label: "To", name: "to_day", type: "date", hint: "Starting on or before this day." })),
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h("button", { type: "reset" }, "Clear filters")),
  );
  const status = h("p", { class: "muted", role: "status" });
  const list = h("div", {});
  const pageLabel = h("span", { class: "muted" });
  const prevButton = h("button", { type: "button", onclick: () => goPrevious() }, "Previous page");
  const nextButton = h("button", { type: "button", onclick: () => goNext() }, "Next page");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of open requests" }, pageLabel, prevButton, nextButton);

  function readFilters() {
    const values = formValues(filterForm);
    return {
      category: values.category.trim() || undefined,
      difficulty: values.difficulty || undefined,
      type: values.type || undefined,
      from: dayBound(values.from_day),
      to: dayBound(values.to_day, true),
    };
  }

  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(filterForm);
    filters = readFilters();
    cursor = null;
    previous.length = 0;
    load({ announce: true });
  });
  filterForm.addEventListener("reset", () => {
    // After the form has cleared itself.
    setTimeout(() => {
      filters = {};
      cursor = null;
      previous.length = 0;
      load({ announce: true });
    });
  });

  async function load({ announce = false } = {}) {
    const ticket = {};
    loading = ticket;
    list.setAttribute("aria-busy", "true");
    try {
      const page = await get("/api/interview-requests/open", { ...filters, limit: PAGE_SIZE, cursor });
      if (loading !== ticket) return;
      if (page.items.length === 0 && previous.length > 0) {
        // The page emptied (its requests were taken): step back one.
        cursor = previous.pop();
        load({ announce });
        return;
      }
      const changed = JSON.stringify([page.items, page.next_cursor]) !== JSON.stringify([items, nextCursor]);
      items = page.items;
      nextCursor = page.next_cursor;
      if (changed || announce) paint();
      if (announce) {
        status.textContent = items.length
          ? `Showing ${items.length} open request${items.length === 1 ? "" : "s"}, page ${previous.length + 1}.`
          : "No open requests match.";
      }
    } catch (error) {
      if (loading !== ticket) return;
      if (error.fields && Object.keys(error.fields).length) {
        showErrors(filterForm, error);
      } else if (error.code === "INVALID_CURSOR") {
        cursor = null;
        previous.length = 0;
        load({ announce });
      } else {
        status.textContent = `Could not load the board: ${error.message}`;
      }
    } finally {
      if (loading === ticket) list.removeAttribute("aria-busy");
    }
  }

  function goNext() {
    if (!nextCursor) return;
    previous.push(cursor);
    cursor = nextCursor;
    load({ announce: true });
  }

  function goPrevious() {
    if (previous.length === 0) return;
    cursor = previous.pop();
    load({ announce: true });
  }

  function paint(focusAlertOf = null) {
    // A refresh keeps the keyboard where it was: on the same control of the same request.
    const active = document.activeElement;
    const activeRow = list.contains(active) ? active.closest("li[data-request-id]")?.dataset.requestId : null;
    const activeText = activeRow ? active.textContent : null;
    const shown = new Set(items.map((item) => item.id));
    const rows = items.map((item) => ({ request: item, pin: pinned.get(item.id) }));
    for (const [id, pin] of pinned) {
      if (!shown.has(id)) rows.push({ request: pin.request, pin: { ...pin, gone: true } });
    }
    rows.sort((a, b) => a.request.scheduled_at.localeCompare(b.request.scheduled_at) || a.request.id.localeCompare(b.request.id));
    replace(list, rows.length
      ? h("ul", { class: "list" }, rows.map(({ request, pin }) => row(request, pin)))
      : empty("No open requests right now."));
    pageLabel.textContent = `Page ${previous.length + 1}`;
    prevButton.disabled = previous.length === 0;
    nextButton.disabled = !nextCursor;
    pager.hidden = previous.length === 0 && !nextCursor;
    const focusRow = focusAlertOf || activeRow;
    if (focusRow) {
      const li = list.querySelector(`li[data-request-id="${CSS.escape(focusRow)}"]`);
      const target = focusAlertOf
        ? li?.querySelector("[role=alert]")
        : [...(li?.querySelectorAll("button, [role=alert]") || [])].find((b) => b.textContent === activeText);
      target?.focus();
    }
  }

  function row(request, pin) {
    const titleId = uid("open");
    return h(
      "li",
      { dataset: { requestId: request.id }, "aria-labelledby": titleId, class: pin?.gone ? "gone" : null },
      h("div", { class: "row" },
        h("h3", { id: titleId }, `${request.category} · ${label(request.difficulty)} · ${label(request.type)}`),
        h("span", { class: "muted" }, request.interviewee.name)),
      h("ul", { class: "meta" },
        h("li", {}, h("time", { datetime: request.scheduled_at }, formatTime(request.scheduled_at)),
          ` (${relative(request.scheduled_at)})`),
        h("li", {}, `${request.duration_minutes} min`),
        h("li", {}, `Open until ${formatTime(request.expires_at)}`)),
      request.note ? h("p", {}, request.note) : null,
      pin ? h("p", { class: "form-alert", role: "alert", tabindex: "-1" }, pin.message) : null,
      h("div", { class: "actions" },
        canAccept && !pin?.gone
          ? h("button", { type: "button", class: "primary", "aria-describedby": titleId,
              onclick: (event) => accept(request, event.currentTarget) }, "Accept")
          : null,
        pin ? h("button", { type: "button", class: "link", onclick: () => dismiss(request.id) }, "Dismiss") : null),
    );
  }

  function dismiss(id) {
    pinned.delete(id);
    paint();
  }

  async function accept(request, button) {
    button.disabled = true;
    pinned.delete(request.id);
    try {
      const session = await post(`/api/interview-requests/${encodeURIComponent(request.id)}/accept`);
      navigate(`#/sessions/${encodeURIComponent(session.id)}`);
    } catch (error) {
      const message = LOST[error.code] || error.message;
      pinned.set(request.id, { request, message });
      paint(request.id);
      await load();
    }
  }

  main.append(
    heading("Open requests"),
    h("div", { class: "stack" },
      canAccept
        ? null
        : h("p", { class: "notice" }, "Admins see the board read-only: only interviewers accept requests."),
      filterForm,
      h("section", { "aria-labelledby": "board-list" },
        h("div", { class: "row" },
          h("h2", { id: "board-list" }, "Requests waiting for an interviewer"),
          h("span", { class: "muted" }, `Times in ${timeZone}. Refreshed every few seconds.`)),
        status, list, pager)),
  );
  await load();

  const timer = setInterval(() => {
    if (document.visibilityState === "visible") load();
  }, REFRESH_MS);
  const onVisible = () => {
    if (document.visibilityState === "visible") load();
  };
  document.addEventListener("visibilitychange", onVisible);
  const stop = live.on("session", () => load());
  return () => {
    clearInterval(timer);
    document.removeEventListener("visibilitychange", onVisible);
    stop();
    loading = null;
  };
}
