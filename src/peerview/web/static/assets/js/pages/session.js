// One session (docs/api.md §5): its details and countdown, the calendar file, "Join the
// room", cancel with a confirm step, and once completed the final code of its code pad (§5.7,
// read-only) and the feedback (§7): the form, the double-blind state, and the feedback once
// visible. Admins see any session, read-only. A practice session (§13) has no human
// interviewer and no peer feedback: its conversation and feedback are on its practice page.

import { api, get, post } from "../api.js";
import * as live from "../live.js";
import {
  badge, empty, failed, field, formAlert, formatTime, h, heading, label, onSubmit, replace, toast, uid,
} from "../ui.js";
import {
  countdownText, interviewerName, isParticipant, isPractice, placeOf, tickCountdowns, topic,
} from "./sessions.js";

const RATINGS = [
  ["communication", "Communication"],
  ["problem_solving", "Problem solving"],
  ["technical", "Technical"],
  ["overall", "Overall"],
];
// docs/api.md §7: sealed until both have written, or this long after the session ended.
const SEAL_HOURS = 72;

function detail(term, value) {
  return value === null || value === undefined ? null : [h("dt", {}, term), h("dd", {}, value)];
}

function time(iso) {
  return iso ? h("time", { datetime: iso }, formatTime(iso)) : null;
}

