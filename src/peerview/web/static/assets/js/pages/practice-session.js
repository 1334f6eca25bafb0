// A practice session with the AI interviewer (docs/api.md §13), `#/practice/:id`: the question,
// the conversation over Socket.IO (the interviewee's messages, the interviewer's replies streamed
// as drafts, hints on request), the clock with Extend and End, the code pad beside the chat for
// a CODING question, and once it has ended the interviewer's feedback. Admins see it read-only.

import { get, post } from "../api.js";
import * as live from "../live.js";
import {
  badge, empty, failed, field, formatTime, h, heading, label, paintLiveTimers, replace,
} from "../ui.js";
import { topic } from "./sessions.js";

export async function render(main, context) {
  return renderSession(main, context);
}

const MAX_EXTENSION = 60;
const EXTEND_MINUTES = 10;
const HINT_TEXT = "Could I have a hint, please?";
// While the session has ended and its feedback has not come: the push may have been missed.
const FEEDBACK_POLL_MS = 4000;

const RATINGS = [
  ["communication", "Communication"],
  ["problem_solving", "Problem solving"],
  ["technical", "Technical"],
  ["overall", "Overall"],
];

const SEND_REFUSED = {
  REPLY_IN_PROGRESS: "The interviewer is still answering. Your message is kept: send it once the reply is in.",
  INVALID_SESSION_STATE: "The session has ended: nothing more can be sent.",
  TOO_MANY_REQUESTS: "Too many messages in a short time. Wait a moment, then send it again.",
  SERVICE_UNAVAILABLE: "Peerview cannot reach its database right now. Send it again in a moment.",
  TIMEOUT: "Peerview did not answer in time. Send it again in a moment.",
  VALIDATION_ERROR: "A message is 1 to 4000 characters.",
};

const JOIN_REFUSED = {
  SESSION_NOT_FOUND: "This practice session does not exist, or it is not yours.",
  TOO_MANY_REQUESTS: "Too many attempts in a short time. Wait a moment, then reload the page.",
  SERVICE_UNAVAILABLE: "Peerview cannot reach its database right now. Trying again…",
  TIMEOUT: "Peerview did not answer in time. Trying again…",
};

/** Who the interviewer is, in the header: the built-in interviewer or the model. */
function engineText(practice) {
  if (practice.engine === "MODEL") return `Language model (${practice.model || "unnamed"})`;
  if (practice.fallback_reason) {
    const why = practice.fallback_reason === "budget_spent" ? "its token budget is spent" : "the model stopped answering";
    return `Built-in interviewer (${why})`;
  }
  return "Built-in interviewer";
}

/** Whose feedback it is. */
function feedbackSource(practice, feedback) {
  return feedback.source === "MODEL"
    ? `Written by ${practice.model || "the language model"}`
    : "Measured by the built-in interviewer";
}

async function renderSession(main, { params, user }) {
  const id = params.id;
  const practicePath = `/api/practice-sessions/${encodeURIComponent(id)}`;
  const title = heading("Practice session");
  const body = h("div", { class: "stack" });
  main.append(title, body);
  let practice;
  let transcript;
  try {
    [practice, transcript] = await Promise.all([get(practicePath), get(`${practicePath}/transcript`)]);
  } catch (error) {
    if (error.status !== 404) throw error;
    title.textContent = "Practice session not found";
    replace(body, h("p", { class: "notice warn", role: "alert" }, JOIN_REFUSED.SESSION_NOT_FOUND),
      h("p", {}, h("a", { href: "#/practice" }, "Your practice sessions")));
    return undefined;
  }
  const view = new PracticeView({ title, body, practice, messages: transcript.items, user, practicePath });
  // Not awaited: the page is usable at once (the router focuses its title when render returns),
  // while the editor loads and the socket joins.
  view.open().catch(failed);
  return () => view.close();
}

