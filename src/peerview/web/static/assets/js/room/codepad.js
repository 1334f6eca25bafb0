// The room's code pad (docs/api.md, the code pad): one Yjs document per session, edited by both
// participants in CodeMirror (assets/vendor/codepad.js, built from web/) and carried over the
// room's Socket.IO connection. `code_sync` after every join (the server's diff against our
// state vector), local edits batched into `code_update` and kept until acknowledged (resent
// after a reconnect), the peer's edits and cursor applied from the pushes, the language set by
// the interviewer (PATCH …/code) and followed from the `code_language` push.

import {
  applyAwarenessUpdate, applyUpdate, createCodePad, createCodeView, encodeAwarenessUpdate,
  encodeStateVector, fromBase64, LANGUAGES, mergeUpdates, removeAwarenessStates, toBase64,
} from "../../vendor/codepad.js";
import { patch } from "../api.js";
import * as live from "../live.js";
import { h, replace, uid } from "../ui.js";

const REMOTE = "remote";
// Small local updates are sent together, at most this often.
const FLUSH_MS = 60;
const AWARENESS_MS = 100;
const RETRY_MS = 1000;
// CODE_MAX_UPDATE_BYTES (docs/api.md §2) is 32 KiB by default: one batch stays under it, and
// a single paste larger than that is refused in the editor with a message.
const MAX_BATCH_BYTES = 30 * 1024;
const MAX_INSERT_BYTES = 28 * 1024;
const COLORS = { INTERVIEWER: "#6d28d9", INTERVIEWEE: "#0f766e" };
export const LANGUAGE_NAMES = Object.fromEntries(LANGUAGES);

const REFUSED = {
  CODE_TOO_LARGE: "That edit would make the code larger than the pad allows: it was not saved.",
  UPDATE_TOO_LARGE: "That edit was too large to send at once: it was not saved. Paste in smaller parts.",
  MALFORMED_UPDATE: "Peerview could not read that edit: it was not saved.",
};

/** The final code, read-only, for the session page: `{language, text}` from GET …/code. */
export function codeView(code, { label = "Final code", describedBy } = {}) {
  const host = h("div", { class: "codepad-editor codepad-final", dataset: { language: code.language } });
  const view = createCodeView(host, { text: code.text, language: code.language, label, describedBy });
  return { element: host, destroy: () => view.destroy() };
}

export class CodePad {
  /**
   * `session` and `role` as the room has them, `self`/`other` the participants ({id, name});
   * `onStale()` is called when the server says the session is not in the state we think
   * (the room asks for it again), `onNotJoined()` when the socket must join again.
   * `choosesLanguage` (the interviewer by default; the interviewee of a practice session, who
   * conducts it) gets the language select, and `hint` replaces the line saying who edits.
   */
  constructor({ session, role, self, other, sessionPath, onStale, onNotJoined, choosesLanguage, hint }) {
    this.sessionId = session.id;
    this.status = session.status;
    this.isInterviewer = role === "INTERVIEWER";
    this.choosesLanguage = choosesLanguage ?? this.isInterviewer;
    this.hint = hint || `You and ${other.name} edit this together.`;
    this.self = self;
    this.other = other;
    this.sessionPath = sessionPath;
    this.onStale = onStale || (() => {});
    this.onNotJoined = onNotJoined || (() => {});
    this.closed = false;
    this.synced = false;
    this.editable = false;
    this.language = "plaintext";
    this.pending = []; // local updates not yet acknowledged, oldest first
    this.inFlight = null;
    this.flushTimer = null;
    this.awarenessTimer = null;
    this.retryTimer = null;
    this.syncRun = 0;
    this.hintId = uid("codepad-hint");
    this.build();
    this.createPad();
    this.unsubscribe = [
      live.on("code_update", (push) => this.onRemoteUpdate(push)),
      live.on("code_awareness", (push) => this.onRemoteAwareness(push)),
      live.on("code_language", (push) => this.onLanguage(push)),
      live.on("disconnect", () => this.onDisconnect()),
    ];
  }

  build() {
    const selectId = uid("code-language");
    this.host = h("div", { class: "codepad-editor" });
    this.stateText = h("span", { class: "codepad-state muted" });
    this.alert = h("p", { class: "form-alert", role: "alert", hidden: true });
    if (this.choosesLanguage) {
      this.select = h("select", {
        id: selectId, name: "language", disabled: true,
        onchange: () => this.chooseLanguage(this.select.value),
      }, LANGUAGES.map(([value, text]) => h("option", { value }, text)));
      this.select.value = this.language;
      this.languageControl = h("span", { class: "codepad-language" },
        h("label", { for: selectId }, "Language"), this.select);
    } else {
      this.languageText = h("strong", {}, LANGUAGE_NAMES[this.language]);
      this.languageControl = h("span", { class: "codepad-language" }, "Language: ", this.languageText);
    }
    this.element = h(
      "section",
      { class: "card stack room-code", "aria-labelledby": "codepad-title", dataset: { editable: "false", saved: "false" } },
      h("div", { class: "codepad-head" },
        h("h2", { id: "codepad-title" }, "Code"),
        this.languageControl,
        this.stateText),
      this.alert,
      this.host,
      h("p", { class: "hint", id: this.hintId },
        `${this.hint} Tab indents; to leave the editor with the keyboard, press Escape, then Tab.`),
    );
    this.paintState();
  }

