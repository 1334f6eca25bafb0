// The interview room (#/room/:id): the two participants' video call, the session's clock and
// actions, its questions and the shared code pad. docs/api.md §5 (the session and its
// lifecycle), §5.6 (session questions), §5.7 (the code pad) and §8 (join, signal, presence,
// the `session` and `code_*` events). A practice session (§13) has no room: its address
// leads to its practice page.

import { get, post } from "../api.js";
import * as live from "../live.js";
import { Call, MEDIA } from "../room/call.js";
import { CodePad } from "../room/codepad.js";
import { questionsPanel } from "../room/questions.js";
import { badge, formatTime, h, heading, label, paintLiveTimers, replace } from "../ui.js";
import { isPractice, placeOf } from "./sessions.js";

const OPEN = new Set(["SCHEDULED", "LIVE"]);
const MAX_EXTENSION = 60;
// A slow safety net. Every change of the session (its lifecycle and its questions) is pushed,
// and a socket that reconnects joins again and gets the session afresh. What no push nor rejoin
// covers: with several server processes and Redis away, a change made through another process
// never reaches this socket, which stays connected to its own (docs/api.md §8.6).
const POLL_MS = 30000;

const REFUSED = {
  SESSION_NOT_FOUND: "This session does not exist, or you are not one of its participants.",
  INVALID_SESSION_STATE: "This session is over: its room is closed.",
  TOO_MANY_REQUESTS: "Too many attempts in a short time. Wait a moment, then reload the page.",
  SERVICE_UNAVAILABLE: "Peerview cannot reach its database right now. Trying again…",
  TIMEOUT: "Peerview did not answer in time. Trying again…",
};

const CALL_STATES = {
  new: "not started",
  connecting: "connecting…",
  connected: "connected",
  disconnected: "interrupted, reconnecting…",
  failed: "lost, reconnecting…",
  closed: "closed",
};

export async function render(main, { params, user }) {
  const id = params.id;
  const sessionPath = `/api/interview-sessions/${encodeURIComponent(id)}`;
  const title = heading("Interview room");
  const body = h("div", { class: "stack" });
  main.append(title, body);

  let session;
  try {
    session = await get(sessionPath);
  } catch (error) {
    replace(body, h("p", { class: "notice warn", role: "alert" },
      error.status === 404 ? REFUSED.SESSION_NOT_FOUND : error.message));
    return undefined;
  }
  if (isPractice(session)) {
    // Replaced, not added to the history: Back does not come here again.
    window.location.replace(placeOf(session));
    return undefined;
  }
  const role = session.interviewer.id === user.id ? "INTERVIEWER"
    : session.interviewee.id === user.id ? "INTERVIEWEE" : null;
  if (!role) {
    replace(body,
      h("p", { class: "notice warn", role: "alert" }, "Only the session's two participants can enter its room."),
      h("p", {}, h("a", { href: `#/sessions/${encodeURIComponent(id)}` }, "Go to the session page")));
    return undefined;
  }
  const other = role === "INTERVIEWER" ? session.interviewee : session.interviewer;
  title.textContent = `Interview with ${other.name}`;
  if (!OPEN.has(session.status)) {
    replace(body, endedPanel(session));
    return undefined;
  }
  const room = new Room({ body, session, role, other, sessionPath });
  room.open();
  return () => room.close();
}

/** What a closed room shows: the end, why, and where the feedback form is. */
function endedPanel(session) {
  const headingId = "room-ended-title";
  return h(
    "section",
    { class: "card room-ended", "aria-labelledby": headingId },
    h("h2", { id: headingId, tabindex: "-1" }, "The session has ended"),
    h("p", {}, session.end_reason ? `${label(session.end_reason)}.`
      : session.status === "CANCELLED" ? "It was cancelled." : "It is over."),
    h("p", {},
      h("a", { href: `#/sessions/${encodeURIComponent(session.id)}`, class: "button primary" },
        session.status === "COMPLETED" ? "Go to the session page to write your feedback" : "Go to the session page")),
  );
}

class Room {
  constructor({ body, session, role, other, sessionPath }) {
    this.body = body;
    this.session = session;
    this.role = role;
    this.other = other;
    this.sessionPath = sessionPath;
    this.isInterviewer = role === "INTERVIEWER";
    this.closed = false;
    this.joined = false;
    this.rejoinNeeded = false;
    this.peerPresent = false;
    this.unsubscribe = [];
    this.intervals = [];
    this.hardEndCheck = null;
    this.call = new Call({
      offerer: this.isInterviewer,
      send: (type, data) => this.signal(type, data),
      onChange: () => this.paintCall(),
      onStuck: () => this.rejoin(),
    });
    this.build();
  }

  // --- Layout ---------------------------------------------------------------------------