class PracticeView {
  constructor({ title, body, practice, messages, user, practicePath }) {
    this.title = title;
    this.body = body;
    this.practice = practice;
    this.session = practice.session;
    this.user = user;
    this.practicePath = practicePath;
    this.sessionPath = `/api/interview-sessions/${encodeURIComponent(this.session.id)}`;
    this.owner = this.session.interviewee.id === user.id;
    this.coding = this.session.type === "CODING";
    this.messages = new Map(); // id → message
    this.drafts = new Map(); // reply_id → {element, text}
    this.waiting = false; // for the interviewer's answer to our last message
    this.sending = false;
    this.closed = false;
    this.joined = false;
    this.rejoinNeeded = false;
    this.codepad = null;
    this.finalCode = null;
    this.unsubscribe = [];
    this.intervals = [];
    this.hardEndCheck = null;
    this.feedbackPoll = null;
    this.build();
    for (const message of messages) this.addMessage(message, { scroll: false });
    this.paint();
  }

  get live() {
    return this.session.status === "LIVE";
  }

  // --- Layout -------------------------------------------------------------------------------

  build() {
    const { session } = this;
    const question = session.questions?.[0];
    this.title.textContent = question ? `Practice: ${question.title}` : `Practice: ${topic(session)}`;

    this.statusBadge = h("span", {});
    this.engineLine = h("p", { class: "practice-engine" });
    this.hintsLine = h("span", { class: "practice-hints muted" });
    this.socketText = h("p", { class: "socket-state muted", hidden: true });
    this.timers = h("div", { class: "timers" });
    this.actionAlert = h("p", { class: "form-alert", role: "alert", hidden: true });
    this.extendButton = h("button", { type: "button", onclick: () => this.act("extend", { minutes: EXTEND_MINUTES }) },
      `Extend (+${EXTEND_MINUTES} min)`);
    this.endButton = h("button", { type: "button", class: "danger", onclick: () => this.endDialog.showModal() },
      "End the session");
    this.actionArea = h("div", { class: "actions" }, this.extendButton, this.endButton);
    this.endDialog = this.owner ? this.buildEndDialog() : null;

    const head = h(
      "section",
      { class: "card stack practice-head", "aria-label": "Session" },
      h("div", { class: "row" },
        h("p", { class: "meta" },
          h("span", {}, session.category), h("span", {}, label(session.difficulty)), h("span", {}, label(session.type))),
        this.statusBadge),
      this.engineLine,
      this.timers,
      this.socketText,
      this.actionAlert,
      this.owner ? this.actionArea
        : h("p", { class: "muted" }, `You are viewing ${session.interviewee.name}'s practice session as an admin (read-only).`),
      h("p", {}, h("a", { href: "#/practice" }, "← All practice sessions"), " · ",
        h("a", { href: `#/sessions/${encodeURIComponent(session.id)}` }, "Session details")),
    );

    this.feedbackPart = h("section", { class: "card stack practice-feedback", "aria-labelledby": "practice-feedback-title", hidden: true });

    const questionPart = h(
      "section",
      { class: "card practice-question", "aria-labelledby": "practice-question-title" },
      h("h2", { id: "practice-question-title" }, "Question"),
      question
        ? [h("h3", {}, question.title), h("p", { class: "prompt" }, question.prompt)]
        : empty("No question."),
    );

    this.log = h("ol", { class: "chat-log", role: "log", "aria-label": "Conversation", "aria-live": "polite", tabindex: "0" });
    this.waitingLine = h("p", { class: "chat-waiting muted", hidden: true });
    this.chatPart = h(
      "section",
      { class: "card stack practice-chat", "aria-labelledby": "practice-chat-title" },
      h("div", { class: "row" }, h("h2", { id: "practice-chat-title" }, "Conversation"), this.hintsLine),
      this.log,
      this.waitingLine,
      this.owner ? this.buildComposer() : null,
    );

    this.codeSlot = h("div", { class: "practice-code-slot" });
    this.element = h(
      "div",
      { class: `practice${this.coding ? " practice-coding" : ""}`, dataset: { sessionStatus: session.status } },
      h("div", { class: "stack practice-main" }, this.feedbackPart, questionPart, this.chatPart),
      this.coding ? this.codeSlot : null,
    );
    replace(this.body, head, this.element, this.endDialog);
  }