  createPad() {
    this.pad = createCodePad(this.host, {
      language: this.language,
      readOnly: !this.editable,
      label: "Code",
      describedBy: this.hintId,
      user: { name: this.self.name, color: COLORS[this.isInterviewer ? "INTERVIEWER" : "INTERVIEWEE"] },
      maxInsertBytes: MAX_INSERT_BYTES,
      onTooLarge: (bytes) => this.say(
        `That paste is ${Math.ceil(bytes / 1024)} KiB: paste at most ${MAX_INSERT_BYTES / 1024} KiB at once.`),
    });
    this.pad.doc.on("update", (update, origin) => {
      if (origin === REMOTE || this.closed) return;
      this.pending.push(update);
      this.paintState();
      this.schedule(FLUSH_MS);
    });
    this.pad.awareness.on("update", (_changes, origin) => {
      if (origin === "local") this.scheduleAwareness();
    });
  }

  // --- The document -------------------------------------------------------------------------

  /** After each (re)join: the server's diff against our state, its language, whether we may edit. */
  async sync() {
    if (this.closed) return;
    const run = ++this.syncRun;
    const ack = await live.call("code_sync", {
      session_id: this.sessionId,
      state_vector: toBase64(encodeStateVector(this.pad.doc)),
    });
    if (this.closed || run !== this.syncRun) return;
    if (!ack?.ok) {
      const code = ack?.code || "TIMEOUT";
      if (code === "INVALID_SESSION_STATE" || code === "SESSION_NOT_FOUND") {
        this.setEditable(false);
        this.onStale();
      } else if (code === "NOT_JOINED") {
        this.onNotJoined();
      } else if (code !== "INVALID_TOKEN" && code !== "NOT_AUTHENTICATED") {
        setTimeout(() => { if (run === this.syncRun) this.sync(); }, 2000);
      }
      this.paintState(code);
      return;
    }
    try {
      if (ack.update) applyUpdate(this.pad.doc, fromBase64(ack.update), REMOTE);
    } catch (error) {
      console.warn("code_sync update not applied", error);
    }
    this.synced = true;
    this.setLanguage(ack.language);
    this.setEditable(Boolean(ack.editable));
    this.sendAwareness();
    this.flush();
  }

