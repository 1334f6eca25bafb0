// Platform analytics for admins (docs/api.md §10.2): the request funnel, session outcomes and
// their rates, weekly active people and sessions, and ratings by category, as figures and charts.

import { barChart, hbarChart, lineChart, percent, statTiles } from "../charts.js";
import { h, replace } from "../ui.js";
import { dashboard, fillWeeks } from "./analytics.js";

function draw(box, data) {
  const f = data.funnel;
  const s = data.sessions;
  const ended = s.completed + s.auto_timeout + s.no_show + s.cancelled;
  const all = ended + s.live + s.scheduled;
  const rate = (part) => (ended ? `${percent(part, ended)} %` : null);
  replace(
    box,
    h("h2", { class: "visually-hidden" }, "Figures"),
    statTiles([
      { label: "Requests posted", value: f.created },
      { label: "Accepted", value: f.accepted },
      { label: "Open", value: f.open },
      { label: "Median minutes to accept", value: data.median_minutes_to_accept },
      { label: "Sessions", value: all },
      { label: "Completion rate", value: rate(s.completed + s.auto_timeout), hint: "of sessions that ended" },
      { label: "No-show rate", value: rate(s.no_show), hint: "of sessions that ended" },
      { label: "Feedback written", value: data.ratings_by_category.reduce((sum, c) => sum + c.count, 0) },
    ]),
    h("h2", {}, "Charts"),
    h("div", { class: "cols charts" },
      lineChart({
        title: "Active people per week",
        description: "People who posted a request or took part in a session scheduled that week",
        data: fillWeeks(data.active_users_weekly, (week) => week.users),
        valueName: "People",
      }),
      barChart({
        title: "Sessions per week",
        description: "By the week each session was created in, whatever its outcome",
        data: fillWeeks(data.sessions_weekly, (week) => week.sessions),
        valueName: "Sessions",
      }),
      barChart({
        title: "Requests by outcome",
        data: f.created
          ? [
            { label: "Accepted", value: f.accepted },
            { label: "Expired", value: f.expired },
            { label: "Cancelled", value: f.cancelled },
            { label: "Open", value: f.open },
          ]
          : [],
        valueName: "Requests",
      }),
      barChart({
        title: "Sessions by outcome",
        data: all
          ? [
            { label: "Completed", value: s.completed },
            { label: "Timed out", value: s.auto_timeout },
            { label: "No-show", value: s.no_show },
            { label: "Cancelled", value: s.cancelled },
            { label: "Live", value: s.live },
            { label: "Scheduled", value: s.scheduled },
          ]
          : [],
        valueName: "Sessions",
      }),
      barChart({
        title: "Completion and no-show rates",
        description: "Of the sessions that ended; completed includes those ended at the hard end",
        data: ended
          ? [
            { label: "Completed", value: percent(s.completed + s.auto_timeout, ended) },
            { label: "No-show", value: percent(s.no_show, ended) },
            { label: "Cancelled", value: percent(s.cancelled, ended) },
          ]
          : [],
        valueName: "Share",
        unit: " %",
        max: 100,
      }),
      hbarChart({
        title: "Overall rating by category",
        description: "Average overall rating of the feedback written, both directions, out of 5",
        data: data.ratings_by_category.map((c) => ({ label: c.category, value: c.average_overall })),
        valueName: "Average overall (1–5)",
        max: 5,
        format: (v) => v.toFixed(2),
      }),
      barChart({
        title: "Feedback by category",
        data: data.ratings_by_category.map((c) => ({ label: c.category, value: c.count })),
        valueName: "Feedback",
      }),
    ),
  );
}

export function render(main) {
  return dashboard(main, { title: "Platform analytics", path: "/api/analytics/platform", draw });
}