  build() {
    const { session } = this;
    this.remoteVideo = h("video", { autoplay: true, playsinline: true, "aria-label": `${this.other.name}'s video` });
    this.selfVideo = h("video", { autoplay: true, playsinline: true, "aria-label": "Your own video" });
    this.selfVideo.muted = true;
    this.remoteCaption = h("span", { class: "caption" }, this.other.name);
    this.remoteEmpty = h("p", { class: "video-empty" }, `Waiting for ${this.other.name}…`);
    this.presenceText = h("span", { class: "presence" });
    this.presenceDot = h("span", { class: "dot", "aria-hidden": "true" });
    this.callText = h("span", { class: "call-state" });
    this.socketText = h("span", { class: "socket-state" });
    this.statusBadge = h("span", {});
    this.statusLine = h(
      "p",
      { class: "status-line", role: "status", "aria-live": "polite" },
      h("span", {}, this.presenceDot, this.presenceText),
      this.callText,
      this.socketText,
    );
    this.mediaNote = h("p", { class: "notice warn", hidden: true, role: "alert" });

    this.micButton = h("button", {
      type: "button", class: "toggle", "aria-pressed": "true", disabled: true,
      onclick: () => this.toggle("audio", this.micButton),
    }, "Microphone");
    this.camButton = h("button", {
      type: "button", class: "toggle", "aria-pressed": "true", disabled: true,
      onclick: () => this.toggle("video", this.camButton),
    }, "Camera");
    this.soundButton = h("button", {
      type: "button", hidden: true, onclick: () => this.unmuteRemote(),
    }, `Hear ${this.other.name}`);
    this.actionArea = h("div", { class: "room-actions" });
    this.actionAlert = h("p", { class: "form-alert", role: "alert", hidden: true });
    this.timers = h("div", { class: "timers" });

    // The interviewee hears of each change through the `session` push ("questions").
    this.questions = questionsPanel({
      session,
      isInterviewer: this.isInterviewer,
      onChanged: (fresh) => this.applySession(fresh),
    });

    // The shared editor: synced after every join, editable while the session is LIVE.
    this.codepad = new CodePad({
      session,
      role: this.role,
      self: this.isInterviewer ? session.interviewer : session.interviewee,
      other: this.other,
      sessionPath: this.sessionPath,
      onStale: () => this.refresh(),
      onNotJoined: () => { if (this.joined) this.join(); },
    });

    this.endDialog = this.isInterviewer ? this.buildEndDialog() : null;

    this.element = h(
      "div",
      { class: "room", dataset: { connection: "new", sessionStatus: session.status } },
      h("section", { class: "stack room-main", "aria-label": "Call" },
        h("div", { class: "videos" },
          h("div", { class: "video-box" }, this.remoteVideo, this.remoteEmpty, this.remoteCaption),
          h("div", { class: "video-self" }, this.selfVideo)),
        h("div", { class: "room-bar", role: "group", "aria-label": "Call controls" },
          this.micButton, this.camButton, this.soundButton,
          h("a", { class: "button", href: `#/sessions/${encodeURIComponent(session.id)}` }, "Leave the room")),
        this.mediaNote,
        h("div", { class: "card stack room-session", role: "group", "aria-label": "Session" },
          h("div", { class: "row" },
            h("p", { class: "meta" },
              h("span", {}, session.category), h("span", {}, label(session.difficulty)),
              h("span", {}, label(session.type))),
            this.statusBadge),
          this.timers,
          this.actionAlert,
          this.actionArea)),
      this.codepad.element,
      this.questions.element,
    );
    replace(this.body, this.statusLine, this.element, this.endDialog);
    this.paintSession();
    this.paintCall();
  }

