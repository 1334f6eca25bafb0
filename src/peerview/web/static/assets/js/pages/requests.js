// The interviewee's requests (docs/api.md §4): post a request, with the schedule rules
// explained before submit, and "My requests" with their status, cancel, and the session
// once accepted. Refreshed when the server pushes REQUEST_ACCEPTED or REQUEST_EXPIRED.

import { all, get, post } from "../api.js";
import * as live from "../live.js";
import {
  DIFFICULTIES, TYPES, badge, choices, empty, failed, field, formAlert, fromLocalInput, h,
  heading, label, onSubmit, relative, replace, formatTime, timeZone, toLocalInput, toast, uid,
} from "../ui.js";

// docs/api.md §2 and §4, on Peerview's default settings: the app cannot read the server's
// settings, so the rules are phrased from the defaults and the API's refusal says the rest.
const EXPIRY_BUFFER_HOURS = 5;
const MAX_DAYS_AHEAD = 60;
const MAX_OPEN = 5;

/** Tomorrow at the next full half hour, a time the rules accept. */
function defaultStart() {
  const start = new Date(Date.now() + 24 * 3600 * 1000);
  start.setSeconds(0, 0);
  start.setMinutes(start.getMinutes() < 30 ? 30 : 60);
  return start;
}

/** The bank's categories (one page is plenty for a suggestion list). */
export async function bankCategories() {
  try {
    const page = await get("/api/questions", { limit: 100 });
    return [...new Set(page.items.map((q) => q.category))].sort();
  } catch {
    return [];
  }
}

function rules() {
  return h(
    "div",
    { class: "notice", id: "request-rules" },
    h("p", {}, h("strong", {}, "Before you post:")),
    h("ul", {},
      h("li", {}, `An interviewer can accept your request until ${EXPIRY_BUFFER_HOURS} hours before it starts; `,
        `after that it expires. So choose a time at least ${EXPIRY_BUFFER_HOURS} hours from now.`),
      h("li", {}, `At most ${MAX_DAYS_AHEAD} days ahead.`),
      h("li", {}, `You can have at most ${MAX_OPEN} open requests at a time.`),
      h("li", {}, `Times are in your time zone, ${timeZone}.`)),
    h("p", { class: "muted" }, "These are Peerview's usual limits; if this server is set up differently, it will say so when you post."),
  );
}

function requestItem(request, onCancel) {
  const titleId = uid("req");
  const status = request.status;
  return h(
    "li",
    { dataset: { requestId: request.id }, "aria-labelledby": titleId },
    h("div", { class: "row" },
      h("h3", { id: titleId }, `${request.category} · ${label(request.difficulty)} · ${label(request.type)}`),
      badge(status)),
    h("ul", { class: "meta" },
      h("li", {}, h("time", { datetime: request.scheduled_at }, formatTime(request.scheduled_at)),
        ` (${relative(request.scheduled_at)})`),
      h("li", {}, `${request.duration_minutes} min`),
      status === "OPEN" ? h("li", {}, `Open until ${formatTime(request.expires_at)}`) : null),
    request.note ? h("p", {}, request.note) : null,
    h("div", { class: "actions" },
      status === "OPEN"
        ? h("button", { type: "button", "aria-describedby": titleId, onclick: (event) => onCancel(request, event.currentTarget) },
            "Cancel request")
        : null,
      status === "ACCEPTED" && request.session_id
        ? h("a", { href: `#/sessions/${encodeURIComponent(request.session_id)}` }, "Open the session")
        : null),
  );
}

export async function render(main) {
  const categories = h("datalist", { id: "request-categories" });
  const when = field({
    label: "Date and time",
    name: "scheduled_at",
    type: "datetime-local",
    required: true,
    value: toLocalInput(defaultStart()),
    hint: `Your time zone: ${timeZone}.`,
  });
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "request-form-title", "aria-describedby": "request-rules" },
    h("h2", { id: "request-form-title" }, "Post a request"),
    rules(),
    formAlert(),
    h("div", { class: "form-grid" },
      field({ label: "Category", name: "category", required: true, maxlength: 64, list: "request-categories",
        hint: "For example arrays, graphs, system-design." }),
      field({ label: "Difficulty", name: "difficulty", options: choices(DIFFICULTIES), value: "MEDIUM" }),
      field({ label: "Type", name: "type", options: choices(TYPES), value: "CODING" }),
      when,
      field({ label: "Duration (minutes)", name: "duration_minutes", type: "number", min: 15, max: 180, step: 5,
        value: 60, required: true, hint: "15 to 180." })),
    field({ label: "Note", name: "note", type: "textarea", maxlength: 1000,
      hint: "Optional: anything the interviewer should know (up to 1000 characters)." }),
    categories,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Post request")),
  );

  const list = h("div", { "aria-busy": "true" });
  const status = h("p", { class: "muted", role: "status" });

  async function load() {
    try {
      const items = await all("/api/interview-requests/mine", {}, 200);
      replace(list, items.length
        ? h("ul", { class: "list" }, items.map((item) => requestItem(item, cancel)))
        : empty("You have not posted any request yet."));
    } catch (error) {
      failed(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  async function cancel(request, button) {
    button.disabled = true;
    try {
      await post(`/api/interview-requests/${encodeURIComponent(request.id)}/cancel`);
      status.textContent = `Request for ${formatTime(request.scheduled_at)} cancelled.`;
    } catch (error) {
      failed(error);
    }
    await load();
  }

  onSubmit(
    form,
    async (values) => {
      const body = {
        category: values.category,
        difficulty: values.difficulty,
        type: values.type,
        scheduled_at: fromLocalInput(values.scheduled_at),
        duration_minutes: values.duration_minutes === "" ? undefined : Number(values.duration_minutes),
        note: values.note,
      };
      if (!body.scheduled_at) {
        throw Object.assign(new Error("Choose a date and time."), {
          status: 422, message: "", fields: { scheduled_at: "Choose a date and time." },
        });
      }
      const created = await post("/api/interview-requests", body);
      toast(`Request posted for ${formatTime(created.scheduled_at)}.`, "ok");
      status.textContent = "Request posted.";
      form.elements.note.value = "";
      await load();
    },
    { SCHEDULE_TOO_SOON: "scheduled_at", SCHEDULE_TOO_FAR: "scheduled_at" },
  );

  main.append(
    heading("My requests"),
    h("div", { class: "stack" },
      h("section", { class: "card" }, form),
      h("section", { "aria-labelledby": "mine-title" },
        h("h2", { id: "mine-title" }, "Requests you posted"), status, list)),
  );
  bankCategories().then((names) => replace(categories, names.map((name) => h("option", { value: name }))));
  await load();

  const stop = [
    live.on("notification", (note) => {
      if (note.kind === "REQUEST_ACCEPTED" || note.kind === "REQUEST_EXPIRED") load();
    }),
    live.on("session", (push) => { if (push?.event !== "questions") load(); }),
  ];
  return () => stop.forEach((fn) => fn());
}