  buildComposer() {
    const composer = field({
      label: "Your answer",
      name: "text",
      type: "textarea",
      maxlength: 4000,
      rows: 3,
      hint: "Enter sends; Shift+Enter starts a new line.",
    });
    this.input = composer.querySelector("textarea");
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.sendAlert = h("p", { class: "form-alert", role: "alert", hidden: true });
    this.sendButton = h("button", { type: "submit", class: "primary" }, "Send");
    this.hintButton = h("button", { type: "button", onclick: () => this.send(HINT_TEXT, { hint: true }) }, "Hint");
    this.form = h(
      "form",
      { class: "chat-form", novalidate: true, "aria-label": "Your message" },
      this.sendAlert,
      composer,
      h("div", { class: "actions" }, this.sendButton, this.hintButton),
    );
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send(this.input.value, { fromInput: true });
    });
    this.endedLine = h("p", { class: "muted", hidden: true }, "The session has ended: the conversation is closed.");
    return h("div", {}, this.form, this.endedLine);
  }

  buildEndDialog() {
    const dialog = h(
      "dialog",
      { class: "card", "aria-labelledby": "practice-end-title" },
      h("h2", { id: "practice-end-title" }, "End the practice session?"),
      h("p", {}, "The interviewer closes the conversation and writes your feedback."),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => { dialog.close(); this.act("end"); } },
          "End the session now"),
        h("button", { type: "button", onclick: () => dialog.close() }, "Keep going")),
    );
    return dialog;
  }

  // --- Painting -----------------------------------------------------------------------------

  paint() {
    const { session, practice } = this;
    this.element.dataset.sessionStatus = session.status;
    replace(this.statusBadge, badge(session.status));
    replace(this.engineLine, "Interviewer: ", h("strong", {}, engineText(practice)));
    this.hintsLine.textContent = practice.hints_total
      ? `Hints used: ${practice.hints_given} of ${practice.hints_total}`
      : "This question has no hints.";
    this.paintTimers();
    if (this.owner) {
      const left = MAX_EXTENSION - (session.extended_minutes || 0);
      this.actionArea.hidden = !this.live;
      this.extendButton.disabled = left < EXTEND_MINUTES;
      this.extendButton.title = left < EXTEND_MINUTES ? "No more extension possible" : "";
      this.form.hidden = !this.live;
      this.endedLine.hidden = this.live;
      this.paintComposer();
    }
    this.paintWaiting();
    this.paintFeedback();
  }

  paintTimers() {
    const { session } = this;
    if (!this.live) {
      replace(this.timers, h("p", {},
        session.ended_at ? ["Ended ", h("time", { datetime: session.ended_at }, formatTime(session.ended_at))] : "Ended",
        session.end_reason ? ` · ${label(session.end_reason)}` : ""));
      return;
    }
    paintLiveTimers(this, session);
  }

  paintComposer() {
    if (!this.owner) return;
    const off = !this.live || this.sending;
    this.sendButton.disabled = off;
    this.hintButton.disabled = off;
  }

  paintWaiting() {
    const drafting = this.drafts.size > 0;
    this.waitingLine.textContent = "The interviewer is answering…";
    this.waitingLine.hidden = !(this.live && this.waiting && !drafting);
  }

  paintFeedback() {
    const { practice } = this;
    if (this.live) {
      this.feedbackPart.hidden = true;
      return;
    }
    this.feedbackPart.hidden = false;
    const feedback = practice.feedback;
    this.feedbackPart.dataset.ready = String(Boolean(feedback));
    if (!feedback) {
      this.feedbackPart.setAttribute("aria-busy", "true");
      replace(this.feedbackPart,
        h("h2", { id: "practice-feedback-title" }, "Feedback"),
        h("p", { class: "notice", role: "status" }, "Writing your feedback…"));
      return;
    }
    this.feedbackPart.removeAttribute("aria-busy");
    replace(
      this.feedbackPart,
      h("div", { class: "row" },
        h("h2", { id: "practice-feedback-title" }, "Feedback"),
        h("p", { class: "feedback-source", dataset: { source: feedback.source } }, feedbackSource(practice, feedback))),
      h("dl", { class: "ratings" }, RATINGS.map(([key, text]) => [h("dt", {}, text), h("dd", {}, `${feedback.ratings[key]} / 5`)])),
      feedback.comments.length
        ? h("ul", { class: "feedback-comments" }, feedback.comments.map((comment) => this.commentItem(comment)))
        : null,
      h("p", { class: "feedback-basis muted" }, feedback.basis),
    );
  }

  /** A comment and what it points at: a message of the transcript, or a line of the code. */
  commentItem(comment) {
    let about = null;
    if (comment.message_seq !== null && comment.message_seq !== undefined) {
      const seq = comment.message_seq;
      about = h("div", { class: "comment-about" },
        h("button", { type: "button", class: "link", onclick: () => this.showMessage(seq) }, `Message ${seq}`),
        comment.excerpt ? h("blockquote", {}, comment.excerpt) : null);
    } else if (comment.code_line !== null && comment.code_line !== undefined) {
      about = h("div", { class: "comment-about" },
        h("span", {}, `Code line ${comment.code_line}`),
        comment.excerpt ? h("pre", {}, h("code", {}, comment.excerpt)) : null);
    } else if (comment.excerpt) {
      about = h("div", { class: "comment-about" }, h("blockquote", {}, comment.excerpt));
    }
    return h("li", {}, h("p", {}, comment.text), about);
  }

  showMessage(seq) {
    const item = this.log.querySelector(`[data-seq="${Number(seq)}"]`);
    if (!item) return;
    item.scrollIntoView({ block: "center", behavior: "smooth" });
    item.focus({ preventScroll: true });
  }

  // --- The conversation ---------------------------------------------------------------------

  speaker(message) {
    if (message.role === "candidate") return this.owner ? "You" : this.session.interviewee.name;
    if (message.kind === "hint") return "Interviewer · hint";
    if (message.kind === "warning") return "Interviewer · time";
    return "Interviewer";
  }

  messageItem(message) {
    if (message.role === "notice") {
      return h("li", { class: "chat-notice", tabindex: "-1", dataset: { seq: message.seq, id: message.id, kind: message.kind } },
        h("p", {}, message.text));
    }
    return h(
      "li",
      {
        class: `bubble bubble-${message.role}`,
        tabindex: "-1",
        dataset: { seq: message.seq, id: message.id, kind: message.kind },
      },
      h("p", { class: "bubble-who" }, this.speaker(message)),
      h("p", { class: "bubble-text" }, message.text),
    );
  }

  /** Keep the log at its end when the reader is there already. */
  atEnd() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 48;
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** A stored message, once (the ack and the push both bring the user's own), in `seq` order. */
  addMessage(message, { scroll = true } = {}) {
    if (!message || this.messages.has(message.id)) return;
    const follow = scroll && this.atEnd();
    this.messages.set(message.id, message);
    const draft = this.drafts.get(message.id);
    if (draft) {
      draft.element.remove();
      this.drafts.delete(message.id);
    }
    if (message.role !== "candidate") {
      // The interviewer has answered (or a notice says it cannot): no draft is still coming.
      for (const other of this.drafts.values()) other.element.remove();
      this.drafts.clear();
      this.waiting = false;
    }
    const item = this.messageItem(message);
    const later = [...this.log.querySelectorAll("li[data-seq]")].find((li) => Number(li.dataset.seq) > message.seq);
    const firstDraft = this.log.querySelector("li.bubble-draft");
    this.log.insertBefore(item, later || firstDraft || null);
    if (follow || !scroll) this.scrollToEnd();
    this.paintWaiting();
  }

  /** A piece of a reply being written: shown in order in its draft bubble. */
  addDelta(replyId, text) {
    if (this.messages.has(replyId)) return; // the reply is in already
    const follow = this.atEnd();
    let draft = this.drafts.get(replyId);
    if (!draft) {
      const textLine = h("p", { class: "bubble-text" });
      const element = h("li", { class: "bubble bubble-interviewer bubble-draft", "aria-busy": "true" },
        h("p", { class: "bubble-who" }, "Interviewer · writing…"), textLine);
      draft = { element, textLine, text: "" };
      this.drafts.set(replyId, draft);
      this.log.append(element);
    }
    draft.text += text;
    draft.textLine.textContent = draft.text;
    if (follow) this.scrollToEnd();
    this.paintWaiting();
  }

  async send(text, { hint = false, fromInput = false } = {}) {
    if (!this.owner || this.sending || !this.live) return;
    this.sendAlert.hidden = true;
    if (!text.trim()) {
      this.sayInChat("Write your answer first.");
      this.input.focus();
      return;
    }
    this.sending = true;
    this.paintComposer();
    let ack = await live.call("practice_message", { session_id: this.session.id, text, hint });
    if (!this.closed && ack?.code === "NOT_JOINED") {
      // The socket came back without its room: join again, then try once more.
      await this.join();
      ack = await live.call("practice_message", { session_id: this.session.id, text, hint });
    }
    this.sending = false;
    if (this.closed) return;
    this.paintComposer();
    if (!ack?.ok) {
      const code = ack?.code || "TIMEOUT";
      this.sayInChat(SEND_REFUSED[code] || `Peerview did not take your message (${code}).`);
      if (code === "INVALID_SESSION_STATE") this.refresh();
      return;
    }
    if (fromInput && this.input.value === text) this.input.value = "";
    const answered = [...this.messages.values()].some((m) => m.role !== "candidate" && m.seq > ack.message.seq);
    this.waiting = !answered;
    this.addMessage(ack.message);
    this.paintWaiting();
    if (fromInput) this.input.focus();
  }

  sayInChat(text) {
    this.sendAlert.textContent = text;
    this.sendAlert.hidden = false;
  }

  // --- Pushes, joining, refreshing -------------------------------------------------------

  async open() {
    this.intervals.push(setInterval(() => { if (this.live) this.paintTimers(); }, 1000));
    if (!this.owner) {
      await this.showFinalCode();
      return;
    }
    const mine = (push) => push?.session_id === this.session.id;
    this.unsubscribe.push(
      live.on("practice_message", (push) => { if (mine(push)) this.onMessage(push.message); }),
      live.on("practice_delta", (push) => { if (mine(push)) this.addDelta(push.reply_id, push.text); }),
      live.on("practice_feedback", (push) => { if (mine(push)) this.applyPractice({ ...this.practice, feedback: push.feedback }); }),
      live.on("session", (push) => { if (push?.session?.id === this.session.id) this.applySession(push.session); }),
      live.on("disconnect", () => { this.rejoinNeeded = this.joined; this.joined = false; }),
      live.on("connect", () => { if (this.rejoinNeeded) this.reconnected(); }),
      live.on("state", (state) => this.paintSocket(state)),
    );
    this.paintSocket(live.state());
    if (!this.live) {
      this.ended();
      await this.showFinalCode();
      return;
    }
    if (this.coding) await this.openCodePad();
    if (this.closed) return;
    await this.join();
  }

  paintSocket(state) {
    this.socketText.textContent = "Offline: reconnecting to Peerview…";
    this.socketText.hidden = state === "connected" || !this.live;
  }

  onMessage(message) {
    this.addMessage(message);
    // A hint changes the count of hints used; a notice, who answers (the model handed over);
    // a model reply, the tokens spent.
    if (message.kind === "hint" || message.role === "notice" || message.source === "MODEL") this.refresh();
  }

  /** The live code pad (lazily loaded: only a CODING session's page needs the editor). */
  async openCodePad() {
    const { CodePad } = await import("../room/codepad.js");
    if (this.closed) return;
    this.codepad = new CodePad({
      session: this.session,
      role: "INTERVIEWEE",
      self: this.session.interviewee,
      other: { id: "", name: "the AI interviewer" },
      sessionPath: this.sessionPath,
      onStale: () => this.refresh(),
      onNotJoined: () => { if (this.joined) this.join(); },
      choosesLanguage: true,
      hint: "The interviewer reads this code when it answers you and when it writes your feedback.",
    });
    replace(this.codeSlot, this.codepad.element);
  }

  /** An ended session's (or an admin's) code: the final text, read-only. */
  async showFinalCode() {
    if (!this.coding || this.codepad || this.finalCode) return;
    let code;
    let codeView;
    let LANGUAGE_NAMES;
    try {
      [code, { codeView, LANGUAGE_NAMES }] = await Promise.all([get(`${this.sessionPath}/code`), import("../room/codepad.js")]);
    } catch (error) {
      failed(error);
      return;
    }
    if (this.closed || this.codepad || this.finalCode) return;
    const parts = [
      h("div", { class: "codepad-head" },
        h("h2", { id: "practice-code-title" }, "Code"),
        h("span", { class: "codepad-language" }, "Language: ", h("strong", {}, LANGUAGE_NAMES[code.language] || code.language))),
    ];
    if (code.text) {
      this.finalCode = codeView(code, { label: "Final code" });
      parts.push(h("p", { class: "hint" }, "The code pad as the session ended (read-only)."), this.finalCode.element);
    } else {
      this.finalCode = { destroy() {} };
      parts.push(empty("Nothing was written in the code pad."));
    }
    replace(this.codeSlot, h("section", { class: "card stack room-code", "aria-labelledby": "practice-code-title" }, ...parts));
  }

  async join() {
    if (this.closed || !this.live) return;
    this.rejoinNeeded = false;
    const ack = await live.call("join", { session_id: this.session.id });
    if (this.closed) return;
    if (!ack?.ok) {
      const code = ack?.code || "TIMEOUT";
      if (code === "INVALID_SESSION_STATE") {
        await this.refresh();
        return;
      }
      this.say(JOIN_REFUSED[code] || `Peerview refused to let you in (${code}).`);
      if (code === "SERVICE_UNAVAILABLE" || code === "TIMEOUT" || code === "NOT_AUTHENTICATED") {
        setTimeout(() => this.join(), 2000);
      }
      return;
    }
    this.joined = true;
    this.actionAlert.hidden = true;
    this.applySession(ack.session);
    if (this.live) this.codepad?.sync();
  }

  /** Back after a dropped connection: join again, and fetch what was said meanwhile. */
  async reconnected() {
    await this.join();
    await this.refresh({ transcript: true });
  }

  async refresh({ transcript = false } = {}) {
    if (this.closed) return;
    try {
      const [practice, said] = await Promise.all([
        get(this.practicePath),
        transcript ? get(`${this.practicePath}/transcript`) : null,
      ]);
      if (this.closed) return;
      for (const message of said?.items || []) this.addMessage(message);
      this.applyPractice(practice);
    } catch (error) {
      if (error.status !== 404) console.warn(error);
    }
  }

  applyPractice(practice) {
    if (this.closed) return;
    this.practice = practice;
    this.applySession(practice.session);
    this.paint();
  }

  applySession(session) {
    if (this.closed || session?.id !== this.session.id) return;
    const wasLive = this.live;
    this.session = session;
    this.practice = { ...this.practice, session };
    this.codepad?.sessionChanged(session);
    this.paint();
    if (wasLive && !this.live) this.ended();
  }

  /** The session is over: the conversation closes and the feedback is awaited. */
  ended() {
    if (this.endDialog?.open) this.endDialog.close();
    this.waiting = false;
    for (const draft of this.drafts.values()) draft.element.remove();
    this.drafts.clear();
    this.paint();
    if (this.joined) {
      live.call("leave", { session_id: this.session.id });
      this.joined = false;
    }
    if (!this.feedbackPoll && !this.practice.feedback) {
      this.feedbackPoll = setInterval(() => {
        if (this.practice.feedback) {
          clearInterval(this.feedbackPoll);
          return;
        }
        this.refresh({ transcript: true });
      }, FEEDBACK_POLL_MS);
      this.intervals.push(this.feedbackPoll);
    }
  }

  async act(action, bodyData) {
    this.actionAlert.hidden = true;
    const buttons = [this.extendButton, this.endButton];
    buttons.forEach((button) => { button.disabled = true; });
    try {
      this.applySession(await post(`${this.sessionPath}/${action}`, bodyData));
      if (action === "extend") this.say(`Extended by ${bodyData.minutes} minutes.`, "ok");
    } catch (error) {
      this.say(error.message);
      if (error.code === "INVALID_SESSION_STATE") this.refresh();
    } finally {
      if (!this.closed) {
        buttons.forEach((button) => { button.disabled = false; });
        this.paint();
      }
    }
  }

  say(text, kind = "error") {
    this.actionAlert.textContent = text;
    this.actionAlert.className = kind === "ok" ? "notice" : "form-alert";
    this.actionAlert.hidden = false;
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.unsubscribe) stop();
    this.unsubscribe = [];
    for (const interval of this.intervals) clearInterval(interval);
    clearTimeout(this.hardEndCheck);
    this.codepad?.close();
    this.finalCode?.destroy();
    if (this.joined) live.call("leave", { session_id: this.session.id });
  }
}
