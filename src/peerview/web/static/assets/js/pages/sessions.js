// The user's sessions (docs/api.md §5.5): upcoming (scheduled and live) with a live countdown
// to the start, and past ones; refreshed on `session` pushes.

import { all } from "../api.js";
import * as live from "../live.js";
import { badge, countdown, empty, failed, formatTime, h, heading, label, relative, replace, uid } from "../ui.js";

// docs/api.md §2 SESSION_EARLY_START_MINUTES, by default: the lobby opens this long before.
export const EARLY_MINUTES = 15;

/** "arrays · Medium · Coding". */
export function topic(session) {
  return `${session.category} · ${label(session.difficulty)} · ${label(session.type)}`;
}

/** Who interviews in a practice session (docs/api.md §13): no person, the AI interviewer. */
export const AI_INTERVIEWER = "AI interviewer (practice)";

/** A practice session with the AI interviewer: no request, no human interviewer. */
export function isPractice(session) {
  return session.kind === "PRACTICE";
}

/** The interviewer's name as shown: the person, or the AI interviewer of a practice session. */
export function interviewerName(session) {
  return session.interviewer ? session.interviewer.name : AI_INTERVIEWER;
}

/** The other participant and their part, from `user`'s side (an admin sees both). */
export function withWhom(session, user) {
  if (session.interviewer?.id === user.id) return `with ${session.interviewee.name} (interviewee)`;
  if (session.interviewee.id === user.id) {
    return session.interviewer ? `with ${session.interviewer.name} (interviewer)` : `with the ${AI_INTERVIEWER}`;
  }
  return `${interviewerName(session)} interviewing ${session.interviewee.name}`;
}

export function isParticipant(session, user) {
  return session.interviewer?.id === user.id || session.interviewee.id === user.id;
}

/** Where a session is held: the room, or the practice page of a practice session. */
export function placeOf(session) {
  const id = encodeURIComponent(session.id);
  return isPractice(session) ? `#/practice/${id}` : `#/room/${id}`;
}

/**
 * The countdown text of a session now: "Starts in 05:59:59", "Live now", "Ended".
 * Past 48 hours away a countdown is less useful than "in 3 d".
 */
export function countdownText(session, now = Date.now()) {
  if (session.status === "LIVE") {
    return session.planned_end_at ? `Live now · planned end in ${countdown(session.planned_end_at, now)}` : "Live now";
  }
  if (session.status !== "SCHEDULED") return label(session.end_reason || session.status);
  const left = new Date(session.scheduled_at).getTime() - now;
  if (left <= 0) return "Starting now: waiting for the interviewer to start";
  if (left > 48 * 3600 * 1000) return `Starts ${relative(session.scheduled_at, now)}`;
  return `Starts in ${countdown(session.scheduled_at, now)}`;
}

/** Whether "Join the room" is offered: live, or scheduled and its lobby open. */
export function canJoin(session, user, now = Date.now()) {
  if (!isParticipant(session, user)) return false;
  if (session.status === "LIVE") return true;
  return session.status === "SCHEDULED" && new Date(session.scheduled_at).getTime() - now <= EARLY_MINUTES * 60_000;
}

/** Tick every `[data-countdown]` in `root` once a second; returns the stop function. */
export function tickCountdowns(root, sessions) {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const tick = () => {
    const now = Date.now();
    for (const element of root.querySelectorAll("[data-countdown]")) {
      const session = byId.get(element.dataset.countdown);
      if (session) element.textContent = countdownText(session, now);
    }
  };
  tick();
  const timer = setInterval(tick, 1000);
  return () => clearInterval(timer);
}

function sessionItem(session, user) {
  const titleId = uid("session");
  const href = `#/sessions/${encodeURIComponent(session.id)}`;
  const practice = isPractice(session);
  return h(
    "li",
    { dataset: { sessionId: session.id, kind: session.kind }, "aria-labelledby": titleId },
    h("div", { class: "row" },
      h("h3", { id: titleId }, h("a", { href: practice ? placeOf(session) : href }, topic(session))),
      badge(session.status)),
    h("ul", { class: "meta" },
      h("li", {}, withWhom(session, user)),
      h("li", {}, h("time", { datetime: session.scheduled_at }, formatTime(session.scheduled_at))),
      h("li", {}, `${session.duration_minutes} min`)),
    h("p", { class: "timer", dataset: { countdown: session.id } }, countdownText(session)),
    h("div", { class: "actions" },
      practice && isParticipant(session, user)
        ? h("a", {
          class: session.status === "LIVE" ? "button primary" : "button",
          href: placeOf(session),
          "aria-describedby": titleId,
        }, session.status === "LIVE" ? "Continue the practice" : "Transcript and feedback")
        : null,
      !practice && canJoin(session, user)
        ? h("a", { class: "button primary", href: placeOf(session), "aria-describedby": titleId }, "Join the room")
        : null,
      h("a", { href, "aria-describedby": titleId }, "Details")),
  );
}

export async function render(main, { user }) {
  const upcoming = h("div", { "aria-busy": "true" });
  const past = h("div", { "aria-busy": "true" });
  let stopTicking = () => {};

  async function load() {
    try {
      const sessions = await all("/api/interview-sessions", {}, 500);
      const next = sessions.filter((s) => s.status === "SCHEDULED" || s.status === "LIVE");
      // The API lists soonest first; the past reads best newest first.
      const done = sessions.filter((s) => s.status === "COMPLETED" || s.status === "CANCELLED").reverse();
      // Live ones first, then by start.
      next.sort((a, b) => (a.status === "LIVE" ? 0 : 1) - (b.status === "LIVE" ? 0 : 1)
        || a.scheduled_at.localeCompare(b.scheduled_at));
      replace(upcoming, next.length
        ? h("ul", { class: "list" }, next.map((s) => sessionItem(s, user)))
        : empty(user.role === "INTERVIEWEE"
          ? "No upcoming sessions. Post a request and an interviewer will pick it up."
          : "No upcoming sessions."));
      replace(past, done.length
        ? h("ul", { class: "list" }, done.map((s) => sessionItem(s, user)))
        : empty("No past sessions yet."));
      stopTicking();
      stopTicking = tickCountdowns(main, sessions);
    } catch (error) {
      failed(error);
    } finally {
      upcoming.removeAttribute("aria-busy");
      past.removeAttribute("aria-busy");
    }
  }

  main.append(
    heading("Sessions"),
    h("div", { class: "stack" },
      h("section", { "aria-labelledby": "upcoming-title" }, h("h2", { id: "upcoming-title" }, "Upcoming"), upcoming),
      h("section", { "aria-labelledby": "past-title" }, h("h2", { id: "past-title" }, "Past"), past)),
  );
  await load();
  // A change of a session's questions changes nothing listed here.
  const stop = live.on("session", (push) => { if (push?.event !== "questions") load(); });
  return () => {
    stop();
    stopTicking();
  };
}
