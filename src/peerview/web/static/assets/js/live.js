// The realtime connection (docs/api.md §8): one Socket.IO socket per signed-in tab, opened
// with the token, and the server's pushes handed to whoever listens.

import { io } from "../vendor/socket.io.esm.min.js";
import { auth, onAuthChange, signOut } from "./api.js";

const handlers = new Map(); // event → Set of functions
let socket = null;
let socketToken = null;

const REVOKED = {
  logout: "You have logged out.",
  password_changed: "Your password was changed. Please log in again.",
  deactivated: "Your account has been deactivated.",
  expired: "Your session has expired. Please log in again.",
  revoked: "Your session has ended. Please log in again.",
};

function dispatch(event, data) {
  for (const fn of handlers.get(event) || []) {
    try {
      fn(data);
    } catch (error) {
      console.warn(error);
    }
  }
}

// The server's pushes handed on (docs/api.md §8.3), the code pad's and the practice
// interviewer's among them.
const PUSHES = [
  "session", "notification", "presence", "signal", "code_update", "code_awareness", "code_language",
  "practice_message", "practice_delta", "practice_feedback",
];

/**
 * Listen to a server event (one of PUSHES) or to the
 * connection's own (`connect`, `disconnect`, `state`); returns the function that stops it.
 */
export function on(event, fn) {
  if (!handlers.has(event)) handlers.set(event, new Set());
  handlers.get(event).add(fn);
  return () => handlers.get(event)?.delete(fn);
}

/** The connection's state: "connected", "connecting" or "offline". */
export function state() {
  if (!socket) return "offline";
  return socket.connected ? "connected" : "connecting";
}

/** Send `event` with `data` and resolve to its ack (`{ok, …}`), or `{ok: false, code}` on timeout. */
export async function call(event, data, timeoutMs = 8000) {
  const live = connect();
  try {
    return await live.timeout(timeoutMs).emitWithAck(event, data);
  } catch {
    return { ok: false, code: "TIMEOUT" };
  }
}

/** The socket, opened with the current token if it is not yet (null when signed out). */
export function connect() {
  if (!auth.token) return null;
  if (socket && socketToken === auth.token) return socket;
  disconnect();
  socketToken = auth.token;
  socket = io({ auth: { token: auth.token }, path: "/socket.io" });
  for (const event of PUSHES) {
    socket.on(event, (data) => dispatch(event, data));
  }
  socket.on("connect", () => {
    dispatch("connect");
    dispatch("state", "connected");
  });
  socket.on("disconnect", (reason) => {
    dispatch("disconnect", reason);
    dispatch("state", "connecting");
  });
  socket.on("connect_error", (error) => {
    const code = error?.data?.code;
    if (code === "INVALID_TOKEN" || code === "NOT_AUTHENTICATED") {
      signOut(REVOKED.revoked);
    }
    dispatch("state", "connecting");
  });
  socket.on("access_revoked", ({ reason }) => {
    signOut(REVOKED[reason] || REVOKED.revoked);
  });
  return socket;
}

export function disconnect() {
  if (socket) {
    socket.removeAllListeners();
    socket.disconnect();
    socket = null;
    socketToken = null;
    dispatch("state", "offline");
  }
}

onAuthChange(() => {
  if (auth.token) connect();
  else disconnect();
});
