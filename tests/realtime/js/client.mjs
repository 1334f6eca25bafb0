// Peerview's Socket.IO server driven by the standard JavaScript client (socket.io-client v4).
// Usage: node client.mjs <url> <token> <session id>
// Prints one JSON line per step; answers the first offer it receives, then disconnects, or
// exits once the server has disconnected it.
import { io } from "socket.io-client";

const [url, token, sessionId] = process.argv.slice(2);
const say = (step, data) => console.log(JSON.stringify({ step, data }));
const socket = io(url, { auth: { token }, reconnection: false, timeout: 5000 });
const quit = (code) => {
  socket.close();
  setTimeout(() => process.exit(code), 50);
};
setTimeout(() => {
  say("timeout", null);
  quit(2);
}, 15000);

socket.on("connect_error", (error) => {
  say("refused", { message: error.message, data: error.data ?? null });
  quit(0);
});

socket.on("connect", async () => {
  say("connected", { transport: socket.io.engine.transport.name });
  const ack = await socket.timeout(5000).emitWithAck("join", { session_id: sessionId });
  say("joined", ack);
});

socket.on("presence", (event) => say("presence", event));

// The server ending this socket (its token no longer holds): why, then its disconnect.
socket.on("access_revoked", (notice) => say("access_revoked", notice));
socket.on("disconnect", (reason) => {
  say("disconnected", { reason });
  if (reason === "io server disconnect") quit(0);
});

socket.on("signal", async (signal) => {
  say("signal", signal);
  if (signal.type !== "offer") return;
  const ack = await socket.timeout(5000).emitWithAck("signal", {
    session_id: sessionId,
    type: "answer",
    data: { type: "answer", sdp: "v=0 answer from javascript" },
  });
  say("answered", ack);
  quit(0);
});