function ratingGroup(name, text) {
  const group = uid(`rating-${name}`);
  const errorId = `${group}-error`;
  return h(
    "fieldset",
    { class: "field", dataset: { field: `ratings.${name}` }, "aria-describedby": errorId },
    h("legend", {}, text),
    h("div", { class: "rating" },
      [1, 2, 3, 4, 5].map((n) => {
        const id = `${group}-${n}`;
        return h("span", { class: "field field-check" },
          h("input", { type: "radio", id, name: `rating_${name}`, value: String(n) }),
          h("label", { for: id }, String(n)));
      })),
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

function feedbackCard(item) {
  return h(
    "article",
    { class: "card feedback", "aria-label": `Feedback by ${item.author.name}` },
    h("h3", {}, `${item.author.name} about ${item.subject.name}`),
    h("p", { class: "muted" }, `Written as the ${label(item.author_role).toLowerCase()}, ${formatTime(item.created_at)}`),
    h("dl", { class: "ratings" }, RATINGS.map(([key, text]) => [h("dt", {}, text), h("dd", {}, `${item.ratings[key]} / 5`)])),
    item.comments ? h("p", { class: "comments" }, item.comments) : h("p", { class: "muted" }, "No comments."),
  );
}

export async function render(main, { params, user, navigate }) {
  const id = params.id;
  const path = `/api/interview-sessions/${encodeURIComponent(id)}`;
  let session;
  try {
    session = await get(path);
  } catch (error) {
    if (error.status === 404) {
      main.append(heading("Session not found"),
        h("p", {}, "This session does not exist, or it is not one of yours. ", h("a", { href: "#/sessions" }, "Your sessions")));
      return undefined;
    }
    throw error;
  }

  const participant = isParticipant(session, user);
  const practice = isPractice(session);
  const title = heading(topic(session));
  const summary = h("section", { class: "card", "aria-labelledby": "session-facts" });
  const actions = h("div", { class: "actions" });
  const confirmBox = h("div", {});
  const status = h("p", { role: "status", class: "muted" });
  const feedbackPart = h("section", { "aria-labelledby": "feedback-title" });
  const codePart = h("section", { class: "card stack session-code", "aria-labelledby": "code-title", hidden: true });
  let stopTicking = () => {};
  let finalCode = null;

  function paint() {
    title.textContent = topic(session);
    const ended = session.status === "COMPLETED" || session.status === "CANCELLED";
    replace(
      summary,
      h("div", { class: "row" }, h("h2", { id: "session-facts" }, "Details"), badge(session.status)),
      h("p", { class: "timer", dataset: { countdown: session.id } }, countdownText(session)),
      h("dl", { class: "facts" },
        detail("Interviewer", interviewerName(session)),
        detail("Interviewee", session.interviewee.name),
        detail("Scheduled", time(session.scheduled_at)),
        detail("Duration", `${session.duration_minutes} min${session.extended_minutes ? ` + ${session.extended_minutes} min extension` : ""}`),
        detail("Started", time(session.started_at)),
        session.status === "LIVE" ? detail("Planned end", time(session.planned_end_at)) : null,
        session.status === "LIVE" ? detail("Hard end", time(session.hard_end_at)) : null,
        detail(ended ? (session.status === "CANCELLED" ? "Cancelled" : "Ended") : "Ends", time(session.ended_at)),
        detail("How it ended", session.end_reason ? label(session.end_reason) : null)),
    );
    const open = session.status === "SCHEDULED" || session.status === "LIVE";
    replace(
      actions,
      practice && (participant || user.role === "ADMIN")
        ? h("a", { class: open && participant ? "button primary" : "button", href: placeOf(session) },
          open && participant ? "Continue the practice" : "The practice: transcript and feedback")
        : null,
      !practice && participant && open
        ? h("a", { class: "button primary", href: placeOf(session) }, "Join the room")
        : null,
      participant && !practice ? h("button", { type: "button", onclick: download }, "Download calendar file (.ics)") : null,
      participant && session.status === "SCHEDULED"
        ? h("button", { type: "button", class: "danger", onclick: askCancel }, "Cancel session")
        : null,
      user.role === "ADMIN" && !participant ? h("p", { class: "muted" }, "You are viewing this session as an admin (read-only).") : null,
    );
    if (session.status !== "SCHEDULED") replace(confirmBox);
    stopTicking();
    stopTicking = tickCountdowns(summary, [session]);
  }

  async function download(event) {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const response = await api("GET", `${path}/calendar.ics`, { raw: true });
      const blob = await response.blob();
      const href = URL.createObjectURL(blob);
      const link = h("a", { href, download: `peerview-${session.id}.ics`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
      status.textContent = "Calendar file downloaded.";
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
    }
  }

  function askCancel() {
    const form = h(
      "form",
      { novalidate: true, class: "notice warn", "aria-labelledby": "cancel-title" },
      h("h3", { id: "cancel-title" }, "Cancel this session?"),
      h("p", {}, "The other participant is told. The request is not reopened."),
      formAlert(),
      field({ label: "Reason (optional)", name: "reason", type: "textarea", maxlength: 500 }),
      h("div", { class: "actions" },
        h("button", { type: "submit", class: "danger" }, "Yes, cancel the session"),
        h("button", { type: "button", onclick: () => replace(confirmBox) }, "Keep it")),
    );
    onSubmit(form, async ({ reason }) => {
      session = await post(`${path}/cancel`, reason ? { reason } : undefined);
      replace(confirmBox);
      toast("The session is cancelled.", "ok");
      paint();
    });
    replace(confirmBox, form);
    form.querySelector("textarea").focus();
  }

  async function loadFeedback() {
    feedbackPart.hidden = session.status !== "COMPLETED";
    if (session.status !== "COMPLETED") {
      replace(feedbackPart);
      return;
    }
    if (practice) {
      // No peer feedback: the AI interviewer's is on the practice page.
      replace(feedbackPart, h("h2", { id: "feedback-title" }, "Feedback"),
        h("p", {}, "The AI interviewer's feedback is on the practice page. ",
          h("a", { href: placeOf(session) }, "Read it with the transcript")));
      return;
    }
    let items;
    try {
      const page = await get(`/api/feedback/session/${encodeURIComponent(session.id)}`, { limit: 100 });
      items = page.items;
    } catch (error) {
      failed(error);
      return;
    }
    const myRole = session.interviewer.id === user.id ? "INTERVIEWER" : "INTERVIEWEE";
    const otherRole = myRole === "INTERVIEWER" ? "INTERVIEWEE" : "INTERVIEWER";
    const other = myRole === "INTERVIEWER" ? session.interviewee : session.interviewer;
    const mine = participant ? items.find((item) => item.author_role === myRole) : null;
    const theirs = participant ? items.find((item) => item.author_role === otherRole) : null;
    const unsealAt = session.ended_at ? new Date(new Date(session.ended_at).getTime() + SEAL_HOURS * 3600_000).toISOString() : null;

    const parts = [h("h2", { id: "feedback-title" }, "Feedback")];
    if (!participant) {
      parts.push(items.length ? items.filter((i) => !i.hidden).map(feedbackCard) : empty("No feedback written yet."));
      replace(feedbackPart, ...parts);
      return;
    }
    let state;
    if (!mine && !theirs) {
      state = `Neither of you has written feedback yet. It is double-blind: you see ${other.name}'s feedback only once you have written yours (or ${SEAL_HOURS} hours after the session ended, ${formatTime(unsealAt)}).`;
    } else if (!mine && theirs?.hidden) {
      state = `${other.name} has written their feedback about you. It stays sealed until you write yours, or until ${formatTime(unsealAt)} (${SEAL_HOURS} hours after the session ended).`;
    } else if (!mine) {
      state = `You have not written your feedback yet. The ${SEAL_HOURS} hours have passed, so ${other.name}'s feedback is visible.`;
    } else if (!theirs) {
      state = `You have written your feedback; ${other.name} has not yet. You will see theirs as soon as they write it.`;
    } else {
      state = "You have both written your feedback.";
    }
    parts.push(h("p", { class: "notice", role: "status" }, state));
    if (!mine) parts.push(feedbackForm(other));
    if (mine && !mine.hidden) parts.push(h("h3", {}, "Yours"), feedbackCard(mine));
    if (theirs && !theirs.hidden) parts.push(h("h3", {}, `${other.name}'s`), feedbackCard(theirs));
    replace(feedbackPart, ...parts);
  }

  /** The code pad's final text, read-only, once the session is completed. */
  async function loadCode() {
    if (session.status !== "COMPLETED" || finalCode) return;
    let code;
    let codeView;
    let LANGUAGE_NAMES;
    try {
      // The editor's bundle is loaded only where there is code to show.
      [code, { codeView, LANGUAGE_NAMES }] = await Promise.all([get(`${path}/code`), import("../room/codepad.js")]);
    } catch (error) {
      failed(error);
      return;
    }
    if (finalCode) return;
    const languageName = LANGUAGE_NAMES[code.language] || code.language;
    const parts = [
      h("div", { class: "codepad-head" },
        h("h2", { id: "code-title" }, "Code"),
        h("span", { class: "codepad-language" }, "Language: ", h("strong", {}, languageName))),
    ];
    if (code.text) {
      finalCode = codeView(code, { label: "Final code" });
      parts.push(h("p", { class: "hint" }, "The code pad as the session ended (read-only)."), finalCode.element);
    } else {
      finalCode = { destroy() {} };
      parts.push(empty("Nothing was written in the code pad."));
    }
    replace(codePart, ...parts);
    codePart.hidden = false;
  }

  function feedbackForm(other) {
    const form = h(
      "form",
      { novalidate: true, class: "card", "aria-labelledby": "feedback-form-title" },
      h("h3", { id: "feedback-form-title" }, `Your feedback about ${other.name}`),
      h("p", { class: "hint" }, "Rate each from 1 (poor) to 5 (excellent). You can send it once."),
      formAlert(),
      h("div", { class: "form-grid" }, RATINGS.map(([key, text]) => ratingGroup(key, text))),
      field({ label: "Comments", name: "comments", type: "textarea", maxlength: 5000,
        hint: "What went well, what to work on (up to 5000 characters)." }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Submit feedback")),
    );
    onSubmit(form, async (values) => {
      const ratings = {};
      for (const [key] of RATINGS) {
        const chosen = form.querySelector(`input[name=rating_${key}]:checked`);
        if (chosen) ratings[key] = Number(chosen.value);
      }
      await post("/api/feedback", { session_id: session.id, ratings, comments: values.comments });
      toast("Thank you: your feedback is saved.", "ok");
      await loadFeedback();
      document.getElementById("feedback-title")?.scrollIntoView?.();
    }, { FEEDBACK_EXISTS: "comments" });
    return form;
  }

  main.append(
    title,
    h("p", {}, h("a", { href: "#/sessions" }, "← All sessions")),
    h("div", { class: "stack" }, summary, h("div", {}, actions, status, confirmBox), codePart, feedbackPart),
  );
  paint();
  await Promise.all([loadCode(), loadFeedback()]);

  const stop = [
    live.on("session", (push) => {
      if (push?.session?.id !== session.id) return;
      session = push.session;
      paint();
      if (push.event === "questions") return; // this page does not list them
      status.textContent = `The session was ${push.event}.`;
      loadCode();
      loadFeedback();
    }),
    live.on("notification", (note) => {
      if (note.session_id === session.id && note.kind === "FEEDBACK_RECEIVED") loadFeedback();
    }),
  ];
  return () => {
    stop.forEach((fn) => fn());
    stopTicking();
    finalCode?.destroy();
  };
}
