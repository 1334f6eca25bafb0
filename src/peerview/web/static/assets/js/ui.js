// Small DOM helpers shared by every page: elements, forms with field errors, formatting.

let uniqueCounter = 0;

/** A unique id for label/aria wiring. */
export function uid(prefix = "pv") {
  uniqueCounter += 1;
  return `${prefix}-${uniqueCounter}`;
}

/**
 * `h("button", {class: "primary", onclick: fn}, "Save")`: an element with attributes,
 * properties (`on*` listeners, `dataset`, booleans) and children (strings, nodes, arrays, null).
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(element.dataset, value);
    } else if (name === "class") {
      element.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (value === true) {
      element.setAttribute(name, "");
    } else if (name === "value" && "value" in element) {
      element.value = value;
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace `element`'s children. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/**
 * A labelled form field: `field({label, name, type, ...input attrs, hint, options})`.
 * `options` makes a <select> ([[value, text], …]); `type: "textarea"` a textarea;
 * `type: "checkbox"` a checkbox with its label after it. The error line below the control
 * is wired with aria-describedby; `showErrors` fills it.
 */
export function field({ label, name, type = "text", hint, options, ...attrs }) {
  const id = attrs.id || uid(`f-${name}`);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const described = [hintId, errorId].filter(Boolean).join(" ");
  let control;
  if (options) {
    control = h(
      "select",
      { id, name, "aria-describedby": described, ...attrs },
      options.map(([value, text]) =>
        h("option", { value, selected: String(attrs.value ?? "") === String(value) }, text),
      ),
    );
  } else if (type === "textarea") {
    control = h("textarea", { id, name, "aria-describedby": described, ...attrs });
  } else {
    control = h("input", { id, name, type, "aria-describedby": described, ...attrs });
  }
  if (type === "checkbox") {
    return h(
      "div",
      { class: "field field-check", dataset: { field: name } },
      control,
      h("label", { for: id }, label),
      hint ? h("p", { class: "hint", id: hintId }, hint) : null,
      h("p", { class: "field-error", id: errorId, hidden: true }),
    );
  }
  return h(
    "div",
    { class: "field", dataset: { field: name } },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

/** A form-level message area (role=alert), placed at the top of a form. */
export function formAlert() {
  return h("div", { class: "form-alert", role: "alert", hidden: true });
}

/** Clear every error shown in `form`. */
export function clearErrors(form) {
  for (const line of form.querySelectorAll(".field-error")) {
    line.hidden = true;
    line.textContent = "";
  }
  for (const control of form.querySelectorAll("[aria-invalid]")) {
    control.removeAttribute("aria-invalid");
  }
  const alert = form.querySelector(".form-alert");
  if (alert) {
    alert.hidden = true;
    alert.textContent = "";
  }
}

/**
 * Show `error` (an ApiError) in `form`: each 422 field error next to the field it names
 * (matched by `data-field`, also for `ratings.overall`-style names), the rest at the top.
 * `fieldsByCode` maps a route's own codes to the field they are about
 * (`{EMAIL_TAKEN: "email"}`). Focuses the first faulty control.
 */
export function showErrors(form, error, fieldsByCode = {}) {
  clearErrors(form);
  const fields = { ...(error.fields || {}) };
  const codeField = fieldsByCode[error.code];
  if (codeField) fields[codeField] = error.message;
  const unplaced = [];
  let first = null;
  for (const [name, message] of Object.entries(fields)) {
    const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!box) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    const line = box.querySelector(".field-error");
    line.textContent = message;
    line.hidden = false;
    const control = box.querySelector("input, select, textarea");
    if (control) {
      control.setAttribute("aria-invalid", "true");
      first = first || control;
    }
  }
  const alert = form.querySelector(".form-alert");
  const placedAll = Object.keys(fields).length > 0 && unplaced.length === 0;
  if (alert && !placedAll) {
    alert.textContent = [error.message, ...unplaced].filter(Boolean).join(" ");
    alert.hidden = false;
  }
  (first || alert)?.focus?.();
}

/**
 * Wire `form`'s submit to `action(values)`: the button is disabled while it runs, errors
 * are shown with showErrors. `values` is the form's data as an object (checkboxes as booleans).
 */
export function onSubmit(form, action, fieldsByCode = {}) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((button) => (button.disabled = true));
    clearErrors(form);
    try {
      await action(formValues(form), event);
    } catch (error) {
      if (error && error.status !== undefined) showErrors(form, error, fieldsByCode);
      else {
        showErrors(form, { message: String(error?.message || error), fields: {} });
        console.warn(error);
      }
    } finally {
      buttons.forEach((button) => (button.disabled = false));
    }
  });
}

export function formValues(form) {
  const values = {};
  for (const control of form.elements) {
    if (!control.name) continue;
    if (control.type === "checkbox") values[control.name] = control.checked;
    else values[control.name] = control.value;
  }
  return values;
}

/** A short message in the live region at the bottom of the screen. */
export function toast(message, kind = "info") {
  const region = document.getElementById("toasts");
  const line = h("div", { class: `toast toast-${kind}` }, message);
  region.append(line);
  setTimeout(() => line.remove(), 6000);
}