  buildEndDialog() {
    const dialog = h(
      "dialog",
      { class: "card", "aria-labelledby": "end-dialog-title" },
      h("h2", { id: "end-dialog-title" }, "End the session?"),
      h("p", {}, `The call ends for you and ${this.other.name}, and the session is completed.`),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => { dialog.close(); this.act("end"); } },
          "End the session now"),
        h("button", { type: "button", onclick: () => dialog.close() }, "Keep going")),
    );
    return dialog;
  }

  paintSession() {
    const { session } = this;
    this.element.dataset.sessionStatus = session.status;
    replace(this.statusBadge, badge(session.status));
    this.paintTimers();
    if (!this.isInterviewer) {
      replace(this.actionArea,
        session.status === "SCHEDULED"
          ? h("p", { class: "muted" }, `${this.other.name} will start the session. You can talk already.`)
          : null);
      return;
    }
    if (session.status === "SCHEDULED") {
      replace(this.actionArea,
        h("p", { class: "muted" }, `Booked for ${formatTime(session.scheduled_at)}. The clock runs from the start.`),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "primary", onclick: () => this.act("start") }, "Start the session")));
      return;
    }
    const left = MAX_EXTENSION - (session.extended_minutes || 0);
    const minutes = h("select", { id: "extend-minutes", name: "minutes", disabled: left <= 0 },
      [5, 10, 15, 30].filter((m) => m <= Math.max(left, 5)).map((m) => h("option", { value: m }, `${m} minutes`)));
    replace(this.actionArea,
      h("div", { class: "actions" },
        h("label", { for: "extend-minutes" }, "Extend by"),
        minutes,
        h("button", {
          type: "button", disabled: left <= 0,
          onclick: () => this.act("extend", { minutes: Number(minutes.value) }),
        }, "Extend"),
        h("span", { class: "muted" }, left > 0 ? `${left} of ${MAX_EXTENSION} minutes left to add` : "No more extension possible")),
      h("div", { class: "actions" },
        h("button", { type: "button", class: "danger", onclick: () => this.endDialog.showModal() }, "End the session")));
  }

  paintTimers() {
    const { session } = this;
    if (session.status !== "LIVE") {
      replace(this.timers, h("p", {}, "Booked for ", h("strong", {}, formatTime(session.scheduled_at)),
        ` · ${session.duration_minutes} minutes`));
      return;
    }
    paintLiveTimers(this, session);
  }

  paintCall() {
    if (this.closed) return;
    const state = this.call.state;
    this.element.dataset.connection = state;
    this.peerPresent = this.call.peerPresent;
    this.presenceDot.classList.toggle("on", this.peerPresent);
    this.presenceText.textContent = this.peerPresent
      ? `${this.other.name} is here`
      : `Waiting for ${this.other.name} to join`;
    this.callText.textContent = this.peerPresent ? `Call: ${CALL_STATES[state] || state}` : "";
    const stream = this.call.remoteStream;
    if (this.remoteVideo.srcObject !== stream) {
      this.remoteVideo.srcObject = stream;
      if (stream) this.playRemote();
    }
    this.remoteEmpty.hidden = Boolean(stream);
  }

  paintSocket(state) {
    this.socketText.textContent = state === "connected" ? "" : "Offline: reconnecting to Peerview…";
  }

  // --- Opening, joining, reconnecting -------------------------------------------------------

  async open() {
    this.unsubscribe.push(
      live.on("signal", (message) => this.onSignal(message)),
      live.on("presence", (event) => this.onPresence(event)),
      live.on("session", (event) => this.onSessionEvent(event)),
      live.on("disconnect", () => { this.rejoinNeeded = this.joined; }),
      live.on("connect", () => { if (this.rejoinNeeded) this.join(); }),
      live.on("state", (state) => this.paintSocket(state)),
    );
    this.paintSocket(live.state());
    // For the browser tests and for support: the open room's RTCPeerConnection.
    const room = this;
    window.peerview = {
      room,
      get pc() {
        return room.call.pc;
      },
    };
    this.intervals.push(setInterval(() => this.paintTimers(), 1000));
    this.intervals.push(setInterval(() => this.refresh(), POLL_MS));
    await this.startMedia();
    if (this.closed) return;
    await this.join();
  }

  async startMedia() {
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia(MEDIA);
    } catch (error) {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        this.note(`No camera could be used (${error.message || error.name}): you take part by voice.`);
      } catch {
        this.note(`No camera or microphone could be used (${error.message || error.name}): you can see and hear ${this.other.name}, not the other way round.`);
      }
    }
    if (this.closed) {
      for (const track of stream?.getTracks() || []) track.stop();
      return;
    }
    this.call.setLocalStream(stream);
    this.selfVideo.srcObject = stream;
    this.micButton.disabled = !stream?.getAudioTracks().length;
    this.camButton.disabled = !stream?.getVideoTracks().length;
  }

  note(text) {
    this.mediaNote.textContent = text;
    this.mediaNote.hidden = false;
  }

  async join() {
    if (this.closed) return;
    this.rejoinNeeded = false;
    const ack = await live.call("join", { session_id: this.session.id });
    if (this.closed) return;
    if (!ack?.ok) {
      const code = ack?.code || "TIMEOUT";
      if (code === "INVALID_SESSION_STATE") {
        await this.refresh();
        if (!this.closed) this.finish(this.session);
        return;
      }
      this.say(REFUSED[code] || `Peerview refused to let you in (${code}).`);
      if (code === "SERVICE_UNAVAILABLE" || code === "TIMEOUT" || code === "NOT_AUTHENTICATED") {
        setTimeout(() => this.join(), 2000);
      }
      return;
    }
    this.joined = true;
    this.clearSay();
    this.call.setIceServers(ack.ice_servers);
    this.applySession(ack.session);
    if (this.closed) return;
    this.codepad.sync();
    const present = (ack.peers || []).includes(this.other.id);
    this.call.setPeerPresent(present);
    this.paintCall();
    if (present && this.call.state !== "connected") this.call.negotiate();
  }

  /** The interviewee's call is stuck: leave and join again, which makes the interviewer offer anew. */
  async rejoin() {
    if (this.closed) return;
    await live.call("leave", { session_id: this.session.id });
    await this.join();
  }

  onPresence(event) {
    if (this.closed || event?.session_id !== this.session.id || event.user_id !== this.other.id) return;
    if (event.state === "joined") {
      this.call.setPeerPresent(true);
      this.codepad.peerJoined();
      // They arrived, or came back after a reload or a drop: a new call either way.
      this.call.negotiate();
    } else if (event.state === "left") {
      this.call.setPeerPresent(false);
      this.codepad.peerLeft();
    }
    this.paintCall();
  }

  onSignal(message) {
    // A signal of another session (this user in two rooms at once) is not this call's.
    if (this.closed || message?.session_id !== this.session.id) return;
    this.call.receive(message);
  }

  signal(type, data) {
    live.call("signal", { session_id: this.session.id, type, data }).then((ack) => {
      if (!ack?.ok && ack?.code === "INVALID_SESSION_STATE") this.refresh();
    });
  }

  // --- The session: pushes, actions, the end ----------------------------------------------

  /**
   * A `session` push: a lifecycle change, or "questions" (the interviewer changed the list).
   * Either way it carries the whole session as this participant sees it, which replaces ours.
   */
  onSessionEvent(event) {
    if (this.closed || event?.session?.id !== this.session.id) return;
    this.applySession(event.session);
  }

  async refresh() {
    if (this.closed) return;
    try {
      this.applySession(await get(this.sessionPath));
    } catch (error) {
      if (error.status === 404) this.finish({ ...this.session, status: "CANCELLED" });
    }
  }

  applySession(session) {
    if (this.closed || session?.id !== this.session.id) return;
    const was = this.session;
    const wasStatus = was.status;
    this.session = session;
    this.questions.update(session);
    this.codepad.sessionChanged(session);
    if (!OPEN.has(session.status)) {
      this.finish(session);
      return;
    }
    if (session.status !== wasStatus || session.planned_end_at !== was.planned_end_at) this.paintSession();
  }

  async act(action, bodyData) {
    this.actionAlert.hidden = true;
    const buttons = this.actionArea.querySelectorAll("button");
    buttons.forEach((button) => { button.disabled = true; });
    try {
      this.applySession(await post(`${this.sessionPath}/${action}`, bodyData));
      if (action === "extend") this.say(`Extended by ${bodyData.minutes} minutes.`);
    } catch (error) {
      this.actionAlert.textContent = error.message;
      this.actionAlert.hidden = false;
      if (error.code === "INVALID_SESSION_STATE") this.refresh();
    } finally {
      if (!this.closed) buttons.forEach((button) => { button.disabled = false; });
      if (!this.closed) this.paintSession();
    }
  }

  say(text) {
    this.actionAlert.textContent = text;
    this.actionAlert.hidden = false;
  }

  clearSay() {
    this.actionAlert.hidden = true;
  }

  /** The session is over (by hand, by time or cancelled): close the room for good. */
  finish(session) {
    if (this.closed) return;
    this.close();
    if (this.endDialog?.open) this.endDialog.close();
    const panel = endedPanel(session);
    replace(this.body, panel);
    panel.querySelector("h2").focus();
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    for (const stop of this.unsubscribe) stop();
    this.unsubscribe = [];
    for (const interval of this.intervals) clearInterval(interval);
    clearTimeout(this.hardEndCheck);
    this.call.close();
    this.codepad.close();
    this.remoteVideo.srcObject = null;
    this.selfVideo.srcObject = null;
    if (this.joined) live.call("leave", { session_id: this.session.id });
    if (window.peerview?.room === this) delete window.peerview;
  }

  // --- Media ------------------------------------------------------------------------------

  toggle(kind, button) {
    const tracks = kind === "audio"
      ? this.call.localStream?.getAudioTracks() : this.call.localStream?.getVideoTracks();
    if (!tracks?.length) return;
    const on = !tracks[0].enabled;
    for (const track of tracks) track.enabled = on;
    button.setAttribute("aria-pressed", String(on));
    button.classList.toggle("off", !on);
  }

  playRemote() {
    this.remoteVideo.muted = false;
    this.remoteVideo.play().catch((error) => {
      if (error?.name !== "NotAllowedError") return; // replaced by a newer stream meanwhile
      // The browser wants a gesture before it plays sound: play muted, offer the sound.
      this.remoteVideo.muted = true;
      this.remoteVideo.play().catch(() => {});
      this.soundButton.hidden = false;
    });
  }

  unmuteRemote() {
    this.remoteVideo.muted = false;
    this.remoteVideo.play().catch(() => {});
    this.soundButton.hidden = true;
  }
}
