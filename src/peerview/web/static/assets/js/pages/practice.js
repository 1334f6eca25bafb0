// Practice with the AI interviewer (docs/api.md §13), `#/practice`: start a practice session, and
// find the past ones. The session itself is pages/practice-session.js (`#/practice/:id`).

import { all, post } from "../api.js";
import * as live from "../live.js";
import {
  DIFFICULTIES, TYPES, badge, choices, empty, failed, field, formAlert, formatTime, h,
  heading, label, onSubmit, replace, uid,
} from "../ui.js";
import { bankCategories } from "./requests.js";
import { isPractice, placeOf, topic } from "./sessions.js";

export async function render(main, context) {
  return renderStart(main, context);
}

// --- #/practice: start one, and the past ones ------------------------------------------

const DEFAULT_MINUTES = 45;

/** The user's practice sessions, newest first. */
async function practiceSessions() {
  const sessions = await all("/api/interview-sessions", {}, 500);
  return sessions.filter(isPractice).sort((a, b) => b.scheduled_at.localeCompare(a.scheduled_at));
}

function pastItem(session) {
  const titleId = uid("practice");
  return h(
    "li",
    { dataset: { sessionId: session.id }, "aria-labelledby": titleId },
    h("div", { class: "row" },
      h("h3", { id: titleId }, h("a", { href: placeOf(session) }, topic(session))),
      badge(session.status)),
    h("ul", { class: "meta" },
      h("li", {}, h("time", { datetime: session.scheduled_at }, formatTime(session.scheduled_at))),
      h("li", {}, `${session.duration_minutes} min`),
      h("li", {}, session.status === "LIVE" ? "Live now" : label(session.end_reason || session.status))),
  );
}

async function renderStart(main, { navigate }) {
  const categories = h("datalist", { id: "practice-categories" });
  const alert = formAlert();
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "practice-form-title", "aria-describedby": "practice-about" },
    h("h2", { id: "practice-form-title" }, "Start a practice session"),
    h("p", { id: "practice-about", class: "muted" },
      "Practise on your own with Peerview's AI interviewer: it asks you a question from the bank that you "
      + "have not had yet, follows up on your answers, gives a hint when you ask, and rates you when the "
      + "session ends. It starts at once."),
    alert,
    h("div", { class: "form-grid" },
      field({ label: "Category", name: "category", required: true, maxlength: 64, list: "practice-categories",
        hint: "For example arrays, graphs, system-design." }),
      field({ label: "Difficulty", name: "difficulty", options: choices(DIFFICULTIES), value: "MEDIUM" }),
      field({ label: "Type", name: "type", options: choices(TYPES), value: "CODING" }),
      field({ label: "Duration (minutes)", name: "duration_minutes", type: "number", min: 15, max: 120, step: 5,
        value: DEFAULT_MINUTES, required: true, hint: "15 to 120." })),
    categories,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Start practising")),
  );
  const list = h("div", { "aria-busy": "true" });

  /** An API refusal in words, with a way on where there is one. */
  async function refused(error) {
    const parts = [];
    if (error.code === "NO_QUESTION_AVAILABLE") {
      parts.push("The bank has no question of this category, difficulty and type that you have not had yet. "
        + "Try another category, difficulty or type.");
    } else if (error.code === "PRACTICE_IN_PROGRESS") {
      parts.push("You already have a practice session going: finish it before you start another. ");
      let current = null;
      try {
        current = (await practiceSessions()).find((s) => s.status === "LIVE");
      } catch {
        current = null;
      }
      parts.push(current
        ? h("a", { href: placeOf(current) }, "Go to your practice session")
        : h("a", { href: "#/sessions" }, "Find it among your sessions"));
    } else if (error.code === "PRACTICE_LIMIT_REACHED") {
      const seconds = Number(error.retryAfter);
      const next = seconds > 0 ? new Date(Date.now() + seconds * 1000).toISOString() : null;
      parts.push("You have started as many practice sessions today as Peerview allows.",
        next ? ` The next one can start ${formatTime(next)}.` : " Try again tomorrow.");
    } else {
      return false;
    }
    replace(alert, ...parts);
    alert.hidden = false;
    alert.dataset.code = error.code;
    alert.focus?.();
    return true;
  }

  onSubmit(form, async (values) => {
    delete alert.dataset.code;
    const body = {
      category: values.category.trim(),
      difficulty: values.difficulty,
      type: values.type,
      duration_minutes: values.duration_minutes === "" ? undefined : Number(values.duration_minutes),
    };
    let created;
    try {
      created = await post("/api/practice-sessions", body);
    } catch (error) {
      if (await refused(error)) return;
      throw error;
    }
    navigate(placeOf(created.session));
  });

  async function load() {
    try {
      const sessions = await practiceSessions();
      replace(list, sessions.length
        ? h("ul", { class: "list" }, sessions.map(pastItem))
        : empty("No practice sessions yet."));
    } catch (error) {
      failed(error);
    } finally {
      list.removeAttribute("aria-busy");
    }
  }

  main.append(
    heading("Practice"),
    h("div", { class: "stack" },
      h("section", { class: "card" }, form),
      h("section", { "aria-labelledby": "practice-past-title" },
        h("h2", { id: "practice-past-title" }, "Your practice sessions"), list)),
  );
  bankCategories().then((names) => replace(categories, names.map((name) => h("option", { value: name }))));
  await load();
  const stop = live.on("session", (push) => {
    if (push?.session && isPractice(push.session) && push.event !== "questions") load();
  });
  return stop;
}