/** Report an unexpected failure of a page action as a toast (errors we show in forms are not this). */
export function failed(error) {
  toast(error?.message || String(error), "error");
}

// --- Formatting: times in the user's own time zone -------------------------------------

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const dateTime = new Intl.DateTimeFormat(undefined, {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
});
const dayOnly = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });

export function formatTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

export function formatDay(iso) {
  return iso ? dayOnly.format(new Date(iso)) : "—";
}

/** "in 2 h 5 min", "3 min ago", "now". */
export function relative(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const span = Math.abs(seconds);
  let text;
  if (span < 45) return "now";
  // Whole minutes first, so that 59.6 minutes is "1 h", never "60 min".
  const totalMinutes = Math.round(span / 60);
  if (totalMinutes < 60) text = `${totalMinutes} min`;
  else if (totalMinutes < 24 * 60) {
    const hours = Math.floor(totalMinutes / 60);
    const minutes = totalMinutes % 60;
    text = minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  } else text = `${Math.round(totalMinutes / (24 * 60))} d`;
  return seconds > 0 ? `in ${text}` : `${text} ago`;
}

/** "01:05:09" or "05:09": a countdown to `iso` (0 once passed). */
export function countdown(iso, now = Date.now()) {
  const total = Math.max(0, Math.floor((new Date(iso).getTime() - now) / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${two(minutes)}:${two(seconds)}` : `${two(minutes)}:${two(seconds)}`;
}

const HARD_END_RECHECK_MS = 5000;

/**
 * Paint a LIVE session's planned and hard ends with their countdowns into `view.timers` (the
 * room's and the practice page's header). Past the hard end, ask the server again
 * (`view.refresh()`: its push may have been missed), and again every few seconds while its
 * clock has not got there yet; `view.hardEndCheck` holds the pending ask, for the view to
 * clear when it closes.
 */
export function paintLiveTimers(view, session, now = Date.now()) {
  replace(view.timers, ...endCountdowns(session, now));
  if (new Date(session.hard_end_at).getTime() <= now && !view.hardEndCheck) {
    view.hardEndCheck = setTimeout(() => view.refresh(), 500);
    setTimeout(() => { view.hardEndCheck = null; }, HARD_END_RECHECK_MS);
  }
}

/** The planned and hard ends with their countdowns, and a notice once the planned end passed. */
function endCountdowns(session, now) {
  const line = (name, iso, cls) => h("p", { class: cls },
    `${name}: `, h("time", { datetime: iso }, formatTime(iso)), " · ",
    h("span", { class: "timer", role: "timer" }, `${countdown(iso, now)} left`));
  return [
    line("Planned end", session.planned_end_at, "planned-end"),
    line("Hard end", session.hard_end_at, "hard-end"),
    new Date(session.planned_end_at).getTime() <= now
      ? h("p", { class: "notice warn" }, "Past the planned end: the session closes by itself at the hard end.")
      : null,
  ];
}

/** The value of a datetime-local input for `date`, in the user's time zone. */
export function toLocalInput(date) {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}

/** A datetime-local input's value as an ISO instant with an offset (the API needs one). */
export function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : "";
}

export const LABELS = {
  EASY: "Easy",
  MEDIUM: "Medium",
  HARD: "Hard",
  CODING: "Coding",
  SYSTEM_DESIGN: "System design",
  BEHAVIORAL: "Behavioral",
  CONCEPTUAL: "Conceptual",
  OPEN: "Open",
  ACCEPTED: "Accepted",
  CANCELLED: "Cancelled",
  EXPIRED: "Expired",
  SCHEDULED: "Scheduled",
  LIVE: "Live",
  COMPLETED: "Completed",
  ADMIN: "Admin",
  INTERVIEWER: "Interviewer",
  INTERVIEWEE: "Interviewee",
  ENDED_BY_INTERVIEWER: "Ended by the interviewer",
  ENDED_BY_INTERVIEWEE: "Ended by the interviewee",
  AUTO_TIMEOUT: "Ended at the hard end",
  CANCELLED_BY_INTERVIEWER: "Cancelled by the interviewer",
  CANCELLED_BY_INTERVIEWEE: "Cancelled by the interviewee",
  NO_SHOW: "No-show",
};

export const label = (value) => LABELS[value] || value;

/** A status badge: text plus a class per status (never colour alone). */
export function badge(status) {
  return h("span", { class: `badge badge-${String(status).toLowerCase()}` }, label(status));
}

export const DIFFICULTIES = ["EASY", "MEDIUM", "HARD"];
export const TYPES = ["CODING", "SYSTEM_DESIGN", "BEHAVIORAL", "CONCEPTUAL"];

/** Options for a select: [["", anyText], [v, label(v)]…]. */
export function choices(values, anyText = null) {
  const options = values.map((value) => [value, label(value)]);
  return anyText === null ? options : [["", anyText], ...options];
}

/** A page heading that takes focus after navigation (screen readers announce the new page). */
export function heading(text) {
  return h("h1", { tabindex: "-1", class: "page-title" }, text);
}

/** An empty-state line. */
export function empty(text) {
  return h("p", { class: "empty" }, text);
}
