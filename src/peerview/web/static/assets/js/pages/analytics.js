// My analytics (docs/api.md §10.1): my sessions, practice time and the ratings I received, as
// figures and charts, for a period I choose (from/to bound the sessions' created_at).

import { get } from "../api.js";
import { barChart, hbarChart, lineChart, percent, statTiles } from "../charts.js";
import { field, formAlert, formatDay, h, heading, onSubmit, replace, showErrors } from "../ui.js";

const RUBRIC = [
  ["communication", "Communication"],
  ["problem_solving", "Problem solving"],
  ["technical", "Technical"],
  ["overall", "Overall"],
];

/** A local calendar day ("2030-01-07") as the instant its day starts, with an offset. */
function dayStart(value, plusDays = 0) {
  if (!value) return undefined;
  const [year, month, day] = value.split("-").map(Number);
  return new Date(year, month - 1, day + plusDays).toISOString();
}

/**
 * The period picker shared by both dashboards: From and To days (To included), in the user's
 * time zone. `load({from, to})` fetches and draws; an API error (INVALID_PERIOD) is shown by
 * the fields. Returns the form; `load` runs once at once for "all time".
 */
export function periodPicker(load) {
  const form = h(
    "form",
    { class: "period", "aria-label": "Period", "aria-describedby": "period-hint" },
    formAlert(),
    h("div", { class: "period-row" },
      field({ label: "From", name: "since", type: "date" }),
      field({ label: "To", name: "until", type: "date" }),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "primary" }, "Show"),
        h("button", {
          type: "button",
          onclick: () => {
            form.reset();
            form.requestSubmit();
          },
        }, "All time"))),
    h("p", { class: "hint", id: "period-hint" },
      "Days in your time zone, both included; leave a day empty to count from the start or up to now."),
  );
  // The fields are not named after the query's `from` and `to`, so that the days typed are
  // never mistaken for the instants sent.
  onSubmit(form, async ({ since, until }) => {
    await load({ from: dayStart(since), to: dayStart(until, 1) });
  }, { INVALID_PERIOD: "until" });
  return form;
}

/** Every week between the first and last the API lists, the missing ones with nothing. */
export function fillWeeks(weeks, pick) {
  if (!weeks.length) return [];
  const byDay = new Map(weeks.map((week) => [week.week_start, week]));
  const out = [];
  const day = new Date(`${weeks[0].week_start}T00:00:00Z`);
  const last = new Date(`${weeks[weeks.length - 1].week_start}T00:00:00Z`);
  while (day <= last && out.length < 520) {
    const key = day.toISOString().slice(0, 10);
    const week = byDay.get(key);
    out.push({ label: weekLabel(key), value: week ? pick(week) : 0, week: key });
    day.setUTCDate(day.getUTCDate() + 7);
  }
  return out;
}

/** "7 Jan" for the week starting on that Monday (UTC dates: no time-zone shift). */
export function weekLabel(isoDay) {
  return new Date(`${isoDay}T00:00:00Z`).toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
}

const rating = (value) => (value === null || value === undefined ? null : value.toFixed(2));

function draw(box, data) {
  const s = data.sessions;
  const finished = s.completed + s.cancelled;
  const ratings = data.ratings_received;
  replace(
    box,
    h("h2", { class: "visually-hidden" }, "Figures"),
    statTiles([
      { label: "Completed sessions", value: s.completed },
      { label: "Scheduled", value: s.scheduled },
      { label: "Live now", value: s.live },
      { label: "Cancelled", value: s.cancelled, hint: "no-shows included" },
      { label: "As interviewer", value: s.as_interviewer },
      { label: "As interviewee", value: s.as_interviewee },
      { label: "Of which practice", value: s.practice, hint: "with the AI interviewer" },
      { label: "Minutes practised", value: data.minutes_practised },
      { label: "Completion rate", value: finished ? `${percent(s.completed, finished)} %` : null, hint: "of sessions that ended" },
      { label: "Feedback received", value: ratings.count },
      { label: "Average overall rating", value: rating(ratings.overall), hint: "out of 5" },
    ]),
    h("h2", {}, "Charts"),
    h("div", { class: "cols charts" },
      lineChart({
        title: "Sessions per week",
        description: "By the week each session was scheduled in",
        data: fillWeeks(data.weekly, (week) => week.sessions),
        valueName: "Sessions",
      }),
      barChart({
        title: "Session outcomes",
        data: s.completed + s.cancelled + s.live + s.scheduled
          ? [
            { label: "Completed", value: s.completed },
            { label: "Cancelled", value: s.cancelled },
            { label: "Live", value: s.live },
            { label: "Scheduled", value: s.scheduled },
          ]
          : [],
        valueName: "Sessions",
      }),
      barChart({
        title: "Completion and cancellation rates",
        description: "Of the sessions that ended; cancellations include no-shows",
        data: finished
          ? [
            { label: "Completed", value: percent(s.completed, finished) },
            { label: "Cancelled", value: percent(s.cancelled, finished) },
          ]
          : [],
        valueName: "Share",
        unit: " %",
        max: 100,
      }),
      hbarChart({
        title: "Ratings received",
        description: `Averages out of 5 over ${ratings.count} feedback`,
        data: ratings.count ? RUBRIC.map(([key, text]) => ({ label: text, value: ratings[key] })) : [],
        valueName: "Average (1–5)",
        max: 5,
        format: (v) => v.toFixed(2),
      }),
      barChart({
        title: "Sessions by category",
        data: data.by_category.map((c) => ({ label: c.category, value: c.sessions })),
        valueName: "Sessions",
      }),
      hbarChart({
        title: "Overall rating by category",
        description: "Average overall rating received, out of 5",
        data: data.by_category.map((c) => ({ label: c.category, value: c.average_overall })),
        valueName: "Average overall (1–5)",
        max: 5,
        format: (v) => v.toFixed(2),
      }),
    ),
  );
}

/** What period the figures are about, in words. */
export function periodText({ from, to }) {
  if (!from && !to) return "Showing all time.";
  const last = to ? new Date(new Date(to).getTime() - 1).toISOString() : null;
  if (!from) return `Showing everything up to ${formatDay(last)}.`;
  if (!to) return `Showing from ${formatDay(from)} on.`;
  return `Showing ${formatDay(from)} to ${formatDay(last)}.`;
}

/**
 * A dashboard's page: heading, period picker, a status line, and `draw(box, answer)` for
 * what `path` answers for the period.
 */
export async function dashboard(main, { title, path, draw: drawInto }) {
  const box = h("div", { class: "stack dashboard", "aria-busy": "true" }, h("p", { class: "loading" }, "Loading…"));
  const status = h("p", { class: "muted period-status", role: "status" });
  const load = async (period) => {
    box.setAttribute("aria-busy", "true");
    try {
      drawInto(box, await get(path, period));
      status.textContent = periodText(period);
    } finally {
      box.removeAttribute("aria-busy");
    }
  };
  const picker = periodPicker(load);
  main.append(heading(title), picker, status, box);
  try {
    await load({});
  } catch (error) {
    replace(box);
    showErrors(picker, error);
  }
}

export function render(main) {
  return dashboard(main, { title: "My analytics", path: "/api/analytics/me", draw });
}
