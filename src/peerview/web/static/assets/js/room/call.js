// The room's WebRTC call between the session's two participants (docs/api.md §8).
//
// Who offers is fixed, so the two sides never glare: the interviewer always offers and the
// interviewee always answers. Every negotiation uses a fresh RTCPeerConnection on both sides,
// tagged with a generation id that travels in every signal (`data: {gen, description}` or
// `{gen, candidate}`), so late messages of an earlier attempt are recognised and dropped.
// The interviewer negotiates when the peer is there (joined, came back after a reload or a
// network drop) and again when the connection fails or stays interrupted for a few seconds;
// the interviewee, whose connection fails, leaves and joins the room again, which the
// interviewer hears as presence and answers with a new offer.

/** Light media: a mock interview needs a face and a voice, not a film. */
export const MEDIA = {
  video: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { max: 15 } },
  audio: true,
};

const INTERRUPTED_MS = 4000; // a `disconnected` call this long is renegotiated
const INTERVIEWEE_EXTRA_MS = 5000; // the interviewee waits longer: the interviewer acts first
const UNANSWERED_MS = 12000; // an offer not connected this long is made again

function newGeneration() {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export class Call {
  /**
   * @param {object} options
   * @param {boolean} options.offerer  true for the interviewer
   * @param {(type: string, data: object) => void} options.send  sends a `signal`
   * @param {() => void} options.onChange  the connection state or the remote stream changed
   * @param {(message: object) => void} options.onMessage  a message on the data channel
   * @param {() => void} options.onStuck  the interviewee's call failed: rejoin the room
   */
  constructor({ offerer, send, onChange, onMessage, onStuck }) {
    this.offerer = offerer;
    this.send = send;
    this.onChange = onChange;
    this.onMessage = onMessage;
    this.onStuck = onStuck;
    this.iceServers = [];
    this.localStream = null;
    this.remoteStream = null;
    this.pc = null;
    this.channel = null;
    this.gen = null;
    this.pending = [];
    this.peerPresent = false;
    this.closed = false;
    this.queue = Promise.resolve();
    this.timers = { debounce: null, interrupted: null, unanswered: null };
  }

  /** The connection's state as the page shows it ("new" before any negotiation). */
  get state() {
    return this.pc ? this.pc.connectionState : "new";
  }

  setIceServers(servers) {
    this.iceServers = Array.isArray(servers) ? servers : [];
  }

  setLocalStream(stream) {
    this.localStream = stream;
  }

  /** The other participant is in the room (true) or has left (false). */
  setPeerPresent(present) {
    this.peerPresent = present;
    if (!present) {
      this.closePeerConnection();
      this.onChange();
    }
  }

  /** Ask for a new negotiation (the interviewer only; coalesces triggers that come together). */
  negotiate() {
    if (!this.offerer || this.closed) return;
    clearTimeout(this.timers.debounce);
    this.timers.debounce = setTimeout(() => {
      this.queue = this.queue.then(() => this.offer()).catch((error) => console.warn("offer failed", error));
    }, 60);
  }

  /** A `signal` pushed by the server: `{from, type, data}`. */
  receive(message) {
    if (this.closed || !message || !message.data || typeof message.data !== "object") return;
    this.queue = this.queue
      .then(() => this.handle(message.type, message.data))
      .catch((error) => console.warn("signal not applied", error));
  }

  /** Send a message to the peer over the data channel (false when it is not open). */
  message(payload) {
    if (this.channel && this.channel.readyState === "open") {
      this.channel.send(JSON.stringify(payload));
      return true;
    }
    return false;
  }

  async offer() {
    if (this.closed || !this.peerPresent) return;
    const pc = this.fresh(newGeneration());
    const gen = this.gen;
    await pc.setLocalDescription(await pc.createOffer());
    if (pc !== this.pc) return;
    this.send("offer", { gen, description: pc.localDescription.toJSON() });
    this.arm("unanswered", UNANSWERED_MS, () => {
      if (this.pc === pc && pc.connectionState !== "connected") this.negotiate();
    });
  }

  async handle(type, data) {
    if (this.closed) return;
    if (type === "offer" && !this.offerer && data.description) {
      const pc = this.fresh(data.gen);
      await pc.setRemoteDescription(data.description);
      await this.flush(pc);
      await pc.setLocalDescription(await pc.createAnswer());
      if (pc !== this.pc) return;
      this.send("answer", { gen: data.gen, description: pc.localDescription.toJSON() });
    } else if (type === "answer" && this.offerer && data.description) {
      const pc = this.pc;
      if (!pc || data.gen !== this.gen || pc.signalingState !== "have-local-offer") return;
      await pc.setRemoteDescription(data.description);
      await this.flush(pc);
    } else if (type === "ice-candidate" && data.candidate) {
      const pc = this.pc;
      if (!pc || data.gen !== this.gen) return; // an earlier attempt's
      if (!pc.remoteDescription) this.pending.push(data.candidate);
      else await pc.addIceCandidate(data.candidate).catch(() => {});
    }
  }

  async flush(pc) {
    const waiting = this.pending.splice(0);
    for (const candidate of waiting) {
      await pc.addIceCandidate(candidate).catch(() => {});
    }
  }

  /** A new RTCPeerConnection for generation `gen`, replacing the current one. */
  fresh(gen) {
    this.closePeerConnection();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    this.gen = gen;
    this.pending = [];
    if (this.localStream && this.localStream.getTracks().length) {
      for (const track of this.localStream.getTracks()) pc.addTrack(track, this.localStream);
    }
    // Without a camera or microphone the call still receives.
    const kinds = new Set((this.localStream?.getTracks() || []).map((track) => track.kind));
    for (const kind of ["audio", "video"]) {
      if (!kinds.has(kind) && this.offerer) pc.addTransceiver(kind, { direction: "recvonly" });
    }
    // Both sides open the same channel by id: nothing to negotiate, no one to wait for.
    const channel = pc.createDataChannel("peerview", { negotiated: true, id: 0 });
    channel.onmessage = (event) => {
      if (pc !== this.pc) return;
      try {
        this.onMessage(JSON.parse(event.data));
      } catch {
        // Not a message of ours.
      }
    };
    this.channel = channel;
    pc.onicecandidate = ({ candidate }) => {
      if (candidate && pc === this.pc) this.send("ice-candidate", { gen, candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track, streams }) => {
      if (pc !== this.pc) return;
      const stream = streams[0] || this.remoteStream || new MediaStream();
      if (!streams[0]) stream.addTrack(track);
      this.remoteStream = stream;
      this.onChange();
    };
    pc.onconnectionstatechange = () => {
      if (pc !== this.pc) return;
      this.watch(pc);
      this.onChange();
    };
    this.onChange();
    return pc;
  }

  /** Renegotiate a call that failed, or stayed interrupted for a few seconds. */
  watch(pc) {
    const state = pc.connectionState;
    if (state === "connected") {
      this.disarm("interrupted");
      this.disarm("unanswered");
      return;
    }
    if (state !== "disconnected" && state !== "failed") return;
    const wait = state === "failed" ? 0 : INTERRUPTED_MS;
    if (this.timers.interrupted) return;
    this.arm("interrupted", wait + (this.offerer ? 0 : INTERVIEWEE_EXTRA_MS), () => {
      if (this.pc !== pc || !["disconnected", "failed"].includes(pc.connectionState)) return;
      if (this.offerer) this.negotiate();
      else this.onStuck();
    });
  }

  arm(name, ms, fn) {
    this.disarm(name);
    this.timers[name] = setTimeout(() => {
      this.timers[name] = null;
      fn();
    }, ms);
  }

  disarm(name) {
    clearTimeout(this.timers[name]);
    this.timers[name] = null;
  }

  closePeerConnection() {
    this.disarm("interrupted");
    this.disarm("unanswered");
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.onicecandidate = null;
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      pc.close();
    }
    this.channel = null;
    this.remoteStream = null;
    this.gen = null;
    this.pending = [];
  }

  /** End the call for good: the connection closed, the camera and microphone released. */
  close() {
    this.closed = true;
    clearTimeout(this.timers.debounce);
    this.closePeerConnection();
    for (const track of this.localStream?.getTracks() || []) track.stop();
    this.localStream = null;
  }
}