  schedule(ms) {
    if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, ms);
    }
  }

  /** Send the pending updates, merged, one batch at a time. */
  flush() {
    if (this.closed || !this.synced || this.inFlight || !this.pending.length) return;
    const batch = [];
    let size = 0;
    while (this.pending.length && (!batch.length || size + this.pending[0].length <= MAX_BATCH_BYTES)) {
      const update = this.pending.shift();
      batch.push(update);
      size += update.length;
    }
    const sent = { update: batch.length === 1 ? batch[0] : mergeUpdates(batch) };
    this.inFlight = sent;
    this.paintState();
    live.call("code_update", { session_id: this.sessionId, update: toBase64(sent.update) })
      .then((ack) => this.acknowledged(sent, ack));
  }

  acknowledged(sent, ack) {
    // A batch given up at a disconnect is back in `pending`, sent again after the next sync.
    if (this.inFlight !== sent) return;
    this.inFlight = null;
    if (this.closed) return;
    if (ack?.ok) {
      this.paintState();
      this.flush();
      return;
    }
    const code = ack?.code || "TIMEOUT";
    if (REFUSED[code]) {
      // Refused for good: the server's document is the truth; start again from it.
      this.say(REFUSED[code]);
      this.reload();
      return;
    }
    this.pending.unshift(sent.update);
    if (code === "INVALID_SESSION_STATE") {
      this.setEditable(false);
      this.onStale();
    } else if (code === "NOT_JOINED") {
      this.synced = false;
      this.onNotJoined();
    } else if (code === "INVALID_TOKEN" || code === "NOT_AUTHENTICATED") {
      this.synced = false;
    } else if (this.retryTimer === null) {
      // TOO_MANY_REQUESTS, SERVICE_UNAVAILABLE, TIMEOUT, …: again in a moment.
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.flush();
      }, RETRY_MS);
    }
    this.paintState(code);
  }

  /** A fresh document from the server's, dropping what it refused. */
  reload() {
    this.pending = [];
    this.pad.destroy();
    replace(this.host);
    this.synced = false;
    this.createPad();
    this.sync();
  }

  onRemoteUpdate(push) {
    if (this.closed || push?.session_id !== this.sessionId || !push.update) return;
    try {
      applyUpdate(this.pad.doc, fromBase64(push.update), REMOTE);
    } catch (error) {
      console.warn("code_update push not applied", error);
    }
  }

  onDisconnect() {
    this.synced = false;
    if (this.inFlight) {
      this.pending.unshift(this.inFlight.update);
      this.inFlight = null;
    }
    this.paintState();
  }

  // --- Awareness: the cursors -------------------------------------------------------------

  scheduleAwareness() {
    if (this.awarenessTimer === null) {
      this.awarenessTimer = setTimeout(() => {
        this.awarenessTimer = null;
        this.sendAwareness();
      }, AWARENESS_MS);
    }
  }

  sendAwareness() {
    if (this.closed || !this.synced || live.state() !== "connected") return;
    const { awareness, doc } = this.pad;
    live.call("code_awareness", {
      session_id: this.sessionId,
      update: toBase64(encodeAwarenessUpdate(awareness, [doc.clientID])),
    });
  }

  onRemoteAwareness(push) {
    if (this.closed || push?.session_id !== this.sessionId || !push.update) return;
    try {
      applyAwarenessUpdate(this.pad.awareness, fromBase64(push.update), REMOTE);
    } catch (error) {
      console.warn("code_awareness push not applied", error);
    }
  }

  /** The peer arrived (again): they need our cursor. */
  peerJoined() {
    this.sendAwareness();
  }

  /** The peer left: their cursor goes. */
  peerLeft() {
    const { awareness, doc } = this.pad;
    const others = [...awareness.getStates().keys()].filter((id) => id !== doc.clientID);
    if (others.length) removeAwarenessStates(awareness, others, REMOTE);
  }

  // --- Language and state ------------------------------------------------------------------

  setLanguage(language) {
    if (!language || !(language in LANGUAGE_NAMES)) return;
    this.language = language;
    this.element.dataset.language = language;
    this.pad.setLanguage(language);
    if (this.select) this.select.value = language;
    if (this.languageText) this.languageText.textContent = LANGUAGE_NAMES[language];
  }

  onLanguage(push) {
    if (this.closed || push?.session_id !== this.sessionId) return;
    this.setLanguage(push.language);
  }

  async chooseLanguage(language) {
    const before = this.language;
    this.select.disabled = true;
    this.clearSay();
    try {
      const code = await patch(`${this.sessionPath}/code`, { language });
      if (!this.closed) this.setLanguage(code.language);
    } catch (error) {
      if (this.closed) return;
      this.setLanguage(before);
      this.say(error.message);
      if (error.code === "INVALID_SESSION_STATE") this.onStale();
    } finally {
      if (!this.closed) this.paintLanguageControl();
    }
  }

  paintLanguageControl() {
    if (this.select) this.select.disabled = !this.synced || !(this.status === "SCHEDULED" || this.status === "LIVE");
  }

  setEditable(editable) {
    this.editable = editable;
    this.element.dataset.editable = String(editable);
    this.pad.setReadOnly(!editable);
    this.paintState();
  }

  /** The room's session changed: a start makes the pad editable (sync tells), an end read-only. */
  sessionChanged(session) {
    const was = this.status;
    this.status = session.status;
    if (session.status !== "LIVE") this.setEditable(false);
    else if (was !== "LIVE" && this.synced) this.sync();
    this.paintState();
  }

  paintState(code = null) {
    let text;
    if (code === "TOO_MANY_REQUESTS") text = "Typing faster than Peerview takes: saving in a moment…";
    else if (code === "SERVICE_UNAVAILABLE" || code === "TIMEOUT") text = "Not saved yet: trying again…";
    else if (!this.synced && live.state() !== "connected") text = "Offline: your edits are kept and sent when you are back.";
    else if (!this.synced) text = "Loading the code…";
    else if (!this.editable) {
      text = this.status === "LIVE" ? "Read-only."
        : this.status === "SCHEDULED" ? "Read-only until the session starts." : "Read-only: the session has ended.";
    }
    else if (this.pending.length || this.inFlight) text = "Saving…";
    else text = "Saved.";
    this.stateText.textContent = text;
    this.element.dataset.saved = String(this.synced && !this.pending.length && !this.inFlight);
    this.paintLanguageControl();
  }

  say(text) {
    this.alert.textContent = text;
    this.alert.hidden = false;
  }

  clearSay() {
    this.alert.hidden = true;
  }

  close() {
    if (this.closed) return;
    // The last edits go now, and the peer stops seeing our cursor.
    clearTimeout(this.flushTimer);
    clearTimeout(this.awarenessTimer);
    clearTimeout(this.retryTimer);
    this.flushTimer = null;
    if (this.synced && this.editable) this.flush();
    if (this.synced && live.state() === "connected") {
      const { awareness, doc } = this.pad;
      live.call("code_awareness", {
        session_id: this.sessionId,
        update: toBase64(encodeAwarenessUpdate(awareness, [doc.clientID], new Map([[doc.clientID, null]]))),
      });
    }
    this.closed = true;
    for (const stop of this.unsubscribe) stop();
    this.pad.destroy();
  }
}
